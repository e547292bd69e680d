using Xunit;

namespace Ingot.Formats.Tests;

public class SynthTests
{
    private static readonly string Tmp = Shared.TempDir("synth");

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    public unsafe void WritesAConsistentModel(GgmlType type)
    {
        var o = new SynthOptions { Dim = 64, Layers = 2, Heads = 4, KvHeads = 2, FfnDim = 96, VocabSize = 300, ContextLength = 256, Type = type, Seed = 7 };
        string p = System.IO.Path.Combine(Tmp, $"s-{type}.gguf");
        var spec = GgufSynth.Write(p, o);
        using var f = GgufFile.Open(p);
        var read = GgufSpecReader.FromGguf(f, spec.Name);
        Assert.Equal(ModelSpecJson.Serialize(spec), ModelSpecJson.Serialize(read));
        Assert.Equal(2 + 1 + 2 * 9, f.Tensors.Count);
        Assert.Equal(type, f.FindTensor("blk.1.ffn_down.weight")!.Type);
        Assert.Equal(GgmlType.F32, f.FindTensor("blk.1.ffn_norm.weight")!.Type);
        Assert.Equal(new long[] { 64, 32 }, f.FindTensor("blk.0.attn_k.weight")!.Dims);

        var tokens = f.GetArray<string>("tokenizer.ggml.tokens");
        Assert.Equal(300, tokens.Length);
        Assert.Equal(["<unk>", "<s>", "</s>", "<0x00>"], tokens[..4]);
        Assert.Equal("<0xFF>", tokens[258]);
        Assert.Equal(tokens.Length, tokens.Distinct().Count());
        Assert.Equal(6, f.GetArray<int>("tokenizer.ggml.token_type")[100]);

        if (type == GgmlType.F32)
        {
            // statistics: weights ~ N(0, 1/cols), norms ~ 1
            var q = f.FindTensor("blk.0.attn_q.weight")!;
            float* w = (float*)f.GetTensorPointer(q);
            double sum = 0, sq = 0;
            for (int i = 0; i < 64 * 64; i++) { sum += w[i]; sq += w[i] * w[i]; }
            double mean = sum / 4096, std = Math.Sqrt(sq / 4096 - mean * mean);
            Assert.InRange(mean, -0.01, 0.01);
            Assert.InRange(std, 0.115, 0.135); // 1/sqrt(64) = 0.125
            float* n = (float*)f.GetTensorPointer(f.FindTensor("output_norm.weight")!);
            for (int i = 0; i < 64; i++) Assert.InRange(n[i], 0.9f, 1.1f);
        }
    }

    [Fact]
    public void IsDeterministicPerSeedAndStreamsQuantizedTypesThroughTheSeam()
    {
        var o = new SynthOptions { Dim = 64, Layers = 1, Heads = 2, FfnDim = 64, VocabSize = 270, Seed = 11 };
        string a = System.IO.Path.Combine(Tmp, "a.gguf"), b = System.IO.Path.Combine(Tmp, "b.gguf"), c = System.IO.Path.Combine(Tmp, "c.gguf");
        GgufSynth.Write(a, o);
        GgufSynth.Write(b, o);
        GgufSynth.Write(c, o with { Seed = 12 });
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(c));

        Assert.Throws<NotSupportedException>(() => GgufSynth.Write(System.IO.Path.Combine(Tmp, "q.gguf"), o with { Type = GgmlType.Q8_0 }));
        int calls = 0;
        // a fake quantizer: fills each Q8_0 row with a recognisable pattern
        var spec = GgufSynth.Write(System.IO.Path.Combine(Tmp, "q.gguf"), o with { Type = GgmlType.Q8_0 }, (t, row) =>
        {
            calls++;
            Assert.Equal(GgmlType.Q8_0, t);
            return Enumerable.Repeat((byte)7, row.Length / 32 * 34).ToArray();
        });
        Assert.Equal(GgmlType.Q8_0, spec.Weights.TypeOf("attn_q"));
        using var f = GgufFile.Open(System.IO.Path.Combine(Tmp, "q.gguf"));
        Assert.Equal(270 * 2 + 64 * 4 + 64 * 3, calls); // one call per row of every 2-D tensor
        Assert.All(f.GetTensorBytes(f.FindTensor("blk.0.ffn_up.weight")!).ToArray(), x => Assert.Equal(7, x));
        Assert.Equal(7u, (uint)f.GetInt("general.file_type"));
    }
}
