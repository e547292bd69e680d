using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Ingot.Generators.Tests;

public class IncrementalTests
{
    private static readonly string SpecPath = Path.Combine(GeneratorHarness.RepoRoot(), "modelspecs", "stories260K.json");

    private static IEnumerable<IncrementalStepRunReason> OutputReasons(GeneratorDriverRunResult run, string step) =>
        run.Results.Single().TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason);

    [Fact]
    public void UnrelatedSourceEditIsCached()
    {
        var compilation = GeneratorHarness.Compilation(GeneratorHarness.ClassFor("stories260K", "Stories"), "namespace Other; public class A { }");
        var driver = GeneratorHarness.Driver(new[] { new InMemoryAdditionalText(SpecPath, File.ReadAllText(SpecPath)) });
        driver = driver.RunGenerators(compilation);
        var first = driver.GetRunResult();
        Assert.Equal(3, first.Results.Single().GeneratedSources.Length);

        // Edit the unrelated file only.
        var tree = compilation.SyntaxTrees.Last();
        var edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText("namespace Other; public class A { public int B; }", GeneratorHarness.ParseOptions, tree.FilePath));
        driver = driver.RunGenerators(edited);
        var second = driver.GetRunResult();

        Assert.All(OutputReasons(second, ModelGenerator.Steps.Targets), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
        Assert.All(OutputReasons(second, ModelGenerator.Steps.Units), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
        Assert.NotEmpty(OutputReasons(second, ModelGenerator.Steps.Units));
        // And the output step itself did not run again.
        Assert.All(second.Results.Single().TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, o.Reason.ToString()));
    }

    [Fact]
    public void SpecEditRegenerates()
    {
        var compilation = GeneratorHarness.Compilation(GeneratorHarness.ClassFor("stories260K", "Stories"));
        string text = File.ReadAllText(SpecPath);
        var original = new InMemoryAdditionalText(SpecPath, text);
        var driver = GeneratorHarness.Driver(new[] { original });
        driver = driver.RunGenerators(compilation);
        string before = driver.GetRunResult().Results.Single().GeneratedSources.First(s => s.HintName.EndsWith(".Model.g.cs")).SourceText.ToString();

        var edited = new InMemoryAdditionalText(SpecPath, text.Replace("\"context_length\": 128", "\"context_length\": 256"));
        driver = driver.ReplaceAdditionalText(original, edited).RunGenerators(compilation);
        var run = driver.GetRunResult();
        Assert.Contains(IncrementalStepRunReason.Modified, OutputReasons(run, ModelGenerator.Steps.Specs));
        Assert.Contains(IncrementalStepRunReason.Modified, OutputReasons(run, ModelGenerator.Steps.Units));
        string after = run.Results.Single().GeneratedSources.First(s => s.HintName.EndsWith(".Model.g.cs")).SourceText.ToString();
        Assert.Contains("public const int ContextLength = 128;", before);
        Assert.Contains("public const int ContextLength = 256;", after);
    }

    [Fact]
    public void WhitespaceOnlySpecEditDoesNotRegenerate()
    {
        // The parsed spec is value-equal and the embedded spec JSON is its canonical form, so a formatting edit stops at the spec step.
        var compilation = GeneratorHarness.Compilation(GeneratorHarness.ClassFor("stories260K", "Stories"));
        string text = File.ReadAllText(SpecPath);
        var original = new InMemoryAdditionalText(SpecPath, text);
        var driver = GeneratorHarness.Driver(new[] { original }).RunGenerators(compilation);
        driver = driver.ReplaceAdditionalText(original, new InMemoryAdditionalText(SpecPath, text + "\n")).RunGenerators(compilation);
        Assert.All(OutputReasons(driver.GetRunResult(), ModelGenerator.Steps.Units), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
    }
}
