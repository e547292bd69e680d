namespace Ingot.Formats.Tests;

/// <summary>Locates /work/shared relative to the repo (the directory holding Compiler.sln) and a scratch directory.</summary>
internal static class Shared
{
    private static readonly Lazy<string> Repo = new(() =>
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(System.IO.Path.Combine(d.FullName, "Compiler.sln")))
                return d.FullName;
        // Artifacts may live outside the repo (INGOT_ARTIFACTS): fall back to $INGOT_REPO, then this source file's location.
        foreach (string? start in new[] { Environment.GetEnvironmentVariable("INGOT_REPO"), SourceDir() })
            for (var d = start is null ? null : new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(System.IO.Path.Combine(d.FullName, "Compiler.sln")))
                    return d.FullName;
        throw new InvalidOperationException("cannot find Compiler.sln above " + AppContext.BaseDirectory);
    });

    private static readonly Lazy<string> Root = new(() => System.IO.Path.GetFullPath(System.IO.Path.Combine(Repo.Value, "..", "shared")));

    /// <summary>The checkout these tests were built from (the directory holding Compiler.sln).</summary>
    public static string RepoRoot => Repo.Value;

    private static string? SourceDir([System.Runtime.CompilerServices.CallerFilePath] string file = "") =>
        string.IsNullOrEmpty(file) ? null : System.IO.Path.GetDirectoryName(file);

    /// <summary>A shared file; fails the test clearly if it is absent.</summary>
    public static string File_(string relative)
    {
        string p = System.IO.Path.Combine(Root.Value, relative);
        if (!File.Exists(p) && !Directory.Exists(p)) throw new Xunit.Sdk.XunitException($"shared test file missing: {p}");
        return p;
    }

    public static string Dir => Root.Value;

    /// <summary>A directory for this test process's files (TestTemp: those of ended processes are removed).</summary>
    public static string TempDir(string name) =>
        Directory.CreateDirectory(System.IO.Path.Combine(Ingot.TestSupport.TestTemp.Directory("ingot-formats-tests"), name)).FullName;
}
