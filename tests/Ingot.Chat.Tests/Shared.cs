using System.Reflection;

namespace Ingot.Chat.Tests;

/// <summary>Locates ../shared beside the repository (the directory holding Compiler.sln).</summary>
internal static class Shared
{
    private static readonly Lazy<string> Root = new(Find);

    public static string Dir => Root.Value;

    public static string GoldenChat => Path.Combine(Dir, "golden", "chat");

    private static string Find()
    {
        // Walk up from the test binaries; with INGOT_ARTIFACTS they live outside the repo, so fall back to the
        // repository root the build stamped into the assembly.
        var candidates = new List<string>();
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent) candidates.Add(d.FullName);
        string? stamped = typeof(Shared).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "IngotRepoRoot")?.Value;
        if (!string.IsNullOrEmpty(stamped)) candidates.Add(stamped);
        foreach (var c in candidates)
        {
            if (!File.Exists(Path.Combine(c, "Compiler.sln"))) continue;
            string shared = Path.GetFullPath(Path.Combine(c, "..", "shared"));
            if (!Directory.Exists(shared)) throw new InvalidOperationException($"found {c}/Compiler.sln but no ../shared beside it ({shared})");
            return shared;
        }
        throw new InvalidOperationException("cannot find the repository (a directory with Compiler.sln) above " + AppContext.BaseDirectory +
                                            " or at the stamped IngotRepoRoot '" + stamped + "'; the chat goldens live in ../shared/golden/chat");
    }
}
