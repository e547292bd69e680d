using System.Text;
using Ingot.Formats;
using Ingot.Runtime.Generation;
using Ingot.Runtime.Grammars;
using Ingot.Runtime.Sampling;
using Ingot.TestSupport;
using Xunit;

namespace Ingot.EndToEnd.Tests;

/// <summary>
/// Structured output on byte-level BPE golden models (StarCoder2's and Qwen2's tokenizers, Ġ-encoded bytes): a schema with
/// nested objects, an array, an enum, an integer range, a date and a pattern; temperature 1, 50 seeds; every output
/// parses as JSON and validates, and generation ends where the grammar does.
/// </summary>
public class StructuredOutputBpeTests
{
    private const string Schema = TestSchemas.Person;

    [Theory]
    [InlineData("starcoder2.f32", nameof(StarCoder2F32))]
    [InlineData("qwen2.f32", nameof(Qwen2F32))]
    public void FiftySeedsValidate(string model, string className)
    {
        using var file = GgufFile.Open(TestPaths.Require("golden", "models", model + ".gguf"));
        var codec = TokenizerCodec.FromGguf(file);
        using var m = GoldenFamilyTests.Create(className);
        m.Load(file, new InferenceOptions(ContextSize: 512, Threads: 1)); // RoPE models: past the golden files' trained 128
        var generator = new TextGenerator(m, codec);
        var grammar = JsonSchemaGrammar.FromSchema(Schema);
        var distinct = new HashSet<string>();
        for (int seed = 1; seed <= 50; seed++)
        {
            var text = new StringBuilder();
            var options = new GenerationOptions(400, SamplerOptions.Default with { Temperature = 1, Seed = (ulong)seed }) { Grammar = grammar, StopAtBos = false };
            var result = generator.Generate("Hello", options, t => text.Append(t));
            Assert.True(result.StopReason == StopReason.EndOfGeneration, $"{model} seed {seed}: {result.StopReason} after {result.GeneratedTokens} tokens: {text}");
            Assert.Null(SchemaValidator.Validate(Schema, text.ToString()));
            distinct.Add(text.ToString());
        }
        Assert.True(distinct.Count > 40, $"{distinct.Count} distinct outputs");
    }
}
