using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// The `ingot synth` side of a family: what a fresh random-weight model of the family looks like for given dimensions
/// (its block layout, biases, rope, activation, fused matrices, scales, window, soft-caps) and what llama.cpp's loader
/// for the family refuses. <see cref="GgufSynth.Layout"/> builds the shared part from <see cref="SynthOptions"/> and
/// hands it to <see cref="Synth"/>; the metadata is then <see cref="WriteMetadata"/>'s and the tensors are the ones
/// the generator binds, so reading the file back with <see cref="GgufSpecReader"/> gives the same spec.
/// </summary>
public abstract partial class ArchitectureMapping
{
    /// <summary>
    /// Refines <paramref name="common"/> — dimensions, heads, head_dim, RMSNorm, NORM rope over
    /// <see cref="SynthOptions.RopeDims"/> (or the whole head), gated SiLU, tied output as <see cref="SynthOptions.Tied"/>
    /// says (untied when null) — into the family's layout, reading the family's own options (window, scales, soft-caps,
    /// residual layout). An option the family has no use for is left alone: <see cref="GgufSynth.Layout"/> refuses it
    /// afterwards. Throws <see cref="ArgumentException"/> (one line) for shapes llama.cpp c392e50 cannot load or run.
    /// </summary>
    internal abstract ModelSpec Synth(ModelSpec common, SynthOptions o);

    /// <summary>Control tokens the synthetic vocabulary must contain for llama.cpp to load the family (Phi-3's &lt;|endoftext|&gt;).</summary>
    internal virtual string[] SynthControlTokens => [];

    /// <summary>One line: "synth: ARCH MESSAGE".</summary>
    protected ArgumentException SynthError(string message) => new($"synth: {Name} {message}");

    /// <summary>
    /// llama.cpp declares the family's q and o projections {dim, dim} (and its fused qkv {dim, dim + 2·kv}): head_dim must
    /// be dim / heads.
    /// </summary>
    protected void SynthRequireFullWidthHeads(ModelSpec s)
    {
        if (s.ResolvedHeadDim * s.Attention.Heads != s.Dim)
            throw SynthError($"needs head_dim = dim / heads ({s.Dim} / {s.Attention.Heads}): llama.cpp declares its attention matrices {{dim, dim}}");
    }

    /// <summary>The llama graph in llama.cpp c392e50 refuses n_rot ≠ head_dim ("invalid n_rot").</summary>
    protected void SynthRequireWholeHeadRope(ModelSpec s)
    {
        if (s.Rope.Dimensions != s.ResolvedHeadDim)
            throw SynthError($"rotates the whole head: rope dims {s.Rope.Dimensions} must equal head_dim {s.ResolvedHeadDim} (llama.cpp's llama loader: invalid n_rot)");
    }

    /// <summary>LayerNorm with biases on every norm (GPT-2, GPT-NeoX, StarCoder2).</summary>
    protected static NormSpec SynthLayerNorm(ModelSpec s) => new() { Kind = NormKind.LayerNorm, Epsilon = s.Norm.Epsilon, Bias = true };
}
