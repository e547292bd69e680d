namespace Ingot.Cli.Building;

/// <summary>Finds the Ingot source tree the host project compiles from (the directory holding Compiler.sln).</summary>
public static class RepoLocator
{
    /// <summary>$INGOT_REPO if set, else walk up from the ingot assembly (and then the working directory) to Compiler.sln.</summary>
    public static string Find()
    {
        string? env = Environment.GetEnvironmentVariable("INGOT_REPO");
        if (!string.IsNullOrEmpty(env))
        {
            if (File.Exists(Path.Combine(env, "Compiler.sln"))) return Path.GetFullPath(env);
            throw new DirectoryNotFoundException($"INGOT_REPO={env} does not contain Compiler.sln");
        }
        // The tool usually runs from an artifacts tree outside the repo (INGOT_ARTIFACTS), so the compile-time path
        // of this very file is tried too: it is where the sources were when ingot was built.
        foreach (string start in new[] { AppContext.BaseDirectory, CompiledFrom(), Environment.CurrentDirectory })
        {
            if (string.IsNullOrEmpty(start)) continue;
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Compiler.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException("cannot find the Ingot source tree (Compiler.sln) above the ingot tool; set INGOT_REPO");
    }

    private static string CompiledFrom([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        string.IsNullOrEmpty(path) ? "" : Path.GetDirectoryName(path) ?? "";
}
