using System.ComponentModel.DataAnnotations;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ingot.Formats;
using Ingot.Runtime;
using Ingot.Runtime.Generation;
using Ingot.Runtime.Sampling;
using Ingot.TestSupport;
using Xunit;

namespace Ingot.EndToEnd.Tests;

/// <summary>The grammar of <see cref="Person"/>, made by the generator at build time.</summary>
[JsonOutput(typeof(Person))]
public static partial class BuildTimeGrammars { }

/// <summary>
/// A grammar compiled from a C# record at build time ([JsonOutput]), used for generation on stories260K (SentencePiece)
/// and StarCoder2's byte-level BPE golden model at temperature 1 with 50 seeds: every output validates against the
/// schema the generator derived (an independent validator), deserializes with System.Text.Json, and passes the record's
/// DataAnnotations; generation ends where the grammar does.
/// </summary>
public class BuildTimeGrammarTests
{
    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    [Theory]
    [InlineData("models/gguf/stories260K-f32.gguf", nameof(Stories260K), "Once upon a time")]
    [InlineData("golden/models/starcoder2.f32.gguf", nameof(StarCoder2F32), "Hello")]
    public void FiftySeedsOfABuildTimeGrammarDeserializeAndValidate(string path, string className, string prompt)
    {
        using var file = GgufFile.Open(TestPaths.Require(path.Split('/')));
        var codec = TokenizerCodec.FromGguf(file);
        using var model = className == nameof(Stories260K) ? new Stories260K() : GoldenFamilyTests.Create(className);
        model.Load(file, new InferenceOptions(ContextSize: 512, Threads: 1));
        var generator = new TextGenerator(model, codec);
        var distinct = new HashSet<string>();
        for (int seed = 1; seed <= 50; seed++)
        {
            var text = new StringBuilder();
            var options = new GenerationOptions(480, SamplerOptions.Default with { Temperature = 1, Seed = (ulong)seed }) { Grammar = BuildTimeGrammars.PersonGrammar, StopAtBos = false };
            var result = generator.Generate(prompt, options, t => text.Append(t));
            Assert.True(result.StopReason == StopReason.EndOfGeneration, $"seed {seed}: stopped by {result.StopReason} after {result.GeneratedTokens} tokens: {text}");
            Assert.Null(SchemaValidator.Validate(BuildTimeGrammars.PersonSchema, text.ToString()));
            var person = JsonSerializer.Deserialize<Person>(text.ToString(), Json)!;
            foreach (object o in new object[] { person, person.Home })
            {
                try { Validator.ValidateObject(o, new ValidationContext(o), validateAllProperties: true); }
                catch (ValidationException e) { throw new Xunit.Sdk.XunitException($"seed {seed}: {e.Message} in {text}"); }
            }
            distinct.Add(text.ToString());
        }
        Assert.True(distinct.Count > 40, $"{distinct.Count} distinct outputs of 50");
    }
}
