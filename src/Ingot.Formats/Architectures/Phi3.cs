using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// Phi-3/3.5-mini, Phi-4: fused attn_qkv (rows [Q | K | V]) and fused ffn_up (rows [gate | up], SwiGLU), NEOX rope, Q
/// multiplied by 1/sqrt(head_dim) after rope, and a sliding window on every layer when phi3.attention.sliding_window
/// is non-zero (0 = Phi-4, no window).
/// </summary>
public sealed class Phi3Mapping : ArchitectureMapping
{
    public override string Name => "phi3";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s)
    {
        RequireTensor(f, "blk.0.attn_qkv.weight");
        bool fusedGateUp = f.FindTensor("blk.0.ffn_gate.weight") is null;
        var rope = s.Rope with { Kind = RopeKind.Neox };
        if (f.FindTensor("rope_factors_long.weight") is not null && !s.Rope.FreqFactors)
        {
            // Phi-3 128k (LongRoPE): the converter writes the two factor sets and the attention factor, no scaling type.
            // llama.cpp uses the long set when the allocated context exceeds the original one, and scales cos/sin by attn_factor.
            rope = rope with
            {
                Scaling = new RopeScalingSpec
                {
                    Kind = RopeScalingKind.LongRope,
                    OriginalContext = f.GetInt32("phi3.rope.scaling.original_context_length", s.ContextLength),
                    AttnFactor = f.GetFloat("phi3.rope.scaling.attn_factor", 1f),
                },
            };
        }
        return s with
        {
            Attention = s.Attention with { Scale = 1f / MathF.Sqrt(s.ResolvedHeadDim), ScaleQuery = true },
            Rope = rope,
            Ffn = s.Ffn with { Gated = true, FusedGateUp = fusedGateUp, Activation = Activation.Silu },
        };
    }
}
