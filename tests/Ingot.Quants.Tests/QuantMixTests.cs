using Ingot.Formats;
using Ingot.Runtime.Quants;
using Xunit;

namespace Ingot.Quants.Tests;

/// <summary>llama-quantize's mix rules on synthetic llama shapes (the real-file parity is in LlamaQuantizeParityTests).</summary>
public class QuantMixTests
{
    private static List<QuantTensor> Llama(int layers, long dim, long ffn, long vocab, long kvDim)
    {
        var t = new List<QuantTensor>
        {
            new("token_embd.weight", GgmlType.F32, [dim, vocab]),
            new("output_norm.weight", GgmlType.F32, [dim]),
            new("output.weight", GgmlType.F32, [dim, vocab]),
        };
        for (int l = 0; l < layers; l++)
        {
            t.Add(new($"blk.{l}.attn_norm.weight", GgmlType.F32, [dim]));
            t.Add(new($"blk.{l}.attn_q.weight", GgmlType.F32, [dim, dim]));
            t.Add(new($"blk.{l}.attn_k.weight", GgmlType.F32, [dim, kvDim]));
            t.Add(new($"blk.{l}.attn_v.weight", GgmlType.F32, [dim, kvDim]));
            t.Add(new($"blk.{l}.attn_output.weight", GgmlType.F32, [dim, dim]));
            t.Add(new($"blk.{l}.ffn_norm.weight", GgmlType.F32, [dim]));
            t.Add(new($"blk.{l}.ffn_gate.weight", GgmlType.F32, [dim, ffn]));
            t.Add(new($"blk.{l}.ffn_up.weight", GgmlType.F32, [dim, ffn]));
            t.Add(new($"blk.{l}.ffn_down.weight", GgmlType.F32, [ffn, dim]));
        }
        return t;
    }

    [Fact]
    public void Q4_K_M_BumpsAttnVAndFfnDownOnUseMoreBitsLayers()
    {
        var plan = QuantMix.Plan(QuantFileType.Q4_K_M, Llama(32, 4096, 11008, 32000, 4096), new QuantModelInfo(32, 32, 32));
        GgmlType TypeOf(string name) => plan.Single(d => d.Tensor.Name == name).NewType;
        int[] more = [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31];
        for (int l = 0; l < 32; l++)
        {
            GgmlType expected = more.Contains(l) ? GgmlType.Q6_K : GgmlType.Q4_K;
            Assert.Equal(expected, TypeOf($"blk.{l}.attn_v.weight"));
            Assert.Equal(expected, TypeOf($"blk.{l}.ffn_down.weight"));
            Assert.Equal(GgmlType.Q4_K, TypeOf($"blk.{l}.attn_q.weight"));
            Assert.Equal(GgmlType.F32, TypeOf($"blk.{l}.attn_norm.weight"));
        }
        Assert.Equal(GgmlType.Q6_K, TypeOf("output.weight"));
        Assert.Equal(GgmlType.Q4_K, TypeOf("token_embd.weight"));
        // write order: non-layer tensors by name, then layer by layer (numeric), names ordinal inside a layer
        Assert.Equal(["output.weight", "output_norm.weight", "token_embd.weight", "blk.0.attn_k.weight"], plan.Take(4).Select(d => d.Tensor.Name));
        Assert.Equal("blk.2.attn_k.weight", plan[3 + 9 * 2].Tensor.Name);
    }

    [Fact]
    public void RowsThatAreNotWholeSuperBlocksFallBack()
    {
        // stories260K-like: dim 64, ffn 172 → 64 and 172 are not multiples of 256; 172 is not even a multiple of 32
        var plan = QuantMix.Plan(QuantFileType.Q4_K_M, Llama(5, 64, 172, 512, 32), new QuantModelInfo(5, 8, 4));
        GgmlType TypeOf(string name) => plan.Single(d => d.Tensor.Name == name).NewType;
        Assert.Equal(GgmlType.Q5_0, TypeOf("blk.1.attn_q.weight"));      // Q4_K → Q5_0
        Assert.Equal(GgmlType.F16, TypeOf("blk.1.ffn_down.weight"));     // 172 columns: no 32-block type fits
        Assert.Equal(GgmlType.Q8_0, TypeOf("output.weight"));            // output rule: Q8_0 when not a multiple of 256
        Assert.Equal(GgmlType.Q8_0, TypeOf("blk.4.attn_v.weight"));      // Q6_K (use_more_bits) → Q8_0
        Assert.Equal(GgmlType.Q5_0, TypeOf("blk.0.attn_v.weight"));      // Q4_K → Q5_0
    }

    [Fact]
    public void Q2_KAndQ3_K_MFollowLlamaQuantize()
    {
        var info = new QuantModelInfo(8, 32, 8); // gqa 4
        var q2 = QuantMix.Plan(QuantFileType.Q2_K, Llama(8, 4096, 11008, 32000, 1024), info);
        Assert.Equal(GgmlType.Q4_K, q2.Single(d => d.Tensor.Name == "blk.3.attn_v.weight").NewType);
        Assert.Equal(GgmlType.Q3_K, q2.Single(d => d.Tensor.Name == "blk.3.ffn_down.weight").NewType);
        Assert.Equal(GgmlType.Q3_K, q2.Single(d => d.Tensor.Name == "blk.3.attn_output.weight").NewType);
        Assert.Equal(GgmlType.Q2_K, q2.Single(d => d.Tensor.Name == "blk.3.ffn_up.weight").NewType);

        var q3 = QuantMix.Plan(QuantFileType.Q3_K_M, Llama(8, 4096, 11008, 32000, 1024), info);
        Assert.Equal(GgmlType.Q5_K, q3.Single(d => d.Tensor.Name == "blk.0.attn_v.weight").NewType);
        Assert.Equal(GgmlType.Q5_K, q3.Single(d => d.Tensor.Name == "blk.1.attn_v.weight").NewType);
        Assert.Equal(GgmlType.Q4_K, q3.Single(d => d.Tensor.Name == "blk.2.attn_v.weight").NewType);
        Assert.Equal(GgmlType.Q4_K, q3.Single(d => d.Tensor.Name == "blk.5.ffn_down.weight").NewType);
        Assert.Equal(GgmlType.Q4_K, q3.Single(d => d.Tensor.Name == "blk.5.attn_output.weight").NewType);
        Assert.Equal(GgmlType.Q3_K, q3.Single(d => d.Tensor.Name == "blk.5.attn_q.weight").NewType);
    }

    [Fact]
    public void NamesParseLikeLlamaQuantize()
    {
        Assert.True(QuantMix.TryParse("q4_k_m", out var t) && t == QuantFileType.Q4_K_M);
        Assert.True(QuantMix.TryParse("Q4_K", out t) && t == QuantFileType.Q4_K_M);
        Assert.True(QuantMix.TryParse("iq4_xs", out t) && t == QuantFileType.IQ4_XS);
        Assert.False(QuantMix.TryParse("q4_k_x", out _));
        Assert.Equal(15, (int)QuantFileType.Q4_K_M);
    }
}
