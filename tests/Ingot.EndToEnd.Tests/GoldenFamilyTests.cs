using System.Text.Json;
using Ingot.Formats;
using Ingot.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.EndToEnd.Tests;

/// <summary>
/// Every decoder family of ../shared/golden against llama.cpp: all 16 rows of the prefill logits against
/// ref/*.logits.kvf32.bin (F32 KV cache) within the tolerances of golden/README.md, the same rows decoded one token at a
/// time, and the 16-token greedy continuation against the manifest's F32-KV ids up to the first near-tie (a step whose
/// top-1/top-2 margin is below the tolerance).
/// </summary>
public class GoldenFamilyTests(ITestOutputHelper output)
{
    private static readonly int[] Tokens = new[] { 1 }.Concat(Enumerable.Range(300, 15)).ToArray();

    /// <summary>Golden file, compiled class, max-abs tolerance (README: 1e-4 F32 SiLU, 2e-3 F32 GELU, 1e-2 gemma2 and F16).</summary>
    public static TheoryData<string, string, float> Models => new()
    {
        { "llama-gqa.f32", nameof(LlamaGqaF32), 1e-4f },
        { "llama-mqa-l3.f32", nameof(LlamaMqaL3F32), 1e-4f },
        { "llama-gqa.f16", nameof(LlamaGqaF16), 1e-2f },
        { "llama-gqa.q8_0", nameof(LlamaGqaQ8_0), 1e-3f },
        { "llama-gqa.q6_k", nameof(LlamaGqaQ6_K), 1e-3f },
        { "llama-gqa.q4_0", nameof(LlamaGqaQ4_0), 1e-3f },
        { "qwen2.f32", nameof(Qwen2F32), 1e-4f },
        { "phi3.f32", nameof(Phi3F32), 1e-4f },
        { "phi3-swa.f32", nameof(Phi3SwaF32), 1e-4f },
        { "granite.f32", nameof(GraniteF32), 1e-4f },
        { "gemma.f32", nameof(GemmaF32), 2e-3f },
        { "gpt2.f32", nameof(Gpt2F32), 2e-3f },
        { "gptneox.f32", nameof(GptNeoXF32), 2e-3f },
        { "starcoder2.f32", nameof(StarCoder2F32), 2e-3f },
        { "gemma2.f32", nameof(Gemma2F32), 1e-2f },
        { "gemma.f16", nameof(GemmaF16), 1e-2f },
    };

    internal static ICompiledModel Create(string className) => className switch
    {
        nameof(LlamaGqaF32) => new LlamaGqaF32(),
        nameof(LlamaMqaL3F32) => new LlamaMqaL3F32(),
        nameof(LlamaGqaF16) => new LlamaGqaF16(),
        nameof(LlamaGqaQ8_0) => new LlamaGqaQ8_0(),
        nameof(LlamaGqaQ6_K) => new LlamaGqaQ6_K(),
        nameof(LlamaGqaQ4_0) => new LlamaGqaQ4_0(),
        nameof(LlamaGqaQ4_K_M) => new LlamaGqaQ4_K_M(),
        nameof(LlamaGqaQ5_K_M) => new LlamaGqaQ5_K_M(),
        nameof(Stories260KQ4_0) => new Stories260KQ4_0(),
        nameof(Stories260K) => new Stories260K(),
        nameof(Stories260KF16) => new Stories260KF16(),
        nameof(Stories260KQ8_0) => new Stories260KQ8_0(),
        nameof(Qwen2F32) => new Qwen2F32(),
        nameof(Phi3F32) => new Phi3F32(),
        nameof(Phi3SwaF32) => new Phi3SwaF32(),
        nameof(GraniteF32) => new GraniteF32(),
        nameof(GemmaF32) => new GemmaF32(),
        nameof(GemmaF16) => new GemmaF16(),
        nameof(Gemma2F32) => new Gemma2F32(),
        nameof(Gpt2F32) => new Gpt2F32(),
        nameof(GptNeoXF32) => new GptNeoXF32(),
        nameof(StarCoder2F32) => new StarCoder2F32(),
        _ => throw new ArgumentException(className),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void PrefillMatchesLlamaCpp(string model, string className, float tolerance)
    {
        var expected = TestPaths.ReadMatrix(TestPaths.Require("golden", "ref", model + ".logits.kvf32.bin"));
        using var file = GgufFile.Open(TestPaths.Require("golden", "models", model + ".gguf"));
        using var m = Create(className);
        m.Load(file, new InferenceOptions(ContextSize: 64));
        var logits = new float[Tokens.Length * m.VocabSize];
        m.Prefill(Tokens, logits);
        float maxAbs = MaxAbs(logits, expected, Tokens.Length);
        output.WriteLine($"{model}: prefill max-abs {maxAbs:E3} over {Tokens.Length}x{m.VocabSize} logits (tolerance {tolerance:E0})");
        Assert.True(maxAbs <= tolerance, $"{model}: max-abs {maxAbs} > {tolerance}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void DecodeOneByOneMatchesLlamaCpp(string model, string className, float tolerance)
    {
        var expected = TestPaths.ReadMatrix(TestPaths.Require("golden", "ref", model + ".logits.kvf32.bin"));
        using var file = GgufFile.Open(TestPaths.Require("golden", "models", model + ".gguf"));
        using var m = Create(className);
        m.Load(file, new InferenceOptions(ContextSize: 64, Threads: 2));
        var rows = new float[Tokens.Length * m.VocabSize];
        for (int t = 0; t < Tokens.Length; t++) m.Decode(Tokens[t], rows.AsSpan(t * m.VocabSize, m.VocabSize));
        float maxAbs = MaxAbs(rows, expected, Tokens.Length);
        output.WriteLine($"{model}: decode max-abs {maxAbs:E3} (tolerance {tolerance:E0})");
        Assert.True(maxAbs <= tolerance, $"{model}: decode max-abs {maxAbs} > {tolerance}");

        // Reset, then prefill: the last row again, bit for bit (the cache is really emptied; one token or sixteen, the same operations).
        m.Reset();
        Assert.Equal(0, m.Position);
        var last = new float[m.VocabSize];
        m.Prefill(Tokens, last);
        Assert.Equal(rows.AsSpan((Tokens.Length - 1) * m.VocabSize).ToArray(), last);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void GreedyMatchesLlamaCppUpToTheFirstNearTie(string model, string className, float tolerance)
    {
        int checkedSteps = GreedySteps(model, className, tolerance, KvCacheType.F32, "ids_with_kv_f32");
        output.WriteLine($"{model}: greedy equal for {checkedSteps} of 16 steps");
    }

    /// <summary>
    /// The greedy continuation with the given cache against the manifest's ids (<paramref name="idsKey"/>) up to the first
    /// near-tie; at least 8 steps must be checked. Returns how many were.
    /// </summary>
    internal static int GreedySteps(string model, string className, float tolerance, KvCacheType kvType, string idsKey)
    {
        using var manifest = TestPaths.Json(TestPaths.Require("golden", "manifest.json"));
        var greedy = manifest.RootElement.GetProperty("models").GetProperty(model + ".gguf").GetProperty("greedy");
        int[] ids = greedy.GetProperty(idsKey).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        float[] margins = greedy.GetProperty("top1_minus_top2").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        using var file = GgufFile.Open(TestPaths.Require("golden", "models", model + ".gguf"));
        using var m = Create(className);
        m.Load(file, new InferenceOptions(ContextSize: 64, KvType: kvType));
        var logits = new float[m.VocabSize];
        m.Prefill(Tokens, logits);
        int checkedSteps = 0;
        for (int step = 0; step < ids.Length; step++)
        {
            // Both sides may round a near-tie either way: stop (pass) at the first step whose margin is within 2× the tolerance.
            if (margins[step] <= 2 * tolerance) break;
            int got = TestPaths.ArgMax(logits);
            Assert.True(got == ids[step], $"{model}: greedy step {step}: token {got}, llama.cpp {ids[step]} (margin {margins[step]})");
            checkedSteps++;
            if (step + 1 < ids.Length) m.Decode(got, logits);
        }
        Assert.True(checkedSteps >= 8, $"{model}: only {checkedSteps} steps before a near-tie");
        return checkedSteps;
    }

    internal static float MaxAbs(float[] logits, float[,] expected, int rows)
    {
        int vocab = expected.GetLength(1);
        Assert.Equal(rows, expected.GetLength(0));
        Assert.Equal(rows * vocab, logits.Length);
        float maxAbs = 0;
        for (int t = 0; t < rows; t++)
            for (int v = 0; v < vocab; v++)
                maxAbs = Math.Max(maxAbs, Math.Abs(logits[t * vocab + v] - expected[t, v]));
        return maxAbs;
    }
}
