using System.Reflection;

namespace Ingot.Tokenizers.Tests;

/// <summary>Where the shared read-only test data lives: ../shared beside the repository.</summary>
internal static class TestPaths
{
    /// <summary>
    /// The build stamps the repository root into the assembly (AssemblyMetadata "IngotRepoRoot"), since bin/obj may live
    /// elsewhere (INGOT_ARTIFACTS). A missing ../shared fails the test with the path it looked for.
    /// </summary>
    public static string Shared { get; } = FindShared();

    /// <summary>A file under ../shared, or a clear failure naming it.</summary>
    public static string Require(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException("shared test file missing: " + path);

    private static string FindShared()
    {
        string root = typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "IngotRepoRoot").Value!;
        string shared = Path.GetFullPath(Path.Combine(root, "..", "shared"));
        if (!Directory.Exists(shared)) throw new InvalidOperationException("../shared is missing beside the repository: " + shared);
        return shared;
    }
}
