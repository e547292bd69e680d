using Ingot.Specs;

namespace Ingot.Generators.Planning
{
    /// <summary>
    /// The activation buffers ops read and write, each (tokens of the chunk, width). K and V are this layer's KV cache at
    /// the chunk's positions. O, Gate, Up and F exist only between unfused ops: fusion folds them into epilogues or
    /// tiles, or renames them to T when a post-norm or a parallel residual needs the value materialized. An
    /// encoder–decoder's decoder also reads Enc (the encoder's output rows) into CK and CV (this layer's cross-attention
    /// keys and values).
    /// </summary>
    public enum Buf { X, Xn, Q, K, V, Att, O, Gate, Up, Hb, F, T, Logits, Enc, CK, CV }

    /// <summary>
    /// A tensor the plan binds. <see cref="Name"/> is its GGUF name without the "blk.N." prefix of per-layer tensors
    /// ("attn_q.weight", "attn_qkv.bias", "token_embd.weight"). Matrices are (Rows, Cols) row-major, row = output;
    /// vectors have Rows = 0 and Cols elements. <see cref="Stack"/>: an encoder–decoder's stack ("enc", "dec": T5's
    /// enc.blk.N.attn_q, dec.output_norm), empty otherwise.
    /// </summary>
    public sealed record WeightRef(string Name, bool PerLayer, WeightKind Kind, int Rows, int Cols, string Stack = "")
    {
        public bool IsVector => Rows == 0;

        /// <summary>"attn_qkv.bias" → "AttnQkvBias", "attn_q.weight" → "AttnQ" (stack "enc": "EncAttnQ"): the field that holds its pointer.</summary>
        public string Field
        {
            get
            {
                var sb = new System.Text.StringBuilder();
                bool upper = true;
                string stem = Name.EndsWith(".weight", System.StringComparison.Ordinal) ? Name.Substring(0, Name.Length - 7) : Name;
                foreach (char c in (Stack.Length > 0 ? Stack + "_" : "") + stem)
                {
                    if (c == '_' || c == '.') { upper = true; continue; }
                    sb.Append(upper ? char.ToUpperInvariant(c) : c);
                    upper = false;
                }
                return sb.ToString();
            }
        }

        /// <summary>The GGUF tensor: [stack.]blk.N.NAME for a per-layer one (N = <paramref name="layer"/>, a C# expression when emitted), [stack.]NAME else.</summary>
        public string TensorName(string layer) => (Stack.Length > 0 ? Stack + "." : "") + (PerLayer ? "blk." + layer + "." : "") + Name;
    }

    /// <summary>One unfused operation of the lowered graph. Fusion passes (<see cref="Fusion"/>) turn them into <see cref="Step"/>s.</summary>
    public abstract record Op;

    /// <summary>
    /// X[t] = token row · Scale (+ token_types row 0) (+ position row), in ggml's order: GPT-2's and BERT's learned
    /// positions, BERT's segment row (llama.cpp hard-codes type 0), Gemma's and Granite's scales.
    /// </summary>
    public sealed record EmbedOp(WeightRef Tokens, float Scale, WeightRef? Positions, WeightRef? TokenTypes = null) : Op
    {
        /// <summary>Where the rows go and how wide they are: X at Dim, or Xn at ALBERT's embedding size (0 = Dim).</summary>
        public Buf Target { get; init; } = Buf.X;

        public int Width { get; init; }
    }

    /// <summary>To[t] = norm(From[t]) · Weight (+ Bias), RMSNorm or LayerNorm over Width values.</summary>
    public sealed record NormOp(NormKind Kind, WeightRef Weight, WeightRef? Bias, float Epsilon, Buf From, Buf To, int Width) : Op;

    /// <summary>
    /// To[t] = W[RowOffset .. RowOffset + Rows) · From[t] (+ Bias over the same rows). A row slice of one matrix is how
    /// fused tensors (attn_qkv, Phi-3's gate|up) split into their parts.
    /// </summary>
    public sealed record LinearOp(string Name, WeightRef Weight, int RowOffset, int Rows, WeightRef? Bias, Buf From, Buf To) : Op
    {
        public int Cols => Weight.Cols;
    }

    /// <summary>Rotary embedding over the first Dims values of every head of Target (Q or K), at each token's position.</summary>
    public sealed record RopeOp(Buf Target, RopeKind Kind, int Dims) : Op;

    /// <summary>Target ·= Scale (Q pre-scaling, Granite's residual multiplier).</summary>
    public sealed record ScaleOp(Buf Target, float Scale) : Op;

    /// <summary>
    /// Att = softmax(score(Q·K) + mask) · V over the cache. Score: soft-cap (Softcap &gt; 0), then · Scale. Mask: causal, and
    /// on the layers <see cref="WindowLayers"/> selects, keys older than Window positions; an encoder's (Causal false)
    /// query sees every token of the input.
    /// </summary>
    public sealed record AttentionOp(float Scale, float Softcap, int Window, WindowLayers WindowLayers, bool Causal = true) : Op
    {
        /// <summary>T5's relative position bias: layer 0's attn_rel_b (heads × buckets), shared by every layer; null = none.</summary>
        public WeightRef? RelativeBias { get; init; }

        public int RelativeBuckets { get; init; }

        /// <summary>Cross-attention: the queries see the encoder's keys and values (CK, CV), all of them.</summary>
        public bool Cross { get; init; }
    }

    /// <summary>
    /// CK = K · Enc, CV = V · Enc over the encoder's output rows: this layer's cross-attention keys and values, computed
    /// once per encoded input (the first decoder chunk after Encode).
    /// </summary>
    public sealed record CrossKvOp(LinearOp K, LinearOp V) : Op;

    /// <summary>To = act(Gate) · Up, or act(Up) when there is no gate.</summary>
    public sealed record GluOp(Activation Activation, Buf? Gate, Buf Up, Buf To) : Op;

    /// <summary>Target = (Term + Target) (+ Then): the residual add; GPT-NeoX's parallel form adds the attention output last.</summary>
    public sealed record AddOp(Buf Target, Buf Term, Buf? Then) : Op;

    /// <summary>Target = act(Target): a classification head's pooler, tanh (BERT's, llama.cpp's rank head) or relu (DistilBERT's).</summary>
    public sealed record ActivationOp(Buf Target, Activation Kind) : Op;

    /// <summary>Logits ·= Scale, then soft-capped (Cap &gt; 0): Granite's 1/logit_scale, Gemma 2's final cap.</summary>
    public sealed record LogitsOp(float Scale, float Cap) : Op;
}
