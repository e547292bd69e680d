using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// Gemma 1: token rows times sqrtf(dim) (float32, as llama.cpp), GeGLU with ggml's GELU, NEOX rope, Q multiplied by
/// 1/sqrt(head_dim) after rope, output always tied (llama.cpp refuses an output.weight). GGUF norm weights already
/// hold HF's "+1".
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

    /// <summary>Gemma's converters write key_length and value_length even when they equal dim / heads.</summary>
    internal static void WriteHeadDim(string arch, ModelSpec s, GgufWriter w)
    {
        w.Set(arch + ".attention.key_length", (uint)s.ResolvedHeadDim);
        w.Set(arch + ".attention.value_length", (uint)s.ResolvedHeadDim);
    }
}

/// <summary>
/// Gemma 2: Gemma plus RMSNorms on the attention and FFN outputs before each residual add, scores soft-capped
/// (attn_logit_softcapping, default 50) and logits soft-capped (final_logit_softcapping, default 30), and a sliding
/// window (default 4096) on even layers. llama.cpp picks the query scale from the layer count (its model type): 46
/// layers (27B) use 1/sqrt(dim / heads), 26 and 42 use 1/sqrt(head_dim); it aborts on any other count, where we use
/// 1/sqrt(head_dim) (what HF's query_pre_attn_scalar is for the 2B and 9B models).
/// </summary>
public sealed class Gemma2Mapping : ArchitectureMapping
{
    public override string Name => "gemma2";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s)
    {
        s = GemmaMapping.Apply(s);
        int window = f.GetInt32("gemma2.attention.sliding_window", 4096);
        return s with
        {
            Attention = s.Attention with
            {
                Scale = 1f / MathF.Sqrt(QueryScalar(s)),
                LogitSoftcap = f.GetFloat("gemma2.attn_logit_softcapping", 50f),
                SlidingWindow = window,
                SlidingWindowLayers = window > 0 ? WindowLayers.Even : WindowLayers.None,
            },
            Block = s.Block with { PostAttentionNorm = true, PostFfnNorm = true },
            Output = s.Output with { FinalLogitSoftcap = f.GetFloat("gemma2.final_logit_softcapping", 30f) },
        };
    }

    /// <summary>The denominator of llama.cpp's query scale: dim / heads for the 46-layer 27B model, else head_dim.</summary>
    private static int QueryScalar(ModelSpec s) => s.Layers == 46 ? s.Dim / s.Attention.Heads : s.ResolvedHeadDim;

    protected override void WriteFamilyMetadata(ModelSpec s, GgufWriter w)
    {
        GemmaMapping.WriteHeadDim(Name, s, w);
        w.Set("gemma2.attention.sliding_window", (uint)s.Attention.SlidingWindow);
        w.Set("gemma2.attn_logit_softcapping", s.Attention.LogitSoftcap);
        w.Set("gemma2.final_logit_softcapping", s.Output.FinalLogitSoftcap);
    }
}
