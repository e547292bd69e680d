using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Text;
using Ingot.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace Ingot.Generators.Tests;

/// <summary>An AdditionalFile held in memory.</summary>
public sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
{
    public override string Path { get; } = path;
    public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text, Encoding.UTF8);
}

/// <summary>Runs the generator in-process over a small compilation, the way the compiler would.</summary>
public static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        var refs = new List<MetadataReference>();
        var tpa = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (var path in tpa) refs.Add(MetadataReference.CreateFromFile(path));
        // Runtime and Formats come from the test's output folder (they are project references).
        foreach (var asm in new[] { typeof(Ingot.Runtime.ICompiledModel).Assembly, typeof(Ingot.Formats.GgufFile).Assembly })
        {
            if (!tpa.Any(p => string.Equals(Path.GetFileName(p), Path.GetFileName(asm.Location), StringComparison.OrdinalIgnoreCase)))
                refs.Add(MetadataReference.CreateFromFile(asm.Location));
        }
        return refs.ToImmutableArray();
    });

    public static CSharpCompilation Compilation(params string[] sources) =>
        CSharpCompilation.Create(
            "Ingot.GeneratedModelTest",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: "Source" + i + ".cs")),
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable,
                deterministic: true));

    public static GeneratorDriver Driver(IEnumerable<AdditionalText> additionalTexts, bool track = true) =>
        CSharpGeneratorDriver.Create(
            new[] { new ModelGenerator().AsSourceGenerator() },
            additionalTexts,
            ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: track));

    public static string ClassFor(string specName, string className = "TestModel", string ns = "Ingot.Tests.Models") =>
        "using Ingot;\n\nnamespace " + ns + ";\n\n[CompiledModel(\"" + specName + "\")]\npublic partial class " + className + " { }\n";

    /// <summary>Runs the generator; returns the run result and the updated compilation.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(string source, params AdditionalText[] specs)
    {
        var compilation = Compilation(source);
        var driver = Driver(specs).RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return (driver.GetRunResult(), output);
    }

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Compiler.sln"))) dir = dir.Parent;
        if (dir != null) return dir.FullName;
        // Artifacts outside the repo (INGOT_ARTIFACTS): fall back to the source location of this file.
        return RepoRootFromSource();
    }

    private static string RepoRootFromSource([CallerFilePath] string path = "")
    {
        var dir = new DirectoryInfo(Path.GetDirectoryName(path)!);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Compiler.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Compiler.sln not found above " + path);
    }

    public static string TestDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
