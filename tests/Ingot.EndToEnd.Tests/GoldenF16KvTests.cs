using Ingot.Formats;
using Ingot.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.EndToEnd.Tests;

/// <summary>
/// The F16 KV cache (<see cref="KvCacheType.F16"/>) against llama.cpp's default F16 cache, ref/*.logits.bin: prefill
/// and one token at a time within golden/README.md's rule for those files (the tolerance of
/// <see cref="GoldenFamilyTests"/> plus how far the F16- and F32-cache references are apart), and clearly closer to
/// them than to the F32-cache references, so the test sees the cache's roundings (keys, values, queries and attention
/// weights to F16, as ggml rounds them), not only an agreement an F32 cache would give too. Measured: the quantized
/// llama-gqa files bit-identical to logits.bin; the F32 files within 2e-6 on most rows, with rows up to 2e-3 where a
/// query or a weight lands on the other side of an F16 rounding (the F32 matmuls before it are not bit-identical to
/// ggml's). Then the greedy ids llama.cpp decoded with its F16 cache.
/// </summary>
public class GoldenF16KvTests(ITestOutputHelper output)
{
    private static readonly int[] Tokens = new[] { 1 }.Concat(Enumerable.Range(300, 15)).ToArray();

    public static TheoryData<string, string, float> Models => GoldenFamilyTests.Models;

    [Theory]
    [MemberData(nameof(Models))]
    public void PrefillAndDecodeMatchLlamaCppsF16Cache(string model, string className, float tolerance)
    {
        var expected = TestPaths.ReadMatrix(TestPaths.Require("golden", "ref", model + ".logits.bin"));
        var f32Cache = TestPaths.ReadMatrix(TestPaths.Require("golden", "ref", model + ".logits.kvf32.bin"));
        using var file = GgufFile.Open(TestPaths.Require("golden", "models", model + ".gguf"));
        using var m = GoldenFamilyTests.Create(className);
        m.Load(file, new InferenceOptions(ContextSize: 64, Threads: 2, KvType: KvCacheType.F16));
        var logits = new float[Tokens.Length * m.VocabSize];
        m.Prefill(Tokens, logits);
        float maxAbs = MaxAbs(logits, expected), fromF32Cache = MaxAbs(logits, f32Cache), refsApart = MaxAbs(Flat(f32Cache), expected);
        output.WriteLine($"{model}: F16 cache prefill max-abs {maxAbs:E3} from logits.bin, {fromF32Cache:E3} from logits.kvf32.bin (the references {refsApart:E3} apart; allowed {tolerance:E0} + that)");
        float allowed = tolerance + refsApart;
        Assert.True(maxAbs <= allowed, $"{model}: max-abs {maxAbs} > {allowed}");
        Assert.True(maxAbs < 0.6f * fromF32Cache, $"{model}: the F16 cache's logits are {maxAbs} from llama.cpp's F16-cache logits and {fromF32Cache} from its F32-cache logits");

        m.Reset();
        var rows = new float[Tokens.Length * m.VocabSize];
        for (int t = 0; t < Tokens.Length; t++) m.Decode(Tokens[t], rows.AsSpan(t * m.VocabSize, m.VocabSize));
        float decodeMaxAbs = MaxAbs(rows, expected);
        output.WriteLine($"{model}: F16 cache decode max-abs {decodeMaxAbs:E3} (allowed {allowed:E3})");
        Assert.True(decodeMaxAbs <= allowed, $"{model}: decode max-abs {decodeMaxAbs} > {allowed}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void GreedyMatchesLlamaCppsF16CacheUpToTheFirstNearTie(string model, string className, float tolerance)
    {
        int checkedSteps = GoldenFamilyTests.GreedySteps(model, className, tolerance, KvCacheType.F16, "ids");
        output.WriteLine($"{model}: greedy with the F16 cache equal for {checkedSteps} of 16 steps");
    }

    private static float[] Flat(float[,] m)
    {
        var flat = new float[m.Length];
        for (int t = 0; t < m.GetLength(0); t++)
            for (int v = 0; v < m.GetLength(1); v++) flat[t * m.GetLength(1) + v] = m[t, v];
        return flat;
    }

    private static float MaxAbs(float[] logits, float[,] expected) => GoldenFamilyTests.MaxAbs(logits, expected, expected.GetLength(0));
}
