using System.Buffers.Binary;
using Ingot.Cli.Building;
using Ingot.Formats;
using Ingot.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.Host.Tests;

[CompiledModel("bert-synth-q8_0")]
public partial class BertSynthQ8_0 { }

[CompiledModel("bert-synth-q4_k")]
public partial class BertSynthQ4_K { }

/// <summary>
/// Quantized encoders against llama.cpp: a synth BERT (dim 256, 4 heads, 2 layers, ffn 512) with Q8_0 and with Q4_K
/// matrices, quantized by Ingot's ggml-identical reference quantizer, and llama.cpp c392e50's hidden states of the same
/// files (TestData/bert-synth-TYPE.llama-cpp.bin, from tests/differential/dumpembd.cpp MODEL "1 17 33 250 2 299 5 64"
/// none OUT after `ingot synth --arch bert --dim 256 --layers 2 --heads 4 --ffn 512 --vocab 300 --ctx 32 --norm-eps 1e-12
/// --seed 13 --type TYPE`). The activations are quantized as llama.cpp does before every matmul, so the rows agree to
/// the bit (the tolerance is the golden README's 1e-3 for quantized models).
/// </summary>
public class QuantizedBertTests(ITestOutputHelper output)
{
    private static readonly int[] Tokens = [1, 17, 33, 250, 2, 299, 5, 64];

    public static TheoryData<string> Types => new() { "q8_0", "q4_k" };

    [Theory]
    [MemberData(nameof(Types))]
    public void HiddenStatesMatchLlamaCpp(string type)
    {
        Assert.True(GgmlTypeTraits.TryParse(type, out var ggml));
        string path = Path.Combine(Path.GetTempPath(), $"bert-{type}-{Environment.ProcessId}.gguf");
        try
        {
            var o = new SynthOptions
            {
                Architecture = "bert", Name = "bert-synth-" + type, Dim = 256, Layers = 2, Heads = 4, FfnDim = 512, VocabSize = 300, ContextLength = 32,
                NormEpsilon = 1e-12f, Seed = 13, Type = ggml,
            };
            var spec = SynthModel.Write(path, o, Cli.Commands.SynthCommand.QuantizeRow);
            IEncoder model = type == "q8_0" ? new BertSynthQ8_0() : new BertSynthQ4_K();
            using (model)
            {
                Assert.Equal(model.Description.SpecJson, Specs.SpecWriter.Write(spec));
                using var file = GgufFile.Open(path);
                model.Load(file, new InferenceOptions(Threads: 2));
                var hidden = new float[Tokens.Length * model.HiddenSize];
                model.Encode(Tokens, hidden);
                byte[] reference = File.ReadAllBytes(Path.Combine(TestPaths.Repo, "tests", "Ingot.Host.Tests", "TestData", $"bert-synth-{type}.llama-cpp.bin"));
                Assert.Equal(Tokens.Length, BinaryPrimitives.ReadInt32LittleEndian(reference));
                Assert.Equal(model.HiddenSize, BinaryPrimitives.ReadInt32LittleEndian(reference.AsSpan(4)));
                float maxAbs = 0;
                for (int i = 0; i < hidden.Length; i++)
                    maxAbs = Math.Max(maxAbs, Math.Abs(hidden[i] - BinaryPrimitives.ReadSingleLittleEndian(reference.AsSpan(8 + 4 * i))));
                output.WriteLine($"{type}: max-abs {maxAbs:E3} over {Tokens.Length}x{model.HiddenSize}");
                Assert.True(maxAbs <= 1e-3f, $"{type}: max-abs {maxAbs}");
            }
        }
        finally { File.Delete(path); }
    }
}
