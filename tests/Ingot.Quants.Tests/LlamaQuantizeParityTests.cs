using Ingot.Formats;
using Ingot.Runtime.Quants;
using Xunit;

namespace Ingot.Quants.Tests;

/// <summary>
/// shared/golden/models/llama-gqa.{q4_0,q4_k_m,q5_k_m,q6_k,q8_0}.gguf were made by llama-quantize from
/// llama-gqa.f32.gguf. The mix planner must choose the same type per tensor (in the same order) and the reference
/// quantizers must reproduce every tensor's bytes.
/// </summary>
public unsafe class LlamaQuantizeParityTests
{
    private static string ModelPath(string file)
    {
        string kernels = Path.GetDirectoryName(Golden.PathOf(GgmlType.Q8_0, "dot.f32"))!;
        string p = Path.Combine(kernels, "..", "models", file);
        if (!File.Exists(p)) throw new FileNotFoundException($"golden model missing: {p}", p);
        return p;
    }

    [Theory]
    [InlineData("q4_0", QuantFileType.Q4_0)]
    [InlineData("q8_0", QuantFileType.Q8_0)]
    [InlineData("q6_k", QuantFileType.Q6_K)]
    [InlineData("q4_k_m", QuantFileType.Q4_K_M)]
    [InlineData("q5_k_m", QuantFileType.Q5_K_M)]
    public void PlanAndBytesMatchLlamaQuantize(string suffix, QuantFileType ft)
    {
        var src = new MiniGguf(ModelPath("llama-gqa.f32.gguf"));
        var dst = new MiniGguf(ModelPath($"llama-gqa.{suffix}.gguf"));
        Assert.Equal((uint)ft, Convert.ToUInt32(dst.Metadata["general.file_type"]));

        var info = new QuantModelInfo(src.Int("llama.block_count"), src.Int("llama.attention.head_count"), src.Int("llama.attention.head_count_kv"));
        var plan = QuantMix.Plan(ft, src.Tensors.Select(t => new QuantTensor(t.Name, t.Type, t.Dims)).ToList(), info);

        // Names with types, as strings: the same check, and a sequence of strings needs no generic instantiation at run
        // time (Ingot.NeonCheck runs these tests as NativeAOT, where xunit's enum-sequence comparer has no code).
        Assert.Equal(dst.Tensors.Select(t => $"{t.Name} {t.Type}"), plan.Select(p => $"{p.Tensor.Name} {p.NewType}"));

        foreach (var d in plan)
        {
            var s = src.Tensors.Single(t => t.Name == d.Tensor.Name);
            var expected = dst.TensorBytes(dst.Tensors.Single(t => t.Name == d.Tensor.Name));
            byte[] got = QuantizeTensor(src, s, d.NewType);
            Assert.True(expected.SequenceEqual(got), $"{suffix}: tensor {s.Name} ({d.NewType}) bytes differ from llama-quantize");
        }
    }

    private static byte[] QuantizeTensor(MiniGguf src, MiniGguf.Tensor t, GgmlType type)
    {
        Assert.Equal(GgmlType.F32, t.Type);
        ReadOnlySpan<byte> raw = src.TensorBytes(t);
        int cols = (int)t.Dims[0];
        int rows = raw.Length / 4 / cols;
        int rowBytes = QuantTraits.RowBytes(type, cols);
        var output = new byte[rows * rowBytes];
        fixed (byte* pin = raw)
        fixed (byte* pout = output)
            for (int r = 0; r < rows; r++)
                Quantize.WeightRow(type, (float*)pin + (long)r * cols, pout + (long)r * rowBytes, cols);
        return output;
    }
}
