using System.Security.Cryptography;
using Ingot.Cli.Building;
using Ingot.Cli.Commands;
using Ingot.Formats;
using Ingot.Generators.Planning;
using Ingot.Host.CommandLine;
using Ingot.Specs;
using Xunit;

namespace Ingot.Host.Tests;

/// <summary>`ingot synth`: random-weight models of every family, as llama.cpp loads them and as the generator binds them.</summary>
public class SynthTests
{
    private static readonly string Tmp = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "ingot-synth-tests-" + Environment.ProcessId)).FullName;

    private static string TmpFile(string name) => Path.Combine(Tmp, name);

    private static int Synth(string[] args) => new SynthCommand().Run(args, TextWriter.Null);

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    public unsafe void WritesAConsistentModel(GgmlType type)
    {
        var o = new SynthOptions { Dim = 64, Layers = 2, Heads = 4, KvHeads = 2, FfnDim = 96, VocabSize = 300, ContextLength = 256, Type = type, Seed = 7 };
        string p = TmpFile($"s-{type}.gguf");
        var spec = SynthModel.Write(p, o, null);
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
        string a = TmpFile("a.gguf"), b = TmpFile("b.gguf"), c = TmpFile("c.gguf");
        SynthModel.Write(a, o, null);
        SynthModel.Write(b, o, null);
        SynthModel.Write(c, o with { Seed = 12 }, null);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(c));

        Assert.Throws<NotSupportedException>(() => SynthModel.Write(TmpFile("q.gguf"), o with { Type = GgmlType.Q8_0 }, null));
        int calls = 0;
        // a fake quantizer: fills each Q8_0 row with a recognisable pattern
        var spec = SynthModel.Write(TmpFile("q.gguf"), o with { Type = GgmlType.Q8_0 }, (t, row) =>
        {
            calls++;
            Assert.Equal(GgmlType.Q8_0, t);
            return Enumerable.Repeat((byte)7, row.Length / 32 * 34).ToArray();
        });
        Assert.Equal(GgmlType.Q8_0, spec.Weights.TypeOf("attn_q"));
        using var f = GgufFile.Open(TmpFile("q.gguf"));
        Assert.Equal(270 * 2 + 64 * 4 + 64 * 3, calls); // one call per row of every 2-D tensor
        Assert.All(f.GetTensorBytes(f.FindTensor("blk.0.ffn_up.weight")!).ToArray(), x => Assert.Equal(7, x));
        Assert.Equal(7u, (uint)f.GetInt("general.file_type"));
    }

    /// <summary>llama files are byte for byte what `ingot synth` wrote before it knew other families (SHA-256 of those files).</summary>
    [Theory]
    [InlineData("a629356cba4a62aff012e0cff47d606f297f650bbeb616b942c568d6f5b22b65", "a", "--dim 64 --layers 2 --heads 4 --kv-heads 2 --ffn 96 --vocab 300 --ctx 256 --seed 7")]
    [InlineData("23d8ded0459cef637f5eb2e1223ec634230f601147870f0f4a541c4370e9f931", "b", "--dim 128 --layers 1 --heads 2 --ffn 64 --vocab 270 --seed 11 --tied --type q8_0")]
    [InlineData("dc7b42af7c881117743b902a1f2970401b7464dcee13a1fa5ac56672a58321b9", "c", "--dim 96 --layers 2 --heads 3 --kv-heads 1 --ffn 160 --vocab 1000 --type q4_k")]
    public void LlamaFiles_AreUnchanged(string sha256, string name, string args)
    {
        string p = TmpFile($"pinned-{name}.gguf");
        Assert.Equal(0, Synth([.. args.Split(' '), "--name", name, "-o", p]));
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(p))));
    }

    /// <summary>A tiny model of each family (and the variants that change its tensors or keys).</summary>
    public static TheoryData<string> Families() =>
    [
        "llama", "llama --head-dim 32 --window 8", "qwen2 --tied", "phi3", "phi3 --window 4", "gemma --head-dim 32", "gemma2 --layers 26 --window 4 --attn-softcap 20 --final-softcap 10",
        "granite --embedding-scale 3 --residual-scale 0.5 --attention-scale 0.1 --logit-scale 4", "gpt2", "gptneox", "gptneox --rope-dims 4 --residual sequential",
        "starcoder2", "starcoder2 --tied", "ernie4_5 --head-dim 32", "ernie4_5 --untied",
    ];

    [Theory]
    [MemberData(nameof(Families))]
    public void EveryFamily_ImportsAsTheSpecItWrote_AndHoldsExactlyThePlannedTensors(string family)
    {
        string[] extra = family.Split(' ');
        string tag = string.Join("_", extra).Replace("-", "", StringComparison.Ordinal);
        string gguf = TmpFile($"fam-{tag}.gguf"), json = TmpFile($"fam-{tag}.json");
        string[] args = ["--arch", extra[0], "--dim", "64", "--heads", "4", "--kv-heads", "2", "--ffn", "96", "--vocab", "300", "--ctx", "64",
            "--seed", "5", "-o", gguf, "--spec", json, .. extra.Contains("--layers") ? [] : new[] { "--layers", "2" }, .. extra[1..]];
        Assert.Equal(0, Synth(args));

        var written = ModelSpecJson.Parse(File.ReadAllText(json), json);
        using var imported = ModelImporter.Import(gguf);
        Assert.Equal(ModelSpecJson.Serialize(written), ModelSpecJson.Serialize(imported.Spec));
        Assert.Equal(extra[0], imported.Spec.Architecture);

        string specJson = ModelSpecJson.Serialize(imported.Spec);
        Assert.Empty(SpecCompileCheck.Problems(imported.Spec.Name, specJson));
        var plan = Planner.Plan(imported.Spec, null).Value!;
        using var f = GgufFile.Open(gguf);
        Assert.Equal(SynthModel.Bound(plan).Select(t => (t.Name, string.Join(",", t.Dims))), f.Tensors.Select(t => (t.Name, string.Join(",", t.Dims))));
        Assert.All(f.Tensors.Where(t => t.Dims.Length == 1), t => Assert.Equal(GgmlType.F32, t.Type));
    }

    [Fact]
    public void FamilyLayouts_AreWhatLlamaCppLoads()
    {
        ModelSpec Layout(string arch, SynthOptions? o = null) =>
            GgufSynth.Layout((o ?? new SynthOptions { Dim = 64, Heads = 4, KvHeads = 2, FfnDim = 96, VocabSize = 300, ContextLength = 64, Layers = 2 }) with { Architecture = arch });

        Assert.True(Layout("gemma").Output.Tied);
        Assert.True(Layout("ernie4_5").Output.Tied);
        Assert.False(Layout("phi3").Output.Tied);
        Assert.Equal(WindowLayers.Even, Layout("gemma2", new SynthOptions { Dim = 64, Heads = 4, FfnDim = 96, VocabSize = 300, Layers = 26 }).Attention.SlidingWindowLayers);
        Assert.Equal(4, Layout("gptneox").Rope.Dimensions); // a quarter of head_dim 16
        Assert.Equal(ResidualKind.Parallel, Layout("gptneox").Block.Residual);
        Assert.Equal(12f, Layout("granite").Embedding.Scale);
        var gpt2 = Layout("gpt2");
        Assert.Equal((PositionKind.Learned, RopeKind.None, NormKind.LayerNorm, true), (gpt2.Embedding.Positions, gpt2.Rope.Kind, gpt2.Norm.Kind, gpt2.Ffn.Bias));

        // Phi-3's vocabulary has <|endoftext|> (llama.cpp looks it up when general.name contains "phi3"), as the last token,
        // also in the smallest vocabulary (specials, bytes and it).
        string p = TmpFile("phi3-named.gguf");
        Assert.Equal(0, Synth(["--arch", "phi3", "--dim", "64", "--heads", "4", "--layers", "1", "--ffn", "64", "--vocab", "260", "--name", "phi3-mini", "-o", p]));
        using var f = GgufFile.Open(p);
        var tokens = f.GetArray<string>("tokenizer.ggml.tokens");
        Assert.Equal((260, "<|endoftext|>", 3), (tokens.Length, tokens[^1], f.GetArray<int>("tokenizer.ggml.token_type")[^1]));
    }

    [Theory]
    [InlineData("--arch qwen2 --window 4", "--window does not apply to qwen2")]
    [InlineData("--arch gemma --untied", "--untied does not apply to gemma")]
    [InlineData("--arch phi3 --tied", "--tied does not apply to phi3")]
    [InlineData("--arch gpt2 --rope-theta 500", "--rope-theta does not apply to gpt2")]
    [InlineData("--arch llama --logit-scale 2", "--logit-scale does not apply to llama")]
    [InlineData("--arch starcoder2 --residual parallel", "--residual does not apply to starcoder2")]
    [InlineData("--arch gemma --attn-softcap 5", "--attn-softcap does not apply to gemma")]
    [InlineData("--arch gemma2", "gemma2 needs 26, 42 or 46 layers, not 2")]
    [InlineData("--arch gemma2 --layers 26 --window 0", "positive --window")]
    [InlineData("--arch llama --rope-dims 8", "invalid n_rot")]
    [InlineData("--arch ernie4_5 --rope-dims 8", "invalid n_rot")]
    [InlineData("--arch gptneox --rope-dims 5", "rope dims 5 must be even")]
    [InlineData("--arch qwen2 --head-dim 32", "qwen2 needs head_dim = dim / heads")]
    [InlineData("--arch gpt2 --head-dim 8", "gpt2 needs head_dim = dim / heads")]
    [InlineData("--arch granite --logit-scale 0", "non-zero --logit-scale")]
    [InlineData("--arch gptneox --residual diagonal", "--residual 'diagonal'")]
    [InlineData("--arch mamba", "unknown architecture 'mamba'")]
    [InlineData("--arch llama --tied --untied", "contradict")]
    [InlineData("--arch llama --window x", "--window: 'x' is not a valid integer")]
    public void RefusesWhatTheFamilyCannotHave_InOneLine(string args, string message)
    {
        string[] a = [.. args.Split(' '), "--dim", "64", "--heads", "4", "--ffn", "64", "--vocab", "300", "-o", TmpFile("refused.gguf"), .. args.Contains("--layers") ? [] : new[] { "--layers", "2" }];
        var e = Assert.Throws<UsageException>(() => Synth(a));
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
