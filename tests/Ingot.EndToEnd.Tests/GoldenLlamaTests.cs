using Ingot.Formats;
using Ingot.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.EndToEnd.Tests;

/// <summary>
/// The llama-specific golden checks: the K-quant mixes judged by cosine and top-1, and how Load refuses a file that is not
/// the compiled spec. Prefill, decode and greedy against llama.cpp for every golden file (llama ones included) are
/// <see cref="GoldenFamilyTests"/>.
/// </summary>
public class GoldenLlamaTests(ITestOutputHelper output)
{
    private static readonly int[] Tokens = new[] { 1 }.Concat(Enumerable.Range(300, 15)).ToArray();

    /// <summary>llama-quantize's K mixes (Q4_K/Q5_K with Q6_K for output, layer-1 attn_v and ffn_down): judged by row cosine and top-1.</summary>
    public static TheoryData<string, string> KMixModels => new()
    {
        { "llama-gqa.q4_k_m", nameof(LlamaGqaQ4_K_M) },
        { "llama-gqa.q5_k_m", nameof(LlamaGqaQ5_K_M) },
    };

    private static ICompiledModel Create(string className) => GoldenFamilyTests.Create(className);

    [Theory]
    [MemberData(nameof(KMixModels))]
    public void KMixAgreesWithLlamaCppByCosineAndTop1(string model, string className)
    {
        var expected = TestPaths.ReadMatrix(TestPaths.Require("golden", "ref", model + ".logits.kvf32.bin"));
        using var file = GgufFile.Open(TestPaths.Require("golden", "models", model + ".gguf"));
        using var m = Create(className);
        m.Load(file, new InferenceOptions());
        int vocab = m.VocabSize;
        var logits = new float[Tokens.Length * vocab];
        m.Prefill(Tokens, logits);

        double minCos = 1;
        int top1 = 0;
        float maxAbs = 0;
        for (int t = 0; t < Tokens.Length; t++)
        {
            double dot = 0, a2 = 0, b2 = 0;
            int ours = 0, theirs = 0;
            for (int v = 0; v < vocab; v++)
            {
                float a = logits[t * vocab + v], b = expected[t, v];
                dot += (double)a * b; a2 += (double)a * a; b2 += (double)b * b;
                if (a > logits[t * vocab + ours]) ours = v;
                if (b > expected[t, theirs]) theirs = v;
                maxAbs = Math.Max(maxAbs, Math.Abs(a - b));
            }
            minCos = Math.Min(minCos, dot / Math.Sqrt(a2 * b2));
            if (ours == theirs) top1++;
        }
        output.WriteLine($"{model}: min row cosine {minCos:F7}, top-1 {top1}/16, max-abs {maxAbs:E3}; ISA {m.Description.IsaPathInUse}");
        Assert.True(minCos >= 0.9996, $"{model}: min row cosine {minCos}");
        Assert.True(top1 >= 15, $"{model}: top-1 agrees on {top1} of 16 rows");
    }

    [Fact]
    public void ContextOverflowIsAClearError()
    {
        using var file = GgufFile.Open(TestPaths.Require("golden", "models", "llama-gqa.f32.gguf"));
        using var m = new LlamaGqaF32();
        m.Load(file, new InferenceOptions(ContextSize: 8));
        Assert.Equal(8, m.ContextSize);
        var logits = new float[LlamaGqaF32.VocabSize];
        m.Prefill(Tokens.AsSpan(0, 8), logits);
        var ex = Assert.Throws<ContextOverflowException>(() => m.Decode(5, logits));
        Assert.Contains("8", ex.Message);
        Assert.Contains("--ctx", ex.Message);
    }

    [Fact]
    public void WrongQuantTypeIsRejectedWithTheTensorName()
    {
        using var file = GgufFile.Open(TestPaths.Require("golden", "models", "llama-gqa.q8_0.gguf"));
        using var m = new LlamaGqaF32();
        var ex = Assert.Throws<WeightMismatchException>(() => m.Load(file, new InferenceOptions()));
        Assert.Equal("token_embd.weight: type q8_0 in the file, f32 in the compiled spec", ex.Message);
    }

    [Fact]
    public void WrongHyperparametersAreRejected()
    {
        using var file = GgufFile.Open(TestPaths.Require("golden", "models", "llama-gqa.f32.gguf"));
        using var m = new Stories260K();
        var ex = Assert.Throws<WeightMismatchException>(() => m.Load(file, new InferenceOptions()));
        Assert.Equal("llama.embedding_length: 256 in the file, 64 compiled", ex.Message);
    }

    [Fact]
    public void DescriptionEmbedsTheSpec()
    {
        using var m = new LlamaGqaQ8_0();
        var d = m.Description;
        Assert.Equal("llama-gqa-q8_0", d.Name);
        Assert.Equal("llama", d.Architecture);
        Assert.Contains("\"attn_q\": \"q8_0\"", d.SpecJson);
        Assert.Equal(1024, d.VocabSize);
        Assert.Contains("scalar", d.IsaPathsCompiled);
        Assert.Contains(d.IsaPathInUse, d.IsaPathsCompiled);
        Assert.Equal(256, LlamaGqaQ8_0.Dim);
        Assert.Equal(2, LlamaGqaQ8_0.HeadGroup);
    }
}
