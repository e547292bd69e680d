using Ingot.Specs;
using System.Buffers.Binary;
using System.Text;
using Xunit;

namespace Ingot.Formats.Tests;

public class ImportTests
{
    private static readonly string Tmp = Shared.TempDir("import");
    private static string Gguf32 => Shared.File_("models/gguf/stories260K-f32.gguf");
    private static string Bin => Shared.File_("models/llama2c/stories260K.bin");
    private static string Tok512 => Shared.File_("models/llama2c/tok512.bin");
    private static string Hf => Shared.File_("models/hf/stories260K-llama");

    [Fact]
    public void GgufSpecOfStories()
    {
        using var m = ModelImporter.Import(Gguf32, name: "stories260K");
        var s = m.Spec;
        Assert.Equal("gguf", m.Format);
        Assert.Equal(("llama", 512, 64, 5, 172, 128), (s.Architecture, s.VocabSize, s.Dim, s.Layers, s.FfnDim, s.ContextLength));
        Assert.Equal((8, 4, 8), (s.Attention.Heads, s.Attention.KvHeads, s.Attention.HeadDim));
        Assert.Equal(1f / MathF.Sqrt(8), s.Attention.Scale);
        Assert.Equal((NormKind.RmsNorm, 1e-5f), (s.Norm.Kind, s.Norm.Epsilon));
        Assert.Equal((RopeKind.Norm, 10000f, 8, false), (s.Rope.Kind, s.Rope.Theta, s.Rope.Dimensions, s.Rope.FreqFactors));
        Assert.False(s.Output.Tied); // this file carries output.weight
        Assert.Equal(("spm", 1, 2, true, false), (s.Tokenizer.Kind, s.Tokenizer.Bos, s.Tokenizer.Eos, s.Tokenizer.AddBos, s.Tokenizer.AddEos));
        Assert.All(s.Weights.Roles, r => Assert.Equal("f32", r.Type));
        Assert.Equal(12, s.Weights.Roles.Count);
        Assert.Empty(s.Weights.Layers);
    }

    [Fact]
    public void MixedQuantGgufGetsRoleTypes()
    {
        using var m = ModelImporter.Import(Shared.File_("models/gguf/stories260K-q8_0.gguf"));
        Assert.Equal("stories260K-q8_0", m.Spec.Name);
        Assert.Equal(GgmlType.Q8_0, m.Spec.Weights.TypeOf("attn_q"));
        Assert.Equal(GgmlType.F16, m.Spec.Weights.TypeOf("ffn_down"));
        Assert.Equal(GgmlType.F32, m.Spec.Weights.TypeOf("attn_norm"));

        // q4_k_m mixes types across layers: overrides appear only where a layer differs from the role's entry
        using var f = GgufFile.Open(Shared.File_("golden/models/llama-gqa.q4_k_m.gguf"));
        var spec = GgufSpecReader.FromGguf(f);
        for (int l = 0; l < spec.Layers; l++)
            foreach (var role in new[] { "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down" })
                Assert.Equal(f.FindTensor($"blk.{l}.{role}.weight")!.Type, spec.Weights.TypeOf(role, l));
        foreach (var o in spec.Weights.Layers) Assert.NotEqual(spec.Weights.Role(o.Role), o.Type);
    }

    private static string Normalized(ModelSpec s)
    {
        s = s with
        {
            Name = "x",
            ContextLength = 0,
            Output = s.Output with { Tied = false },
            Weights = WeightsSpec.Create(s.Weights.Roles.Where(r => r.Role != "output"), s.Weights.Layers),
        };
        return ModelSpecJson.Serialize(s);
    }

    [Fact]
    public void BinHfAndGgufGiveTheSameSpec()
    {
        using var g = ModelImporter.Import(Gguf32);
        using var b = ModelImporter.Import(Bin, Tok512);
        using var h = ModelImporter.Import(Hf);
        Assert.Equal(("llama2c", "hf"), (b.Format, h.Format));
        // The documented differences: the GGUF states context 128 (trained at 512) and stores output.weight as a copy.
        Assert.Equal((128, 512, 512), (g.Spec.ContextLength, b.Spec.ContextLength, h.Spec.ContextLength));
        Assert.Equal((false, true, true), (g.Spec.Output.Tied, b.Spec.Output.Tied, h.Spec.Output.Tied));
        Assert.Null(b.Spec.Weights.Role("output"));
        Assert.Equal("stories260K", b.Spec.Name);
        Assert.Equal("stories260K-llama", h.Spec.Name);
        string expected = Normalized(g.Spec);
        Assert.Equal(expected, Normalized(b.Spec));
        Assert.Equal(expected, Normalized(h.Spec));
    }

    [Theory]
    [InlineData("bin")]
    [InlineData("hf")]
    public void ConvertedWeightsAreBitIdenticalToReferenceGguf(string which)
    {
        string outPath = System.IO.Path.Combine(Tmp, $"conv-{which}.gguf");
        using (var m = which == "bin" ? ModelImporter.Import(Bin, Tok512) : ModelImporter.Import(Hf))
            m.WriteGguf(outPath);
        using var conv = GgufFile.Open(outPath);
        using var refg = GgufFile.Open(Gguf32);
        Assert.Null(conv.FindTensor("output.weight")); // tied in both sources
        Assert.Equal(refg.Tensors.Count - 1, conv.Tensors.Count);
        foreach (var rt in refg.Tensors)
        {
            var ct = conv.FindTensor(rt.Name == "output.weight" ? "token_embd.weight" : rt.Name);
            Assert.NotNull(ct);
            Assert.Equal(rt.Type, ct.Type);
            Assert.Equal(rt.Dims, ct.Dims);
            Assert.True(refg.GetTensorBytes(rt).SequenceEqual(conv.GetTensorBytes(ct)), $"{which}: tensor {rt.Name} differs");
        }
        Assert.Equal(refg.GetArray<string>("tokenizer.ggml.tokens"), conv.GetArray<string>("tokenizer.ggml.tokens"));
        Assert.Equal(refg.GetArray<float>("tokenizer.ggml.scores"), conv.GetArray<float>("tokenizer.ggml.scores"));
        Assert.Equal(refg.GetArray<int>("tokenizer.ggml.token_type"), conv.GetArray<int>("tokenizer.ggml.token_type"));
        Assert.Equal(1, conv.GetInt("tokenizer.ggml.bos_token_id"));
        Assert.Equal(2, conv.GetInt("tokenizer.ggml.eos_token_id"));
        Assert.True(conv.GetBool("tokenizer.ggml.add_bos_token"));
        Assert.Equal("llama", conv.GetString("tokenizer.ggml.model"));

        // The converted file describes the same model (except the documented context/tied differences).
        var s = GgufSpecReader.FromGguf(conv);
        Assert.Equal(512, s.ContextLength);
        Assert.True(s.Output.Tied);
        using var g = ModelImporter.Import(Gguf32);
        Assert.Equal(Normalized(g.Spec), Normalized(s));
    }

    [Fact]
    public void HfPermutationIsTheInverseOfRotateHalf()
    {
        // 2 heads of 4 rows, 1 column: HF rows per head [r0 r1 | r2 r3] (halves) → GGUF pairs (r0 r2) (r1 r3)
        int[] src = [0, 1, 2, 3, 10, 11, 12, 13];
        Assert.Equal([0, 2, 1, 3, 10, 12, 11, 13], Ingot.Formats.HuggingFace.HfLayouts.RopePairRows(src, 8, 1, 2));
    }

    [Fact]
    public void SentencePieceModelMatchesGgufVocab()
    {
        var sp = SentencePieceModelReader.Read(Shared.File_("models/llama2c/tok512.model"));
        using var f = GgufFile.Open(Gguf32);
        Assert.Equal(f.GetArray<string>("tokenizer.ggml.tokens"), sp.Pieces.Select(p => p.Piece));
        Assert.Equal(f.GetArray<int>("tokenizer.ggml.token_type"), sp.Pieces.Select(p => (int)p.Type));
        Assert.Equal(2, sp.ModelType); // BPE
        Assert.True(sp.ByteFallback);
        Assert.Equal((0, 1, 2), (sp.UnkId, sp.BosId, sp.EosId));

        var big = SentencePieceModelReader.Read(Shared.File_("models/llama2c/tokenizer.model"));
        Assert.Equal(32000, big.Pieces.Count);
        Assert.Equal("<0x0A>", big.Pieces[13].Piece);
        Assert.Equal(SentencePieceType.Byte, big.Pieces[13].Type);

        byte[] raw = File.ReadAllBytes(Shared.File_("models/llama2c/tok512.model"));
        for (int cut = 1; cut < raw.Length; cut += 13)
        {
            try { SentencePieceModelReader.Parse(raw.AsSpan(0, cut), "cut.model"); }
            catch (InvalidModelFileException) { }
        }
    }

    [Fact]
    public void TruncatedLlama2cCheckpointFailsCleanly()
    {
        byte[] full = File.ReadAllBytes(Bin);
        string p = System.IO.Path.Combine(Tmp, "trunc.bin");
        foreach (int cut in new[] { 0, 10, 27, 28, 1000, 131_100, full.Length / 2, full.Length - 4 })
        {
            File.WriteAllBytes(p, full[..cut]);
            var ex = Assert.Throws<InvalidModelFileException>(() => ModelImporter.Import(p, Tok512).Dispose());
            Assert.Contains("trunc.bin", ex.Message);
        }
        File.WriteAllBytes(p, full[..(full.Length / 2)]);
        var e2 = Assert.Throws<InvalidModelFileException>(() => ModelImporter.Import(p, Tok512).Dispose());
        Assert.Equal("w1", e2.Field); // names the section that does not fit (w1 spans bytes 379420..599580)
        var bad = (byte[])full.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(bad.AsSpan(12), 7); // n_heads 7 does not divide 64
        File.WriteAllBytes(p, bad);
        Assert.Equal("header n_heads", Assert.Throws<InvalidModelFileException>(() => ModelImporter.Import(p, Tok512).Dispose()).Field);
        // without --tokenizer the folder's tokenizer.bin (32000 tokens) is found and rejected as not matching vocab 512
        Assert.Contains("vocab_size 512", Assert.Throws<InvalidModelFileException>(() => ModelImporter.Import(Bin, null).Dispose()).Message);
        string lone = System.IO.Path.Combine(Tmp, "lone", "model.bin");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(lone)!);
        File.Copy(Bin, lone, true);
        Assert.Throws<FileNotFoundException>(() => ModelImporter.Import(lone, null).Dispose());
        string badTok = System.IO.Path.Combine(Tmp, "tok-trunc.bin");
        File.WriteAllBytes(badTok, File.ReadAllBytes(Tok512)[..3000]);
        Assert.Throws<InvalidModelFileException>(() => ModelImporter.Import(Bin, badTok).Dispose());
    }

    private static string CopyHf(string name)
    {
        string d = System.IO.Path.Combine(Tmp, name);
        Directory.CreateDirectory(d);
        foreach (var f in Directory.GetFiles(Hf)) File.Copy(f, System.IO.Path.Combine(d, System.IO.Path.GetFileName(f)), true);
        return d;
    }

    [Fact]
    public void BadSafetensorsHeadersFailCleanly()
    {
        string d = CopyHf("hf-bad");
        string st = System.IO.Path.Combine(d, "model.safetensors");
        byte[] good = File.ReadAllBytes(System.IO.Path.Combine(Hf, "model.safetensors"));
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(good);
        string header = Encoding.UTF8.GetString(good, 8, (int)n);

        void Expect(byte[] bytes, string contains)
        {
            File.WriteAllBytes(st, bytes);
            var ex = Assert.Throws<InvalidModelFileException>(() => ModelImporter.Import(d).Dispose());
            Assert.Contains(contains, ex.Message);
            Assert.Contains("model.safetensors", ex.Message);
        }
        byte[] WithHeader(string h)
        {
            byte[] hb = Encoding.UTF8.GetBytes(h);
            var b = new byte[8 + hb.Length + (good.Length - 8 - (int)n)];
            BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)hb.Length);
            hb.CopyTo(b, 8);
            good.AsSpan(8 + (int)n).CopyTo(b.AsSpan(8 + hb.Length));
            return b;
        }
        var huge = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(huge, ulong.MaxValue);
        Expect(huge, "header length");
        Expect(good[..4], "too short");
        Expect(WithHeader(header[..(header.Length / 2)]), "header JSON");
        Expect(WithHeader(header.Replace("\"F32\"", "\"Q9\"")), "unknown dtype");
        Expect(WithHeader(header.Replace("[0,131072]", "[0,131076]")), "expected 131072");
        Expect(good[..(good.Length - 100)], "beyond");
        Expect(WithHeader(header.Replace("\"shape\":[512,64]", "\"shape\":[512,-64]")), "non-negative");
    }

    [Fact]
    public void HfMissingTensorAndBadConfig()
    {
        string d = CopyHf("hf-cfg");
        string cfg = System.IO.Path.Combine(d, "config.json");
        string text = File.ReadAllText(cfg);
        File.WriteAllText(cfg, text.Replace("\"num_hidden_layers\": 5", "\"num_hidden_layers\": 6"));
        var ex = Assert.Throws<InvalidModelFileException>(() => ModelImporter.Import(d).Dispose());
        Assert.Contains("model.layers.5", ex.Message);
        File.WriteAllText(cfg, text.Replace("\"num_hidden_layers\": 5", "\"num_hidden_layers\": 4"));
        ex = Assert.Throws<InvalidModelFileException>(() => ModelImporter.Import(d).Dispose());
        Assert.Contains("beyond num_hidden_layers", ex.Message);
        File.WriteAllText(cfg, text.Replace("\"hidden_size\": 64", "\"hidden_size\": 32"));
        ex = Assert.Throws<InvalidModelFileException>(() => ModelImporter.Import(d).Dispose());
        Assert.Contains("shape", ex.Field);
        File.WriteAllText(cfg, text[..50]);
        Assert.Throws<InvalidModelFileException>(() => ModelImporter.Import(d).Dispose());
    }
}
