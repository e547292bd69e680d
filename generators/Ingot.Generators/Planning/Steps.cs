using Ingot.Specs;

namespace Ingot.Generators.Planning
{
    /// <summary>
    /// A fused operation: what the emitters walk, one emitter per kind (Emit/Steps). Built from <see cref="Op"/>s by
    /// <see cref="Fusion"/>; every step is value-equal, so layers whose steps are equal share one generated method.
    /// </summary>
    public abstract record Step;

    public sealed record EmbedStep(EmbedOp Embed) : Step;

    /// <summary>
    /// For each row: optionally normalize From into To, then convert the row to every activation form the next
    /// matmul's weights need (q8_0 blocks, f16, …) while it is still in L1. Rows: the chunk, or only the rows whose
    /// logits are wanted (the final norm).
    /// </summary>
    public sealed record RowPrepStep(NormOp? Norm, Buf From, Buf To, int Width, EquatableArray<ActKind> Acts) : Step;

    /// <summary>
    /// Q, K and V projections in one pass over their rows (one work unit per head), with the epilogue: biases, rope on
    /// Q and K, the Q pre-scale (0 = none), K and V written straight into the KV cache.
    /// </summary>
    public sealed record QkvStep(LinearOp Q, LinearOp K, LinearOp V, RopeKind Rope, int RopeDims, float QueryScale) : Step;

    public sealed record AttentionStep(AttentionOp Attention) : Step;

    /// <summary>The cross-attention keys and values of one decoder layer from the encoder's rows, in MaxBatch-row chunks (Acts: their activation forms).</summary>
    public sealed record CrossKvStep(CrossKvOp Cross, EquatableArray<ActKind> Acts) : Step;

    /// <summary>
    /// Y = epilogue(W · From) for every row of W and token of the chunk. Epilogue, in ggml's order: + bias, · Scale,
    /// soft-cap (Cap &gt; 0), relu; then Store into To, or Add: To = (v + To) (+ Then).
    /// </summary>
    public sealed record MatMulStep(LinearOp Linear, float Scale, float Cap, bool Accumulate, Buf To, Buf? Then, bool Relu = false) : Step;

    /// <summary>Gate and up projections in one pass over FfnDim rows, epilogue Hb = act(gate + b) · (up + b) (or act(up + b)).</summary>
    public sealed record GateUpStep(LinearOp? Gate, LinearOp Up, Activation Activation, Buf To) : Step;

    /// <summary>Target[t] = norm(From[t]) · w + Target[t]: Gemma 2's post-norms before the residual add.</summary>
    public sealed record NormAddStep(NormOp Norm, Buf Target) : Step;
}
