using System.Text.Json;
using Xunit;

namespace Ingot.Formats.Tests;

public class SpecJsonTests
{
    private static string ModelSpecs => System.IO.Path.GetFullPath(System.IO.Path.Combine(Shared.Dir, "..", "main", "modelspecs"));

    private static string RepoModelSpecs()
    {
        // the repo is the parent of ../shared's sibling that holds Compiler.sln
        foreach (var d in Directory.GetDirectories(System.IO.Path.GetDirectoryName(Shared.Dir)!))
            if (File.Exists(System.IO.Path.Combine(d, "Compiler.sln")) && Directory.Exists(System.IO.Path.Combine(d, "modelspecs")))
                return System.IO.Path.Combine(d, "modelspecs");
        throw new Xunit.Sdk.XunitException("cannot find modelspecs/ next to Compiler.sln");
    }

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
        Assert.StartsWith("{\n  \"schema\": 1,\n  \"name\": \"stories260K\",\n  \"architecture\": \"llama\",\n", a);
        Assert.Contains("\"epsilon\": 1e-05", a);
        Assert.Contains("\"theta\": 10000,", a);
        using var doc = JsonDocument.Parse(a);
        Assert.Equal(
            ["schema", "name", "architecture", "vocab_size", "dim", "layers", "ffn_dim", "context_length", "attention", "norm", "rope", "ffn", "output", "tokenizer", "weights"],
            doc.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["heads", "kv_heads", "head_dim", "scale", "sliding_window", "logit_softcap", "qkv_bias"],
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
        foreach (var (layer, o) in spec.Weights.Layers)
            foreach (var (role, t) in o) Assert.Equal(t, back.Weights.TypeOf(role, layer));
    }

    [Fact]
    public void ParseRejectsBadSpecs()
    {
        string good = ModelSpecJson.Serialize(GgufSynth.Spec(new SynthOptions { Dim = 64, Heads = 4, Layers = 1, FfnDim = 128, VocabSize = 300 }));
        Assert.Contains("weights.attn_q", Assert.Throws<InvalidModelFileException>(() => ModelSpecJson.Parse(good.Replace("\"attn_q\": \"f32\"", "\"attn_q\": \"q9_9\""), "x.json")).Message);
        Assert.Contains("'dim'", Assert.Throws<InvalidModelFileException>(() => ModelSpecJson.Parse(good.Replace("\"dim\": 64", "\"dim\": \"64\""), "x.json")).Message);
        Assert.Throws<InvalidModelFileException>(() => ModelSpecJson.Parse(good[..100], "x.json"));
        Assert.Contains("schema", Assert.Throws<InvalidModelFileException>(() => ModelSpecJson.Parse(good.Replace("\"schema\": 1", "\"schema\": 2"), "x.json")).Message);
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
    ];

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
        Assert.Equal(GgmlType.F32, s.Weights.Roles["rope_freqs"]);
        Assert.False(s.Weights.Roles.ContainsKey("output"));

        using var g2 = GgufFile.Open(Shared.File_("golden/models/gemma2.f32.gguf"));
        var gs = GgufSpecReader.FromGguf(g2);
        Assert.Equal(("gemma2", "neox", "geglu"), (gs.Architecture, gs.Rope.Kind, gs.Ffn.Kind));
        Assert.Equal((8, 50f, 30f), (gs.Attention.SlidingWindow, gs.Attention.LogitSoftcap, gs.Output.FinalLogitSoftcap));
        Assert.True(gs.Output.Tied);
        using var t5 = GgufFile.Open(Shared.File_("golden/models/t5.f32.gguf"));
        var ts = GgufSpecReader.FromGguf(t5);
        Assert.Equal(("t5", "ugm"), (ts.Architecture, ts.Tokenizer.Kind)); // unknown to the generator, still described
    }
}
