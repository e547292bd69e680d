using Ingot.Formats;
using Ingot.Runtime;
using Ingot.Runtime.Quants;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.EndToEnd.Tests;

/// <summary>
/// Every weight type in one model: llama-gqa.f32 requantized per tensor (bf16 embeddings, q2_k output, q4_1 … iq4_xs in
/// layer 0, q4_0 … f32 in layer 1), the same mix `ingot quantize … --tensor-type` wrote for the committed spec.
/// Reference: the F32 compiled model run on the dequantized weights. Only the activation rounding (q8_0 / q8_1 / q8_K /
/// f16 / bf16, as ggml does it) separates the two, so a wrong block layout, kernel or activation type shows at once.
/// </summary>
public unsafe class AllWeightTypesTests(ITestOutputHelper output)
{
    private static readonly int[] Tokens = new[] { 1 }.Concat(Enumerable.Range(300, 15)).ToArray();

    /// <summary>Tensor name → type; the rest stays as in the F32 file (norms) or becomes q8_0 (the mix's default).</summary>
    private static readonly Dictionary<string, GgmlType> Types = new()
    {
        ["token_embd.weight"] = GgmlType.BF16, ["output.weight"] = GgmlType.Q2_K,
        ["blk.0.attn_q.weight"] = GgmlType.Q4_1, ["blk.0.attn_k.weight"] = GgmlType.Q5_0, ["blk.0.attn_v.weight"] = GgmlType.Q5_1,
        ["blk.0.attn_output.weight"] = GgmlType.IQ4_NL, ["blk.0.ffn_gate.weight"] = GgmlType.Q3_K, ["blk.0.ffn_up.weight"] = GgmlType.Q5_K,
        ["blk.0.ffn_down.weight"] = GgmlType.IQ4_XS,
        ["blk.1.attn_q.weight"] = GgmlType.Q4_0, ["blk.1.attn_k.weight"] = GgmlType.Q4_K, ["blk.1.attn_v.weight"] = GgmlType.Q6_K,
        ["blk.1.attn_output.weight"] = GgmlType.Q8_0, ["blk.1.ffn_gate.weight"] = GgmlType.F16, ["blk.1.ffn_up.weight"] = GgmlType.BF16,
        ["blk.1.ffn_down.weight"] = GgmlType.F32,
    };

    /// <summary>Writes the quantized model and its dequantized F32 twin into a temp folder.</summary>
    private static (string Quantized, string Dequantized) WriteModels()
    {
        string dir = Path.Combine(Path.GetTempPath(), "ingot-all-types-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        string q = Path.Combine(dir, "llama-gqa.all-types.gguf"), d = Path.Combine(dir, "llama-gqa.all-types.dequantized.gguf");
        using var src = GgufFile.Open(TestPaths.Require("golden", "models", "llama-gqa.f32.gguf"));
        var wq = new GgufWriter(src.Alignment);
        var wd = new GgufWriter(src.Alignment);
        wq.CopyMetadata(src);
        wd.CopyMetadata(src);
        foreach (var t in src.Tensors)
        {
            var type = Types.TryGetValue(t.Name, out var ty) ? ty : t.Dims.Length >= 2 ? GgmlType.Q8_0 : GgmlType.F32;
            int cols = (int)t.Dims[0];
            long rows = t.ElementCount / cols;
            var quant = new byte[GgufWriter.TensorByteSize(type, t.Dims)];
            var deq = new float[t.ElementCount];
            long rowBytes = GgmlTypeTraits.RowBytes(type, cols);
            fixed (byte* pq = quant)
            fixed (float* pd = deq)
            {
                float* x = (float*)src.GetTensorPointer(t);
                for (long r = 0; r < rows; r++)
                {
                    Quantize.WeightRow(type, x + r * cols, pq + r * rowBytes, cols);
                    Dequantize.Row(type, pq + r * rowBytes, pd + r * cols, cols);
                }
            }
            wq.AddTensor(t.Name, type, t.Dims, s => s.Write(quant));
            wd.AddTensor(t.Name, GgmlType.F32, t.Dims, s => s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(deq.AsSpan())));
        }
        wq.Write(q);
        wd.Write(d);
        return (q, d);
    }

    [Fact]
    public void EveryWeightTypeAgreesWithItsDequantizedTwin()
    {
        var (qPath, dPath) = WriteModels();
        try
        {
            // The committed spec is what the importer says about this file: the generator compiled exactly this mix.
            using (var imported = ModelImporter.Import(qPath, name: "llama-gqa-all-types"))
            {
                string committed = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests", "Ingot.Generators.Tests", "TestSpecs", "llama-gqa-all-types.json"));
                Assert.Equal(committed, ModelSpecJson.Serialize(imported.Spec));
            }

            int vocab = LlamaGqaAllTypes.VocabSize;
            var got = new float[Tokens.Length * vocab];
            var reference = new float[Tokens.Length * vocab];
            using (var fq = GgufFile.Open(qPath))
            using (var m = new LlamaGqaAllTypes())
            {
                m.Load(fq, new InferenceOptions(Threads: 2));
                m.Prefill(Tokens, got);
            }
            using (var fd = GgufFile.Open(dPath))
            using (var m = new LlamaGqaF32())
            {
                m.Load(fd, new InferenceOptions(Threads: 2));
                m.Prefill(Tokens, reference);
            }

            double minCos = 1;
            float maxAbs = 0;
            int top1 = 0;
            for (int t = 0; t < Tokens.Length; t++)
            {
                double dot = 0, a2 = 0, b2 = 0;
                int ia = 0, ib = 0;
                for (int v = 0; v < vocab; v++)
                {
                    float a = got[t * vocab + v], b = reference[t * vocab + v];
                    Assert.True(float.IsFinite(a), $"row {t} logit {v} is {a}");
                    dot += (double)a * b; a2 += (double)a * a; b2 += (double)b * b;
                    maxAbs = Math.Max(maxAbs, Math.Abs(a - b));
                    if (a > got[t * vocab + ia]) ia = v;
                    if (b > reference[t * vocab + ib]) ib = v;
                }
                minCos = Math.Min(minCos, dot / Math.Sqrt(a2 * b2));
                if (ia == ib) top1++;
            }
            output.WriteLine($"all weight types vs dequantized F32: min row cosine {minCos:F6}, top-1 {top1}/16, max-abs {maxAbs:E3}");
            Assert.True(minCos >= 0.999, $"min row cosine {minCos}");
            Assert.True(top1 >= 15, $"top-1 agrees on {top1} of 16 rows");
        }
        finally
        {
            File.Delete(qPath);
            File.Delete(dPath);
        }
    }
}
