using Xunit;
using System.Text;

namespace Ingot.Generators.Tests;

/// <summary>Every spec the snapshot and compile tests cover: modelspecs/*.json, then this project's TestSpecs/*.json (a name in both: modelspecs wins).</summary>
public static class SpecCatalog
{
    public sealed record SpecFile(string Name, string Path, string Source);

    public static IReadOnlyList<SpecFile> All()
    {
        var list = new List<SpecFile>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string modelspecs = System.IO.Path.Combine(GeneratorHarness.RepoRoot(), "modelspecs");
        string testSpecs = System.IO.Path.Combine(GeneratorHarness.TestDirectory(), "TestSpecs");
        foreach (var (dir, source) in new[] { (modelspecs, "modelspecs"), (testSpecs, "TestSpecs") })
        {
            if (!Directory.Exists(dir)) continue;
            foreach (var file in Directory.GetFiles(dir, "*.json").OrderBy(f => f, StringComparer.Ordinal))
            {
                string name = System.IO.Path.GetFileNameWithoutExtension(file);
                if (seen.Add(name)) list.Add(new SpecFile(name, file, source));
            }
        }
        return list;
    }

    /// <summary>
    /// The specs whose generated files are snapshot-tested: one per family, plus the specs that exercise something no
    /// other does — every weight type's kernel (llama-gqa-all-types), K-quant layer overrides grouped into layer kinds
    /// (llama-gqa-q4_k_m, mixed-overrides), and a sliding window on every layer (phi3-swa-f32). A reviewer reads each kind
    /// of change once. Every spec still compiles without warnings and generates deterministically (the other tests).
    /// </summary>
    public static readonly string[] Snapshotted =
    [
        "stories260K", "llama-gqa-all-types", "llama-gqa-q4_k_m", "mixed-overrides",
        "qwen2-f32", "phi3-f32", "phi3-swa-f32", "gemma-f32", "gemma2-f32", "granite-f32", "gpt2-f32", "gptneox-f32", "starcoder2-f32", "ernie4_5-tiny", "bert-f32", "bert-synth-rank", "t5-f32",
    ];

    public static TheoryData<string> SnapshotNames()
    {
        var data = new TheoryData<string>();
        foreach (var n in Snapshotted) data.Add(n);
        return data;
    }

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var s in All()) data.Add(s.Name);
        return data;
    }

    public static SpecFile Get(string name) => All().Single(s => s.Name == name);

    /// <summary>"llama-gqa-f32" → "LlamaGqaF32" (what a user might call the class).</summary>
    public static string ClassName(string specName)
    {
        var sb = new StringBuilder();
        bool upper = true;
        foreach (char c in specName)
        {
            if (!char.IsLetterOrDigit(c)) { upper = true; continue; }
            sb.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }
        if (sb.Length == 0 || char.IsDigit(sb[0])) sb.Insert(0, 'M');
        return sb.ToString();
    }
}
