using Ingot.Formats;
using Ingot.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.EndToEnd.Tests;

/// <summary>
/// golden/shapes: llama models of five shapes × Q8_0/Q4_0/Q5_0/Q4_K_M/Q6_K (+ one F32), three 23-token sequences each,
/// against llama.cpp's logits (one batch, F32 KV cache). Tolerances of shapes/README.md: F32 1e-4 max-abs; Q8_0, Q4_0,
/// Q5_0 1e-3 max-abs; the K-quant mixes (Q4_K_M, Q6_K files) per-row cosine ≥ 0.9996 and top-1 on all rows but one.
/// </summary>
public class ShapesTests(ITestOutputHelper output)
{
    private const int Sequences = 3;

    /// <summary>(NAME.TYPE, sequence) for every model and sequence of the set.</summary>
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (string model in ShapeModels.Create.Keys)
            for (int s = 0; s < Sequences; s++) data.Add(model, s);
        return data;
    }

    /// <summary>One sequence per type, decoded token by token (a different shape for each type).</summary>
    public static TheoryData<string, int> DecodeCases => new()
    {
        { "mqa-v300.f32", 1 },
        { "gqa-d512.q8_0", 0 },
        { "mha-d256.q4_0", 2 },
        { "odd-d320.q5_0", 1 },
        { "gqa-d384.q4_k_m", 0 },
        { "mha-d256.q6_k", 1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void PrefillMatchesLlamaCpp(string model, int seq) => Run(model, seq, decode: false);

    [Theory]
    [MemberData(nameof(DecodeCases))]
    public void DecodeOneByOneMatchesLlamaCpp(string model, int seq) => Run(model, seq, decode: true);

    /// <summary>The sequence in one batch, or token by token through Decode; every row's logits judged.</summary>
    private void Run(string model, int seq, bool decode)
    {
        var (tokens, expected) = Reference(model, seq);
        using var file = GgufFile.Open(TestPaths.Require("golden", "shapes", "models", model + ".gguf"));
        using var m = ShapeModels.Create[model]();
        m.Load(file, new InferenceOptions(ContextSize: 32));
        int vocab = m.VocabSize;
        Assert.Equal(expected.GetLength(1), vocab);
        var logits = new float[tokens.Length * vocab];
        if (decode)
            for (int t = 0; t < tokens.Length; t++) m.Decode(tokens[t], logits.AsSpan(t * vocab, vocab));
        else
            m.Prefill(tokens, logits);
        Assert.Equal(tokens.Length, m.Position);
        Judge(model, seq, decode ? "decode" : "prefill", logits, expected, m.Description.IsaPathInUse);
    }

    private static (int[] Tokens, float[,] Logits) Reference(string model, int seq)
    {
        using var manifest = TestPaths.Json(TestPaths.Require("golden", "shapes", "manifest.json"));
        var entry = manifest.RootElement.GetProperty("models").GetProperty(model + ".gguf");
        int[] tokens = entry.GetProperty("sequences")[seq].EnumerateArray().Select(e => e.GetInt32()).ToArray();
        string refName = entry.GetProperty("refs")[seq].GetString()!;
        var expected = TestPaths.ReadMatrix(TestPaths.Require("golden", "shapes", "ref", refName));
        Assert.Equal(tokens.Length, expected.GetLength(0));
        return (tokens, expected);
    }

    private void Judge(string model, int seq, string path, float[] logits, float[,] expected, string isa)
    {
        int rows = expected.GetLength(0), vocab = expected.GetLength(1);
        string type = model[(model.IndexOf('.') + 1)..];
        float maxAbs = 0;
        int worstRow = 0, top1 = 0;
        double minCos = 1;
        for (int t = 0; t < rows; t++)
        {
            float rowMax = 0;
            double dot = 0, a2 = 0, b2 = 0;
            int ours = 0, theirs = 0;
            for (int v = 0; v < vocab; v++)
            {
                float a = logits[t * vocab + v], b = expected[t, v];
                rowMax = Math.Max(rowMax, Math.Abs(a - b));
                dot += (double)a * b; a2 += (double)a * a; b2 += (double)b * b;
                if (a > logits[t * vocab + ours]) ours = v;
                if (b > expected[t, theirs]) theirs = v;
            }
            if (rowMax > maxAbs) { maxAbs = rowMax; worstRow = t; }
            minCos = Math.Min(minCos, dot / Math.Sqrt(a2 * b2));
            if (ours == theirs) top1++;
        }
        output.WriteLine($"SHAPES {path} {model} seq{seq}: max-abs {maxAbs:E2} (row {worstRow}), min cosine {minCos:F7}, top-1 {top1}/{rows}; ISA {isa}");
        if (type is "q4_k_m" or "q6_k")
        {
            Assert.True(minCos >= 0.9996, $"{model} seq{seq} {path}: min row cosine {minCos}");
            Assert.True(top1 >= rows - 1, $"{model} seq{seq} {path}: top-1 agrees on {top1} of {rows} rows");
        }
        else
        {
            float tolerance = type == "f32" ? 1e-4f : 1e-3f;
            Assert.True(maxAbs <= tolerance, $"{model} seq{seq} {path}: max-abs {maxAbs} (row {worstRow}) > {tolerance}");
        }
    }
}
