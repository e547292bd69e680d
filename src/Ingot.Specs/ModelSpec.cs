namespace Ingot.Specs
{
    // modelspecs/NAME.json (schema 2; every field is documented in modelspecs/README.md). Value-equal records with
    // init-only properties: importers build them with object initializers and `with`, the generator's incremental
    // pipeline compares them by value, and SpecWriter writes them in one canonical form.

    /// <summary>An architecture's spec: dimensions, then one record per part of the block, then the weight types.</summary>
    public sealed record ModelSpec
    {
        public const int CurrentSchema = 2;

        public int Schema { get; init; } = CurrentSchema;
        public string Name { get; init; } = "";
        /// <summary>The family ("llama", "qwen2", "gemma2", …): which architecture mapping lowers this spec.</summary>
        public string Architecture { get; init; } = "llama";
        public int VocabSize { get; init; }
        /// <summary>Width of the residual stream (n_embd).</summary>
        public int Dim { get; init; }
        public int Layers { get; init; }
        /// <summary>Feed-forward hidden width (the width of gate and up each, also when they are fused).</summary>
        public int FfnDim { get; init; }
        /// <summary>The trained context as the file states it.</summary>
        public int ContextLength { get; init; }
        public EmbeddingSpec Embedding { get; init; } = new EmbeddingSpec();
        public AttentionSpec Attention { get; init; } = new AttentionSpec();
        public NormSpec Norm { get; init; } = new NormSpec();
        public BlockSpec Block { get; init; } = new BlockSpec();
        public RopeSpec Rope { get; init; } = new RopeSpec();
        public FfnSpec Ffn { get; init; } = new FfnSpec();
        public OutputSpec Output { get; init; } = new OutputSpec();
        public TokenizerSpec Tokenizer { get; init; } = new TokenizerSpec();
        public WeightsSpec Weights { get; init; } = WeightsSpec.Empty;

        /// <summary>head_dim, or dim / heads when the spec leaves it 0.</summary>
        public int ResolvedHeadDim => Attention.HeadDim != 0 ? Attention.HeadDim : Attention.Heads > 0 ? Dim / Attention.Heads : 0;
    }

    /// <summary>What enters the first block: token rows times <see cref="Scale"/>, plus learned positions if any.</summary>
    public sealed record EmbeddingSpec
    {
        /// <summary>Multiplies the token embedding rows: Gemma's sqrt(dim), Granite's embedding_multiplier; 1 = none.</summary>
        public float Scale { get; init; } = 1f;
        /// <summary>Learned absolute positions (GPT-2's position_embd, added to the token rows) or none.</summary>
        public PositionKind Positions { get; init; } = PositionKind.None;

        /// <summary>Rows of token_types (BERT's segment embeddings; llama.cpp adds row 0 to every token); 0 = none.</summary>
        public int TokenTypes { get; init; }

        /// <summary>A norm (token_embd_norm, of <see cref="ModelSpec.Norm"/>'s kind) over the summed embedding (BERT).</summary>
        public bool Norm { get; init; }

        /// <summary>
        /// Width of the embedding rows when it differs from dim (ALBERT's factorized embedding: token, type and position
        /// rows and their norm are this wide, then token_embd_proj maps them to dim); 0 = dim.
        /// </summary>
        public int Size { get; init; }
    }

    public sealed record AttentionSpec
    {
        public int Heads { get; init; }
        public int KvHeads { get; init; }
        /// <summary>Per-head width; 0 = dim / heads. May differ from dim / heads (Gemma, Mistral-Nemo).</summary>
        public int HeadDim { get; init; }
        /// <summary>True for decoders (a query sees keys at or before its position); false for encoders.</summary>
        public bool Causal { get; init; } = true;
        /// <summary>One attn_qkv matrix whose rows are [Q | K | V] (GPT-2, GPT-NeoX, Phi-3) instead of three.</summary>
        public bool FusedQkv { get; init; }
        /// <summary>Q, K and V projections carry biases (added before RoPE).</summary>
        public bool QkvBias { get; init; }
        /// <summary>The output projection carries a bias.</summary>
        public bool OutputBias { get; init; }
        /// <summary>Multiplies the scores; 1/sqrt(head_dim) unless the model says otherwise (Granite's attention_multiplier).</summary>
        public float Scale { get; init; }
        /// <summary>Apply <see cref="Scale"/> to Q after RoPE instead of to the scores (Phi-3, Gemma: llama.cpp's order).</summary>
        public bool ScaleQuery { get; init; }
        /// <summary>0 = off; else scores = cap·tanh(scores / cap), before the scale (Gemma 2).</summary>
        public float LogitSoftcap { get; init; }
        /// <summary>0 = full attention; else a query at p sees keys k with p − k &lt; window.</summary>
        public int SlidingWindow { get; init; }
        /// <summary>Which layers the window applies to.</summary>
        public WindowLayers SlidingWindowLayers { get; init; } = WindowLayers.None;

        /// <summary>
        /// T5's relative position buckets: a learned bias per (head, bucket of key − query) added to the raw scores, from
        /// layer 0's attn_rel_b for every layer (bidirectional in an encoder, causal in a decoder); 0 = none.
        /// </summary>
        public int RelativeBuckets { get; init; }
    }

    public sealed record NormSpec
    {
        public NormKind Kind { get; init; } = NormKind.RmsNorm;
        public float Epsilon { get; init; } = 1e-5f;
        /// <summary>LayerNorm with a bias vector after the weight.</summary>
        public bool Bias { get; init; }
    }

    /// <summary>How a block composes attention, feed-forward, norms and the residual stream.</summary>
    public sealed record BlockSpec
    {
        /// <summary>Pre-norm (norm, sublayer, add) or post-norm (sublayer, add, norm: BERT).</summary>
        public NormPosition NormPosition { get; init; } = NormPosition.Pre;
        /// <summary>Sequential: x += attn(x); x += ffn(x). Parallel (GPT-NeoX): x = x + attn(x) + ffn(x).</summary>
        public ResidualKind Residual { get; init; } = ResidualKind.Sequential;
        /// <summary>An extra norm on the attention output before the residual add (Gemma 2's post_attention_norm).</summary>
        public bool PostAttentionNorm { get; init; }
        /// <summary>An extra norm on the FFN output before the residual add (Gemma 2's post_ffw_norm).</summary>
        public bool PostFfnNorm { get; init; }
        /// <summary>Multiplies each sublayer's output before the residual add (Granite's residual_multiplier); 1 = none.</summary>
        public float ResidualScale { get; init; } = 1f;

        /// <summary>Every layer runs layer 0's weights (ALBERT's cross-layer sharing): the file holds blk.0 only, bound once.</summary>
        public bool SharedLayers { get; init; }
    }

    public sealed record RopeSpec
    {
        public RopeKind Kind { get; init; } = RopeKind.Norm;
        public float Theta { get; init; } = 10000f;
        /// <summary>Rotated dimensions per head (partial rotary when less than head_dim); 0 = head_dim.</summary>
        public int Dimensions { get; init; }
        /// <summary>Per-frequency divisors from rope_freqs.weight (Llama 3.1).</summary>
        public bool FreqFactors { get; init; }
        public RopeScalingSpec Scaling { get; init; } = new RopeScalingSpec();
    }

    /// <summary>Context extension, as ggml's rope computes it (see modelspecs/README.md for the formulas).</summary>
    public sealed record RopeScalingSpec
    {
        public RopeScalingKind Kind { get; init; } = RopeScalingKind.None;
        /// <summary>Context multiplier; the rope frequency scale is 1 / factor (linear, YaRN).</summary>
        public float Factor { get; init; } = 1f;
        /// <summary>The context the model was trained at before extension (YaRN, LongRoPE); 0 = context_length.</summary>
        public int OriginalContext { get; init; }
        /// <summary>Multiplies cos and sin (YaRN's and LongRoPE's attention factor).</summary>
        public float AttnFactor { get; init; } = 1f;
        public float BetaFast { get; init; } = 32f;
        public float BetaSlow { get; init; } = 1f;
    }

    public sealed record FfnSpec
    {
        /// <summary>Gated: down(act(gate·x) * (up·x)); plain: down(act(up·x)).</summary>
        public bool Gated { get; init; } = true;
        public Activation Activation { get; init; } = Activation.Silu;
        /// <summary>One ffn_up matrix whose rows are [gate | up] (Phi-3).</summary>
        public bool FusedGateUp { get; init; }
        /// <summary>up/gate/down carry biases.</summary>
        public bool Bias { get; init; }
    }

    public sealed record OutputSpec
    {
        /// <summary>No output.weight: the classifier reuses token_embd.</summary>
        public bool Tied { get; init; }
        /// <summary>0 = off; else logits = cap·tanh(logits / cap) (Gemma 2).</summary>
        public float FinalLogitSoftcap { get; init; }
        /// <summary>Logits are divided by this (Granite's logits_scaling); 1 = none.</summary>
        public float LogitScale { get; init; } = 1f;

        /// <summary>
        /// What an encoder (non-causal attention) gives per input besides its hidden states: the mean of the token rows,
        /// the first ([CLS]) row, the last row, llama.cpp's rank (a reranker's score) or none. Decoders: none.
        /// </summary>
        public PoolingKind Pooling { get; init; } = PoolingKind.None;

        /// <summary>
        /// Outputs of the head a 'rank' pooling runs (rows of cls.output): a reranker's 1 score, a sequence classifier's
        /// labels. 0 when there is no head.
        /// </summary>
        public int Labels { get; init; }

        /// <summary>The rank head's pooler activation: tanh (BERT's pooler, llama.cpp's rank head) or relu (DistilBERT's pre_classifier).</summary>
        public Activation HeadActivation { get; init; } = Activation.Tanh;
    }

    public sealed record TokenizerSpec
    {
        /// <summary>"spm" | "bpe" | "wpm" | "ugm" (from tokenizer.ggml.model llama/gpt2/bert/t5), or "none".</summary>
        public string Kind { get; init; } = "spm";
        /// <summary>-1 when the model has none.</summary>
        public int Bos { get; init; } = -1;
        public int Eos { get; init; } = -1;
        public bool AddBos { get; init; }
        public bool AddEos { get; init; }
    }

    public enum PositionKind { None, Learned }

    public enum NormKind { RmsNorm, LayerNorm }

    public enum NormPosition { Pre, Post }

    public enum ResidualKind { Sequential, Parallel }

    public enum RopeKind { None, Norm, Neox }

    public enum RopeScalingKind { None, Linear, Yarn, LongRope }

    /// <summary>Gelu is the tanh approximation through ggml's f16 table (what llama.cpp computes); GeluErf the exact erf form; Tanh only for a head's pooler.</summary>
    public enum Activation { Silu, Gelu, GeluErf, Relu, Tanh }

    public enum WindowLayers { None, All, Even, Odd }
    public enum PoolingKind { None, Mean, Cls, Last, Rank }
}
