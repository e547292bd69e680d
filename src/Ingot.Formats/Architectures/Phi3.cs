using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// Phi-3/3.5-mini, Phi-4: fused attn_qkv (rows [Q | K | V]) and fused ffn_up (rows [gate | up], SwiGLU), NEOX rope, Q
/// multiplied by 1/sqrt(head_dim) after rope, and a sliding window on every layer when phi3.attention.sliding_window
/// is non-zero (0 = Phi-4, no window). A file with rope_factors_long.weight uses LongRoPE (the converter writes no
/// scaling type; llama.cpp picks the factors and phi3.rope.scaling.attn_factor from the tensors' presence).
/// </summary>
public sealed class Phi3Mapping : ArchitectureMapping
{
    public override string Name => "phi3";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s)
    {
        RequireTensor(f, "blk.0.attn_qkv.weight");
        bool fusedGateUp = f.FindTensor("blk.0.ffn_gate.weight") is null;
        var scaling = f.FindTensor("rope_factors_long.weight") is not null && s.Rope.Scaling.Kind == RopeScalingKind.None
            ? new RopeScalingSpec
            {
                Kind = RopeScalingKind.LongRope,
                OriginalContext = f.GetInt32("phi3.rope.scaling.original_context_length", 0),
                AttnFactor = f.GetFloat("phi3.rope.scaling.attn_factor", 1f),
            }
            : s.Rope.Scaling;
        return s with
        {
            Attention = s.Attention with { Scale = 1f / MathF.Sqrt(s.ResolvedHeadDim), ScaleQuery = true },
            Rope = s.Rope with { Kind = RopeKind.Neox, Scaling = scaling },
            Ffn = s.Ffn with { Gated = true, FusedGateUp = fusedGateUp, Activation = Activation.Silu },
        };
    }

    protected override void WriteFamilyMetadata(ModelSpec s, GgufWriter w)
    {
        w.Set("phi3.attention.sliding_window", (uint)s.Attention.SlidingWindow); // 0 written too: without the key llama.cpp guesses from the shape
        if (s.Rope.Scaling.Kind == RopeScalingKind.LongRope) w.Remove("phi3.rope.scaling.type"); // as the converter: the factor tensors say it
    }
}
