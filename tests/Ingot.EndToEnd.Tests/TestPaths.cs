using System.Text.Json;

namespace Ingot.EndToEnd.Tests;

/// <summary>Shared data is read in place: repo root = the directory above the test binaries holding Compiler.sln; shared = root/../shared.</summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Shared => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    private static string FindRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            var dir = new DirectoryInfo(start);
            while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Compiler.sln"))) dir = dir.Parent;
            if (dir != null) return dir.FullName;
        }
        // Artifacts may live outside the repo (INGOT_ARTIFACTS); this source file is inside it.
        var src = new DirectoryInfo(SourceDir());
        while (src != null && !File.Exists(Path.Combine(src.FullName, "Compiler.sln"))) src = src.Parent;
        return src?.FullName ?? throw new InvalidOperationException("Compiler.sln not found above " + AppContext.BaseDirectory);
    }

    private static string SourceDir([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    /// <summary>A shared file that must exist: a missing one fails the test with its path.</summary>
    public static string Require(params string[] parts)
    {
        string path = Path.Combine(new[] { Shared }.Concat(parts).ToArray());
        if (!File.Exists(path)) throw new FileNotFoundException("shared test data missing: " + path, path);
        return path;
    }

    /// <summary>`int32 rows, int32 cols, float32[rows][cols]` (golden/ref/*.bin).</summary>
    public static float[,] ReadMatrix(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int rows = BitConverter.ToInt32(bytes, 0), cols = BitConverter.ToInt32(bytes, 4);
        if (bytes.Length != 8 + 4L * rows * cols) throw new InvalidDataException(path + ": " + bytes.Length + " bytes, expected " + (8 + 4L * rows * cols));
        var m = new float[rows, cols];
        Buffer.BlockCopy(bytes, 8, m, 0, 4 * rows * cols);
        return m;
    }

    /// <summary>Raw float32 [rows][cols], no header (llama2c testvectors).</summary>
    public static float[,] ReadRaw(string path, int rows, int cols)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length != 4L * rows * cols) throw new InvalidDataException(path + ": " + bytes.Length + " bytes, expected " + (4L * rows * cols));
        var m = new float[rows, cols];
        Buffer.BlockCopy(bytes, 0, m, 0, bytes.Length);
        return m;
    }

    public static JsonDocument Json(string path) => JsonDocument.Parse(File.ReadAllText(path));

    public static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
