using Ingot.Formats;
using Ingot.Runtime;
using Ingot.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.EndToEnd.Tests;

/// <summary>
/// Hugging Face folders through the compiled models. Each golden GGUF is written as the equivalent HF folder (config.json,
/// safetensors with HF names and layouts, tokenizer; Ingot.TestSupport's HfFolderWriter, the inverse of the importer),
/// imported, written back as GGUF and run by the family's compiled class: its logits equal the golden file's bit for bit.
/// And ERNIE 4.5 from its config alone: the same logits as its llama-architecture twin.
/// </summary>
public class HfFamilyTests(ITestOutputHelper output)
{
    private static readonly int[] Tokens = new[] { 1 }.Concat(Enumerable.Range(300, 15)).ToArray();
    private static readonly string Tmp = Ingot.TestSupport.TestTemp.Directory("ingot-hf-family");

    public static TheoryData<string, string> Families => new()
    {
        { "llama-gqa.f32", nameof(LlamaGqaF32) },
        { "llama-mqa-l3.f32", nameof(LlamaMqaL3F32) },
        { "qwen2.f32", nameof(Qwen2F32) },
        { "phi3.f32", nameof(Phi3F32) },
        { "phi3-swa.f32", nameof(Phi3SwaF32) },
        { "gemma.f32", nameof(GemmaF32) },
        { "gemma.f16", nameof(GemmaF16) },
        { "gemma2.f32", nameof(Gemma2F32) },
        { "granite.f32", nameof(GraniteF32) },
        { "gpt2.f32", nameof(Gpt2F32) },
        { "gptneox.f32", nameof(GptNeoXF32) },
        { "starcoder2.f32", nameof(StarCoder2F32) },
    };

    private static ICompiledModel Create(string className) => GoldenFamilyTests.Create(className);

    private static float[] Logits(ICompiledModel m, string gguf)
    {
        using var file = GgufFile.Open(gguf);
        m.Load(file, new InferenceOptions(ContextSize: 32));
        var logits = new float[Tokens.Length * m.VocabSize];
        m.Prefill(Tokens, logits);
        return logits;
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void HfFolderGivesTheSameLogitsAsTheGguf(string model, string className)
    {
        string golden = TestPaths.Require("golden", "models", model + ".gguf");
        string dir = Path.Combine(Tmp, model);
        using (var g = GgufFile.Open(golden)) HfFolderWriter.Write(g, dir);
        string imported = Path.Combine(Tmp, model + ".imported.gguf");
        using (var m = ModelImporter.Import(dir, name: model.Replace('.', '-'))) m.WriteGguf(imported);

        using var compiled = Create(className);
        var expected = Logits(compiled, golden);
        var actual = Logits(compiled, imported);
        Assert.Equal(expected, actual);
        output.WriteLine($"{model}: HF folder → GGUF → {className}: {actual.Length} logits identical");
    }

    [Fact]
    public void ErnieFromItsConfigAloneMatchesItsLlamaTwin()
    {
        string dir = Path.Combine(Tmp, "ernie");
        ErnieFolderWriter.Write(dir, TestPaths.Require("models", "hf", "stories260K-llama", "tokenizer.model"));
        string ernie = Path.Combine(Tmp, "ernie.gguf"), twin = Path.Combine(Tmp, "ernie-twin.gguf");
        using (var m = ModelImporter.Import(dir, name: "ernie4_5-tiny"))
        {
            // The compiled spec is exactly what importing the folder writes.
            string committed = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests", "Ingot.Generators.Tests", "TestSpecs", "ernie4_5-tiny.json"));
            Assert.Equal(committed, ModelSpecJson.Serialize(m.Spec));
            m.WriteGguf(ernie);
        }
        LlamaTwinWriter.Write(dir, twin);

        using var e = new Ernie45Tiny();
        using var l = new Ernie45TinyLlamaTwin();
        var ernieLogits = Logits(e, ernie);
        var twinLogits = Logits(l, twin);
        Assert.Equal(twinLogits, ernieLogits);
        Assert.Contains(ernieLogits, v => v != 0);
        output.WriteLine($"ernie4_5 and its llama twin: {ernieLogits.Length} logits identical");
    }
}
