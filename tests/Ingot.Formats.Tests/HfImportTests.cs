using System.Buffers.Binary;
using Ingot.Specs;
using Ingot.TestSupport;
using Xunit;

namespace Ingot.Formats.Tests;

/// <summary>ERNIE 4.5 from its config alone (and its llama twin), the HF layouts the round trip relies on, and the one-line refusals.</summary>
public class HfImportTests
{
    private static readonly string Tmp = Shared.TempDir("hf-import");
    private static string StoriesTokenizer => Shared.File_("models/hf/stories260K-llama/tokenizer.model");

    private static string Ernie(string name, ErnieShape? shape = null)
    {
        string dir = Path.Combine(Tmp, name);
        ErnieFolderWriter.Write(dir, StoriesTokenizer, shape);
        return dir;
    }

    [Fact]
    public void ErnieImportsAsErnie45WithDecoupledHeadDimAndNoPermutation()
    {
        string dir = Ernie("ernie");
        using var m = ModelImporter.Import(dir);
        var s = m.Spec;
        Assert.Equal(("ernie4_5", 512, 64, 2, 128, 2048), (s.Architecture, s.VocabSize, s.Dim, s.Layers, s.FfnDim, s.ContextLength));
        Assert.Equal((4, 2, 32), (s.Attention.Heads, s.Attention.KvHeads, s.Attention.HeadDim)); // 32 ≠ 64 / 4
        Assert.Equal(1f / MathF.Sqrt(32), s.Attention.Scale);
        Assert.Equal((RopeKind.Norm, 500000f, 32), (s.Rope.Kind, s.Rope.Theta, s.Rope.Dimensions));
        Assert.Equal((NormKind.RmsNorm, 1e-5f), (s.Norm.Kind, s.Norm.Epsilon));
        Assert.Equal((true, Activation.Silu, false), (s.Ffn.Gated, s.Ffn.Activation, s.Ffn.Bias));
        Assert.False(s.Attention.QkvBias || s.Attention.OutputBias);
        Assert.True(s.Output.Tied);
        Assert.Equal(("spm", 1, 2, true), (s.Tokenizer.Kind, s.Tokenizer.Bos, s.Tokenizer.Eos, s.Tokenizer.AddBos));

        // q_proj rows are copied as they are: ERNIE's interleaved pairs already are ggml's NORM order.
        using var st = SafetensorsFile.Open(Path.Combine(dir, "model.safetensors"));
        var q = m.Tensors.Single(t => t.Name == "blk.1.attn_q.weight");
        Assert.Equal([64L, 128], q.Dims);
        Assert.Equal(st.ReadBytes(st.Find("model.layers.1.self_attn.q_proj.weight")!), Bytes(q));

        string gguf = Path.Combine(Tmp, "ernie.gguf");
        m.WriteGguf(gguf);
        using var f = GgufFile.Open(gguf);
        Assert.Equal("ernie4_5", f.GetString("general.architecture"));
        Assert.Equal(32, f.GetInt32("ernie4_5.attention.key_length"));
        Assert.Equal(s, GgufSpecReader.FromGguf(f, s.Name));
    }

    [Fact]
    public void ErnieLlamaTwinDiffersOnlyInArchitecture()
    {
        string dir = Ernie("ernie-twin");
        string twin = Path.Combine(Tmp, "ernie-twin.llama.gguf");
        LlamaTwinWriter.Write(dir, twin);
        using var m = ModelImporter.Import(dir);
        using var f = GgufFile.Open(twin);
        Assert.Equal("llama", f.GetString("general.architecture"));
        Assert.DoesNotContain(f.Metadata, e => e.Key.StartsWith("ernie4_5.", StringComparison.Ordinal));
        Assert.Equal(32, f.GetInt32("llama.rope.dimension_count")); // llama.cpp's llama requires rope dims = key_length
        Assert.Equal(m.Spec with { Architecture = "llama" }, GgufSpecReader.FromGguf(f, m.Spec.Name));
        foreach (var t in m.Tensors) Assert.Equal(Bytes(t), f.GetTensorBytes(f.FindTensor(t.Name)!).ToArray());
    }

    [Fact]
    public void ErnieBiasesAndPaddleFusedCheckpointsImport()
    {
        var plainShape = new ErnieShape { UseBias = true, DType = "BF16" };
        using var plain = ModelImporter.Import(Ernie("ernie-bias", plainShape));
        Assert.True(plain.Spec.Attention.QkvBias && plain.Spec.Attention.OutputBias && plain.Spec.Ffn.Bias);
        Assert.Equal(GgmlType.BF16, plain.Spec.Weights.TypeOf("attn_q"));
        Assert.Contains(plain.Tensors, t => t.Name == "blk.0.attn_output.bias");

        // The same weights as Paddle stores them (qkv_proj, up_gate_proj, "ernie." names) give the same tensors.
        using var fused = ModelImporter.Import(Ernie("ernie-fused", plainShape with { Fused = true }));
        Assert.Equal(plain.Spec with { Name = "x" }, fused.Spec with { Name = "x" });
        using var st = SafetensorsFile.Open(Path.Combine(Tmp, "ernie-fused", "model.safetensors"));
        byte[] qkv = st.ReadBytes(st.Find("ernie.layers.0.self_attn.qkv_proj.weight")!), upGate = st.ReadBytes(st.Find("ernie.layers.0.mlp.up_gate_proj.weight")!);
        int row = 64 * 2; // BF16 rows of 64
        Assert.Equal(qkv[..(128 * row)], Bytes(fused.Tensors.Single(t => t.Name == "blk.0.attn_q.weight")));
        Assert.Equal(qkv[(128 * row)..(192 * row)], Bytes(fused.Tensors.Single(t => t.Name == "blk.0.attn_k.weight")));
        Assert.Equal(qkv[(192 * row)..], Bytes(fused.Tensors.Single(t => t.Name == "blk.0.attn_v.weight")));
        Assert.Equal(upGate[..(128 * row)], Bytes(fused.Tensors.Single(t => t.Name == "blk.0.ffn_gate.weight")));
        Assert.Equal(upGate[(128 * row)..], Bytes(fused.Tensors.Single(t => t.Name == "blk.0.ffn_up.weight")));
    }

    /// <summary>The round trip would pass with both sides skipping a layout change; these pin that the HF files really hold HF layouts.</summary>
    [Theory]
    [InlineData("llama-gqa.f32", "blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight")]
    [InlineData("granite.f32", "blk.1.attn_k.weight", "model.layers.1.self_attn.k_proj.weight")]
    [InlineData("gptneox.f32", "blk.0.attn_qkv.weight", "gpt_neox.layers.0.attention.query_key_value.weight")]
    [InlineData("gpt2.f32", "blk.0.ffn_up.weight", "transformer.h.0.mlp.c_fc.weight")]
    [InlineData("gemma.f32", "blk.0.attn_norm.weight", "model.layers.0.input_layernorm.weight")]
    public void HfFolderHoldsHfLayouts(string model, string ggufName, string hfName)
    {
        using var golden = GgufFile.Open(Shared.File_($"golden/models/{model}.gguf"));
        string dir = Path.Combine(Tmp, "layout-" + model);
        HfFolderWriter.Write(golden, dir);
        using var st = SafetensorsFile.Open(Path.Combine(dir, "model.safetensors"));
        var g = golden.FindTensor(ggufName)!;
        var h = st.Find(hfName)!;
        float[] hf = st.ReadFloats(h), gg = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(golden.GetTensorBytes(g)).ToArray();
        Assert.Equal(gg.Order(), hf.Select(v => model.StartsWith("gemma", StringComparison.Ordinal) ? v + 1f : v).Order()); // same values…
        Assert.NotEqual(gg, hf);                                                                                       // …elsewhere
        if (model == "gpt2.f32") Assert.Equal(g.Dims, h.Shape); // Conv1D: [in, out] = ne
        else Assert.Equal(Enumerable.Reverse(g.Dims), h.Shape);
    }

    private static string Folder(string name, string golden = "llama-gqa.f32")
    {
        string dir = Path.Combine(Tmp, name);
        using var f = GgufFile.Open(Shared.File_($"golden/models/{golden}.gguf"));
        HfFolderWriter.Write(f, dir);
        return dir;
    }

    private static InvalidModelFileException Refused(string dir)
    {
        var e = Assert.Throws<InvalidModelFileException>(() => ModelImporter.Import(dir).Dispose());
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    private static void EditConfig(string dir, string from, string to, string file = "config.json")
    {
        string path = Path.Combine(dir, file);
        string text = File.ReadAllText(path);
        Assert.Contains(from, text);
        File.WriteAllText(path, text.Replace(from, to));
    }

    [Fact]
    public void UnknownModelTypeIsOneLineNamingConfigJson()
    {
        string dir = Folder("bad-type");
        EditConfig(dir, "\"model_type\": \"llama\"", "\"model_type\": \"mamba\"");
        var e = Refused(dir);
        Assert.EndsWith("config.json: key 'model_type': 'mamba' is not supported (supported: llama, mistral, qwen2, phi3, gemma, gemma2, granite, gpt2, gpt_neox, starcoder2, ernie4_5, bert, distilbert, albert)", e.Message);
    }

    [Theory]
    [InlineData("llama-gqa.f32", "\"hidden_size\": 256,", "", "'hidden_size': missing")]
    [InlineData("llama-gqa.f32", "\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3", "'num_key_value_heads': 3 does not divide num_attention_heads 4")]
    [InlineData("llama-gqa.f32", "\"rope_theta\": 10000,", "\"rope_theta\": \"fast\",", "'rope_theta': expected a number, found \"fast\"")]
    [InlineData("llama-gqa.f32", "\"rope_theta\": 10000,", "\"rope_theta\": 10000, \"rope_scaling\": {\"rope_type\": \"dynamic\", \"factor\": 2},", "'rope_scaling.rope_type': 'dynamic' cannot be expressed")]
    [InlineData("llama-gqa.f32", "\"hidden_act\": \"silu\"", "\"hidden_act\": \"relu\"", "'hidden_act': 'relu' cannot be expressed: llama.cpp's llama computes silu")]
    [InlineData("qwen2.f32", "\"use_sliding_window\": false", "\"use_sliding_window\": true", "'use_sliding_window': true cannot be expressed")]
    [InlineData("gemma2.f32", "\"query_pre_attn_scalar\": 64", "\"query_pre_attn_scalar\": 224", "'query_pre_attn_scalar': 224 cannot be expressed")]
    [InlineData("gemma.f32", "\"head_dim\": 64,", "", "'head_dim': missing")]
    public void ConfigProblemsAreOneLineNamingTheKey(string golden, string from, string to, string expected)
    {
        string dir = Folder("bad-config-" + Guid.NewGuid().ToString("N"), golden);
        EditConfig(dir, from, to);
        var e = Refused(dir);
        Assert.Contains("config.json: key " + expected, e.Message);
    }

    [Fact]
    public void TensorProblemsAreOneLineNamingTheTensor()
    {
        string dir = Folder("bad-tensor");
        string st = Path.Combine(dir, "model.safetensors");
        using (var golden = GgufFile.Open(Shared.File_("golden/models/llama-gqa.f32.gguf")))
        {
            // attn_v stored [96, 256] instead of [128, 256]
            var entries = new List<SafetensorsEntry>();
            using (var f = SafetensorsFile.Open(st))
                foreach (var t in f.Tensors)
                {
                    byte[] b = f.ReadBytes(t);
                    entries.Add(t.Name == "model.layers.1.self_attn.v_proj.weight" ? new(t.Name, t.DType, [96, 256], b[..(96 * 256 * 4)]) : new(t.Name, t.DType, t.Shape, b));
                }
            SafetensorsWriter.Write(st, entries);
        }
        var e = Refused(dir);
        Assert.EndsWith("model.safetensors: tensor 'model.layers.1.self_attn.v_proj.weight' shape: [96, 256] does not match config.json (expected [128, 256])", e.Message);

        EditConfig(dir, "\"attention_bias\": false", "\"attention_bias\": true");
        e = Refused(dir);
        Assert.Contains("'model.layers.0.self_attn.q_proj.bias': missing", e.Message);
    }

    [Fact]
    public void UnknownPreTokenizerIsOneLineNamingTokenizerJson()
    {
        string dir = Folder("bad-pre", "qwen2.f32");
        EditConfig(dir, "\\\\p{N}|", "\\\\p{N}{1,2}|", "tokenizer.json");
        var e = Refused(dir);
        Assert.Contains("tokenizer.json: key 'pre_tokenizer': [Split(Isolated)", e.Message);
        Assert.Contains("is not a pre-tokenizer Ingot can name for llama.cpp (known: gpt-2, llama-bpe, qwen2, starcoder)", e.Message);
    }

    private static byte[] Bytes(ImportedTensor t)
    {
        var ms = new MemoryStream();
        t.WriteData(ms);
        return ms.ToArray();
    }
}
