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
        return s with
        {
            Attention = s.Attention with { Scale = 1f / MathF.Sqrt(s.ResolvedHeadDim), ScaleQuery = true },
            Rope = s.Rope with { Kind = RopeKind.Neox },
            Ffn = s.Ffn with { Gated = true, FusedGateUp = fusedGateUp, Activation = Activation.Silu },
        };
    }
}
