using Ingot.Specs;
using System.Text.Json;
using Xunit;

namespace Ingot.Formats.Tests;

public class SpecJsonTests
{
    private static string RepoModelSpecs() => System.IO.Path.Combine(Shared.RepoRoot, "modelspecs");

    [Fact]
    public void SerializationIsDeterministicAndInContractOrder()
    {
        using var f = GgufFile.Open(Shared.File_("models/gguf/stories260K-f32.gguf"));
        var spec = GgufSpecReader.FromGguf(f, "stories260K");
        string a = ModelSpecJson.Serialize(spec);
        string b = ModelSpecJson.Serialize(GgufSpecReader.FromGguf(f, "stories260K"));
        Assert.Equal(a, b);
        Assert.DoesNotContain("\r", a);
        Assert.EndsWith("}\n", a);
        Assert.StartsWith("{\n  \"schema\": 2,\n  \"name\": \"stories260K\",\n  \"architecture\": \"llama\",\n", a);
        Assert.Contains("\"epsilon\": 1e-05", a);
        Assert.Contains("\"theta\": 10000,", a);
        using var doc = JsonDocument.Parse(a);
        Assert.Equal(
            ["schema", "name", "architecture", "vocab_size", "dim", "layers", "ffn_dim", "context_length", "embedding", "attention", "norm", "block", "rope", "ffn", "output", "tokenizer", "weights"],
            doc.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["heads", "kv_heads", "head_dim", "causal", "fused_qkv", "qkv_bias", "output_bias", "scale", "scale_query", "logit_softcap", "sliding_window", "sliding_window_layers", "relative_buckets"],
            doc.RootElement.GetProperty("attention").EnumerateObject().Select(p => p.Name));
        Assert.Equal(["token_embd", "output_norm", "output", "attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"],
            doc.RootElement.GetProperty("weights").EnumerateObject().Select(p => p.Name));
        Assert.Equal(1f / MathF.Sqrt(8), doc.RootElement.GetProperty("attention").GetProperty("scale").GetSingle());
    }

    [Fact]
    public void ParseRoundTripsWithLayerOverrides()
    {
        using var f = GgufFile.Open(Shared.File_("golden/models/llama-gqa.q4_k_m.gguf"));
        var spec = GgufSpecReader.FromGguf(f, "q4km");
        Assert.NotEmpty(spec.Weights.Layers); // q4_k_m mixes q4_k/q6_k across layers
        string json = ModelSpecJson.Serialize(spec);
        var back = ModelSpecJson.Parse(json);
        Assert.Equal(json, ModelSpecJson.Serialize(back));
        Assert.Equal(spec, back);
        foreach (var o in spec.Weights.Layers) Assert.Equal(o.Type, back.Weights.ForLayer(o.Layer, o.Role));
    }

    [Fact]
    public void ParseRejectsBadSpecs()
    {
        var layout = GgufSynth.Layout(new SynthOptions { Dim = 64, Heads = 4, Layers = 1, FfnDim = 128, VocabSize = 300 });
        string good = ModelSpecJson.Serialize(GgufSynth.WithTypes(layout, [new SynthTensor("blk.0.attn_q.weight", GgmlType.F32, [64, 64])]));
        Assert.Contains("weights.attn_q", Assert.Throws<InvalidModelFileException>(() => ModelSpecJson.Parse(good.Replace("\"attn_q\": \"f32\"", "\"attn_q\": \"q9_9\""), "x.json")).Message);
        Assert.Contains("'dim'", Assert.Throws<InvalidModelFileException>(() => ModelSpecJson.Parse(good.Replace("\"dim\": 64", "\"dim\": \"64\""), "x.json")).Message);
        Assert.Throws<InvalidModelFileException>(() => ModelSpecJson.Parse(good[..100], "x.json"));
        Assert.Contains("schema", Assert.Throws<InvalidModelFileException>(() => ModelSpecJson.Parse(good.Replace("\"schema\": 2", "\"schema\": 1"), "x.json")).Message);
        Assert.Contains("'norm.kind'", Assert.Throws<InvalidModelFileException>(() => ModelSpecJson.Parse(good.Replace("\"rmsnorm\"", "\"batchnorm\""), "x.json")).Message);
        Assert.Contains("'colour'", Assert.Throws<InvalidModelFileException>(() => ModelSpecJson.Parse(good.Replace("\"schema\": 2,", "\"schema\": 2, \"colour\": 1,"), "x.json")).Message);
    }

    public static IEnumerable<object[]> CommittedSpecs() =>
    [
        ["stories260K", "models/gguf/stories260K-f32.gguf"],
        ["stories260K-f16", "models/gguf/stories260K-f16.gguf"],
        ["stories260K-q8_0", "models/gguf/stories260K-q8_0.gguf"],
        ["llama-gqa-f32", "golden/models/llama-gqa.f32.gguf"],
        ["llama-gqa-f16", "golden/models/llama-gqa.f16.gguf"],
        ["llama-gqa-q8_0", "golden/models/llama-gqa.q8_0.gguf"],
        ["llama-mqa-l3-f32", "golden/models/llama-mqa-l3.f32.gguf"],
        ["stories260K-q4_0", "models/gguf/stories260K-q4_0.gguf"],
        ["llama-gqa-q4_0", "golden/models/llama-gqa.q4_0.gguf"],
        ["llama-gqa-q6_k", "golden/models/llama-gqa.q6_k.gguf"],
        ["llama-gqa-q5_k_m", "golden/models/llama-gqa.q5_k_m.gguf"],
        ["llama-gqa-q4_k_m", "golden/models/llama-gqa.q4_k_m.gguf"],
        ["qwen2-f32", "golden/models/qwen2.f32.gguf"],
        ["phi3-f32", "golden/models/phi3.f32.gguf"],
        ["phi3-swa-f32", "golden/models/phi3-swa.f32.gguf"],
        ["gemma-f32", "golden/models/gemma.f32.gguf"],
        ["gemma-f16", "golden/models/gemma.f16.gguf"],
        ["gemma2-f32", "golden/models/gemma2.f32.gguf"],
        ["granite-f32", "golden/models/granite.f32.gguf"],
        ["gpt2-f32", "golden/models/gpt2.f32.gguf"],
        ["gptneox-f32", "golden/models/gptneox.f32.gguf"],
        ["starcoder2-f32", "golden/models/starcoder2.f32.gguf"],
        ["bert-f32", "golden/models/bert.f32.gguf"],
        ["bert-f16", "golden/models/bert.f16.gguf"],
        ["t5-f32", "golden/models/t5.f32.gguf"],
    ];

    [Fact]
    public void EveryCommittedSpecHasItsSourceListed()
    {
        var listed = CommittedSpecs().Select(r => (string)r[0]).ToHashSet(StringComparer.Ordinal);
        foreach (var f in Directory.GetFiles(RepoModelSpecs(), "*.json"))
            Assert.Contains(System.IO.Path.GetFileNameWithoutExtension(f), listed);
    }

    /// <summary>modelspecs/*.json are exactly what `ingot import` writes for their source files.</summary>
    [Theory]
    [MemberData(nameof(CommittedSpecs))]
    public void CommittedSpecsMatchImporterOutput(string name, string source)
    {
        string committed = File.ReadAllText(System.IO.Path.Combine(RepoModelSpecs(), name + ".json"));
        using var m = ModelImporter.Import(Shared.File_(source), name: name);
        Assert.Equal(committed, ModelSpecJson.Serialize(m.Spec));
    }

    [Fact]
    public void GoldenLlamaSpecsDescribeTheirFiles()
    {
        using var f = GgufFile.Open(Shared.File_("golden/models/llama-mqa-l3.f32.gguf"));
        var s = GgufSpecReader.FromGguf(f);
        Assert.Equal((4, 1, 64), (s.Attention.Heads, s.Attention.KvHeads, s.Attention.HeadDim));
        Assert.Equal(500000f, s.Rope.Theta);
        Assert.Equal("bpe", s.Tokenizer.Kind);
        Assert.True(s.Tokenizer.AddBos); // llama-bpe pre-tokenizer: llama.cpp adds BOS
        Assert.True(s.Output.Tied); // no output.weight
        Assert.True(s.Rope.FreqFactors); // llama3-style rope_freqs.weight
        Assert.Equal(GgmlType.F32, s.Weights.TypeOf("rope_freqs"));
        Assert.Null(s.Weights.Role("output"));

        using var g2 = GgufFile.Open(Shared.File_("golden/models/gemma2.f32.gguf"));
        var gs = GgufSpecReader.FromGguf(g2);
        Assert.Equal(("gemma2", RopeKind.Neox, Activation.Gelu, true), (gs.Architecture, gs.Rope.Kind, gs.Ffn.Activation, gs.Ffn.Gated));
        Assert.Equal((8, WindowLayers.Even, 50f, 30f), (gs.Attention.SlidingWindow, gs.Attention.SlidingWindowLayers, gs.Attention.LogitSoftcap, gs.Output.FinalLogitSoftcap));
        Assert.True(gs.Output.Tied);
        using var t5 = GgufFile.Open(Shared.File_("golden/models/t5.f32.gguf"));
        var ts = GgufSpecReader.FromGguf(t5); // an encoder-decoder: the spec describes its decoder, the stacks' tensors are enc.* / dec.*
        Assert.Equal(("t5", 32, 1f, RopeKind.None), (ts.Architecture, ts.Attention.RelativeBuckets, ts.Attention.Scale, ts.Rope.Kind));
        Assert.Equal((true, Activation.Gelu, false), (ts.Ffn.Gated, ts.Ffn.Activation, ts.Output.Tied));
        Assert.Equal(GgmlType.F32, ts.Weights.TypeOf("enc.attn_rel_b"));
        Assert.Equal(GgmlType.F32, ts.Weights.TypeOf("dec.cross_attn_q"));
    }
}
