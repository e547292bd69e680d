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
