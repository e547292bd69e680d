using Ingot.Formats.HuggingFace;
using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// Gemma 1: token rows times sqrtf(dim) (float32, as llama.cpp), GeGLU with ggml's GELU, NEOX rope, Q multiplied by
/// 1/sqrt(head_dim) after rope, output always tied (llama.cpp refuses an output.weight). GGUF norm weights already
/// hold HF's "+1".
/// <para>
/// Hugging Face (GemmaForCausalLM; convert_hf_to_gguf's GemmaModel): head_dim required and always written; every
/// *norm.weight stored as 1 + w (HF's RMSNorm computes x·(1 + w)); lm_head dropped (tied); no permutation (NEOX);
/// tokenizer.ggml.add_space_prefix false.
/// </para>
/// </summary>
public sealed class GemmaMapping : ArchitectureMapping
{
    public override string Name => "gemma";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s)
    {
        if (f.FindTensor("output.weight") is not null)
            throw new InvalidModelFileException(f.Path, "tensor 'output.weight'", null, "gemma's output is always tied to token_embd (llama.cpp refuses this tensor)");
        return Apply(s);
    }

    internal static ModelSpec Apply(ModelSpec s) => s with
    {
        Embedding = s.Embedding with { Scale = MathF.Sqrt(s.Dim) },
        Attention = s.Attention with { Scale = 1f / MathF.Sqrt(s.ResolvedHeadDim), ScaleQuery = true },
        Rope = s.Rope with { Kind = RopeKind.Neox },
        Ffn = s.Ffn with { Gated = true, Activation = Activation.Gelu },
        Output = s.Output with { Tied = true },
    };

    protected override void WriteFamilyMetadata(ModelSpec s, GgufWriter w) => WriteHeadDim(Name, s, w);

    /// <summary>Gemma's conventions (<see cref="Apply"/>); head_dim free; always tied.</summary>
    internal override ModelSpec Synth(ModelSpec s, SynthOptions o) => Apply(s);

    /// <summary>Gemma's converters write key_length and value_length even when they equal dim / heads.</summary>
    internal static void WriteHeadDim(string arch, ModelSpec s, GgufWriter w)
    {
        w.Set(arch + ".attention.key_length", (uint)s.ResolvedHeadDim);
        w.Set(arch + ".attention.value_length", (uint)s.ResolvedHeadDim);
    }

    internal override string[] HfModelTypes => ["gemma"];

    // transformers' GemmaConfig
    internal override string HfDefaults => """{"max_position_embeddings": 8192, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": true}""";

    internal override ModelSpec FromHfConfig(HfConfig c) => FromGemmaConfig(this, c);

    /// <summary>What Gemma and Gemma 2 configs share: head_dim required, GELU (tanh), no attention bias, tied output.</summary>
    internal static ModelSpec FromGemmaConfig(ArchitectureMapping family, HfConfig c)
    {
        c.Int("head_dim");
        foreach (var key in new[] { "hidden_activation", "hidden_act" })
            if (c.String(key) is { } act && act is not ("gelu_pytorch_tanh" or "gelu"))
                throw c.Error(key, $"'{act}' cannot be expressed: llama.cpp's {family.Name} computes gelu_pytorch_tanh");
        if (c.Bool("attention_bias", false)) throw c.Error("attention_bias", $"true cannot be expressed: llama.cpp's {family.Name} has no attention biases");
        var s = family.HfDecoder(c);
        return s with { Output = s.Output with { Tied = true } };
    }

    internal override IEnumerable<HfTensor> HfTensors(ModelSpec s, HfConfig c, HfCheckpoint ck) => PlusOneNorms(LlamaStyleTensors(s, ropePairs: false));

    /// <summary>HF Gemma norms compute x·(1 + w); GGUF stores 1 + w.</summary>
    internal static IEnumerable<HfTensor> PlusOneNorms(IEnumerable<HfTensor> tensors) =>
        tensors.Select(t => t.Gguf.EndsWith("norm.weight", StringComparison.Ordinal) ? t with { Layout = HfLayout.PlusOne } : t);

    internal override bool HfDrops(string name, ModelSpec s) => name == "lm_head.weight" || base.HfDrops(name, s);

    internal override bool? HfAddSpacePrefix => false;
}
