using Ingot.Formats.HuggingFace;
using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// IBM Granite 3.x: llama with four multipliers, all required keys: the embedding scale, the residual scale on both
/// sublayer outputs, attention.scale in place of 1/sqrt(head_dim) (read with the shared keys), and the logits divided
/// by logit_scale. Hugging Face (GraniteForCausalLM; GraniteModel extends LlamaModel): llama's tensors and q/k
/// permutation; embedding_multiplier, residual_multiplier, attention_multiplier, logits_scaling → the four keys
/// (GraniteConfig's default 1 for each); no rope_freqs (llama.cpp's granite has none).
/// </summary>
public sealed class GraniteMapping : ArchitectureMapping
{
    public override string Name => "granite";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s)
    {
        RequiredFloat(f, "granite.attention.scale"); // the shared reader took it as the scale (0 = 1/sqrt(head_dim), as llama.cpp)
        return WithScales(LlamaMapping.Apply(s), RequiredFloat(f, "granite.embedding_scale"), RequiredFloat(f, "granite.residual_scale"),
            s.Attention.Scale, RequiredFloat(f, "granite.logit_scale"));
    }

    /// <summary>The four multipliers.</summary>
    private static ModelSpec WithScales(ModelSpec s, float embedding, float residual, float attention, float logit) => s with
    {
        Embedding = s.Embedding with { Scale = embedding },
        Attention = s.Attention with { Scale = attention },
        Block = s.Block with { ResidualScale = residual },
        Output = s.Output with { LogitScale = logit },
    };

    /// <summary>The llama graph with the four multipliers; unless given, Granite 3.0's (12, 0.22, 1/head_dim, 8).</summary>
    internal override ModelSpec Synth(ModelSpec s, SynthOptions o)
    {
        var (embedding, residual, attention, logit) = o.Scales;
        if (logit == 0f) throw SynthError("needs a non-zero --logit-scale: logits are divided by it");
        return WithScales(LlamaMapping.Apply(s), embedding ?? 12f, residual ?? 0.22f, attention ?? 1f / s.ResolvedHeadDim, logit ?? 8f);
    }

    protected override void WriteFamilyMetadata(ModelSpec s, GgufWriter w)
    {
        w.Set("granite.embedding_scale", s.Embedding.Scale);
        w.Set("granite.residual_scale", s.Block.ResidualScale);
        w.Set("granite.attention.scale", s.Attention.Scale);
        w.Set("granite.logit_scale", s.Output.LogitScale);
    }

    internal override string[] HfModelTypes => ["granite"];

    // transformers' GraniteConfig
    internal override string HfDefaults => """
        {"max_position_embeddings": 2048, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": false,
         "embedding_multiplier": 1.0, "logits_scaling": 1.0, "residual_multiplier": 1.0, "attention_multiplier": 1.0}
        """;

    internal override ModelSpec FromHfConfig(HfConfig c)
    {
        HfActivation(c, "hidden_act", "silu");
        return WithScales(LlamaMapping.WithLinearBiases(c, HfDecoder(c)), c.Float("embedding_multiplier"), c.Float("residual_multiplier"),
            c.Float("attention_multiplier"), c.Float("logits_scaling"));
    }

    internal override IEnumerable<HfTensor> HfTensors(ModelSpec s, HfConfig c, HfCheckpoint ck) => LlamaStyleTensors(s, ropePairs: true);
}
