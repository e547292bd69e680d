using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// LLaMA 1–3, Mistral, TinyLlama, SmolLM, DeepSeek-R1-Distill-Llama: RMSNorm, NORM rope (the converter permuted q/k
/// rows so that interleaved pairs equal HF's rotate-half), SwiGLU, optional rope_freqs (Llama 3.1). A
/// llama.attention.sliding_window (Mistral) is honoured on every layer; llama.cpp ignores it (the host's --no-swa
/// reproduces that).
/// </summary>
public sealed class LlamaMapping : ArchitectureMapping
{
    public override string Name => "llama";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s) => Apply(s);

    /// <summary>The llama graph's conventions (Granite's too): NORM rope, SiLU.</summary>
    internal static ModelSpec Apply(ModelSpec s) => s with
    {
        Rope = s.Rope with { Kind = RopeKind.Norm },
        Ffn = s.Ffn with { Activation = Activation.Silu },
    };
}

/// <summary>Qwen2/2.5, DeepSeek-R1-Distill-Qwen: llama with q/k/v biases (added before rope) and NEOX rope. llama.cpp ignores a sliding window here, as do we.</summary>
public sealed class Qwen2Mapping : ArchitectureMapping
{
    public override string Name => "qwen2";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s) => s with
    {
        Attention = s.Attention with { SlidingWindow = 0, SlidingWindowLayers = WindowLayers.None },
        Rope = s.Rope with { Kind = RopeKind.Neox },
        Ffn = s.Ffn with { Activation = Activation.Silu },
    };
}

/// <summary>
/// IBM Granite 3.x: llama with four multipliers, all required keys: the embedding scale, the residual scale on both
/// sublayer outputs, attention.scale in place of 1/sqrt(head_dim) (read with the shared keys), and the logits divided
/// by logit_scale.
/// </summary>
public sealed class GraniteMapping : ArchitectureMapping
{
    public override string Name => "granite";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s)
    {
        RequiredFloat(f, "granite.attention.scale");
        s = LlamaMapping.Apply(s);
        return s with
        {
            Embedding = s.Embedding with { Scale = RequiredFloat(f, "granite.embedding_scale") },
            Block = s.Block with { ResidualScale = RequiredFloat(f, "granite.residual_scale") },
            Output = s.Output with { LogitScale = RequiredFloat(f, "granite.logit_scale") },
        };
    }

    protected override void WriteFamilyMetadata(ModelSpec s, GgufWriter w)
    {
        w.Set("granite.embedding_scale", s.Embedding.Scale);
        w.Set("granite.residual_scale", s.Block.ResidualScale);
        w.Set("granite.attention.scale", s.Attention.Scale);
        w.Set("granite.logit_scale", s.Output.LogitScale);
    }
}
