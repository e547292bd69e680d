using Ingot.Formats;

namespace Ingot.Quants.Tests;

/// <summary>Reads ../shared/golden/kernels in place (found by walking up to Compiler.sln). Missing data fails loudly.</summary>
internal static class Golden
{
    public const int Rows = 4, Cols = 512;

    /// <summary>The repository root (the directory holding Compiler.sln).</summary>
    public static string RepoRoot => Root.Value;

    private static readonly Lazy<string> Root = new(() =>
    {
        // Walk up from the test binaries; with INGOT_ARTIFACTS they live outside the repo, so fall back to the
        // working directory and to the repo root recorded at build time (assembly metadata IngotRepoRoot).
        string? recorded = typeof(Golden).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "IngotRepoRoot")?.Value;
        DirectoryInfo? d = null;
        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory, recorded ?? "" })
        {
            if (start.Length == 0) continue;
            d = new DirectoryInfo(start);
            while (d != null && !File.Exists(Path.Combine(d.FullName, "Compiler.sln"))) d = d.Parent;
            if (d != null) break;
        }
        if (d == null) throw new InvalidOperationException($"Compiler.sln not found above {AppContext.BaseDirectory}, the working directory or {recorded}");
        return d.FullName;
    });

    private static readonly Lazy<string> Dir = new(() =>
    {
        string dir = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "golden", "kernels"));
        if (!Directory.Exists(dir)) throw new InvalidOperationException($"golden kernel data missing: {dir}");
        return dir;
    });

    /// <summary>ggml's file-name spelling of a type (q4_K, not q4_k).</summary>
    public static string FileName(GgmlType t) => t switch
    {
        GgmlType.Q2_K => "q2_K", GgmlType.Q3_K => "q3_K", GgmlType.Q4_K => "q4_K", GgmlType.Q5_K => "q5_K",
        GgmlType.Q6_K => "q6_K", GgmlType.Q8_K => "q8_K",
        _ => GgmlTypeTraits.Name(t),
    };

    public static string PathOf(GgmlType t, string suffix) => Path.Combine(Dir.Value, FileName(t) + "." + suffix);

    public static byte[] Bytes(GgmlType t, string suffix)
    {
        string path = PathOf(t, suffix);
        if (!File.Exists(path)) throw new FileNotFoundException($"golden file missing: {path}", path);
        return File.ReadAllBytes(path);
    }

    public static float[] Floats(GgmlType t, string suffix)
    {
        byte[] b = Bytes(t, suffix);
        var f = new float[b.Length / 4];
        Buffer.BlockCopy(b, 0, f, 0, f.Length * 4);
        return f;
    }

    /// <summary>The 14 weight types with golden data (F32 has none).</summary>
    public static IEnumerable<object[]> WeightTypes() =>
        new[] { GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
                GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS }
            .Select(t => new object[] { t });
}
