using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// BERT (llama.cpp's bert graph): an encoder. x = LayerNorm(token row + token_types row 0 + position row) (llama.cpp
/// hard-codes token type 0); post-LayerNorm blocks with biases everywhere, x = LN(x + Attn(x)), x = LN(x + FFN(x)),
/// FFN down(gelu(up(x))); attention non-causal, scaled by 1/sqrt(head_dim), no rope; the output is the last hidden
/// state (no final norm), pooled as bert.pooling_type says (0 none, 1 mean, 2 cls, 3 last, 4 rank).
/// </summary>
public sealed class BertMapping : ArchitectureMapping
{
    public override string Name => "bert";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s)
    {
        RequireTensor(f, "position_embd.weight");
        RequireTensor(f, "token_embd_norm.weight");
        if (f.GetBool("bert.attention.causal", true))
            throw new InvalidModelFileException(f.Path, "metadata key 'bert.attention.causal'", f.GetMetadataOffset("bert.attention.causal"),
                "missing or true: llama.cpp's bert is an encoder and requires it false");
        var types = f.FindTensor("token_types.weight");
        int pooling = f.GetInt32("bert.pooling_type", 0);
        int labels = 0;
        if (pooling == 4)
        {
            // The rank head's outputs: one for a reranker, one per label for a sequence classifier.
            var output = f.FindTensor("cls.output.weight")
                ?? throw new InvalidModelFileException(f.Path, "tensor 'cls.output.weight'", null, "missing: a rank head without cls.output (jina-reranker-v1) is not compiled");
            labels = output.Dims.Length == 2 ? (int)output.Dims[1] : 1;
        }
        return s with
        {
            Embedding = s.Embedding with { Positions = PositionKind.Learned, TokenTypes = types is { Dims.Length: 2 } ? (int)types.Dims[1] : 0, Norm = true },
            Attention = s.Attention with { Causal = false },
            Norm = s.Norm with { Bias = true },
            Block = s.Block with { NormPosition = NormPosition.Post },
            Rope = new RopeSpec { Kind = RopeKind.None, Dimensions = 0 },
            Ffn = s.Ffn with { Gated = false, Activation = Activation.Gelu },
            Output = new OutputSpec
            {
                Labels = labels,
                Pooling = pooling switch
                {
                    0 => PoolingKind.None,
                    1 => PoolingKind.Mean,
                    2 => PoolingKind.Cls,
                    3 => PoolingKind.Last,
                    4 => PoolingKind.Rank,
                    _ => throw new InvalidModelFileException(f.Path, "metadata key 'bert.pooling_type'", f.GetMetadataOffset("bert.pooling_type"),
                        $"pooling type {pooling} is not one of 0 none, 1 mean, 2 cls, 3 last, 4 rank"),
                },
            },
        };
    }

    protected override void WriteFamilyMetadata(ModelSpec s, GgufWriter w)
    {
        w.Set("bert.attention.causal", false);
        w.Set("bert.pooling_type", (uint)(s.Output.Pooling switch
        {
            PoolingKind.Mean => 1,
            PoolingKind.Cls => 2,
            PoolingKind.Last => 3,
            PoolingKind.Rank => 4,
            _ => 0,
        }));
        if (s.Embedding.TokenTypes > 0) w.Set("tokenizer.ggml.token_type_count", (uint)s.Embedding.TokenTypes);
        // A classifier's label names (newer llama.cpp's {arch}.classifier.output_labels); an importer with real names overwrites them.
        if (s.Output.Labels > 1) w.Set("bert.classifier.output_labels", Enumerable.Range(0, s.Output.Labels).Select(i => "LABEL_" + i).ToArray());
    }

    /// <summary>
    /// BERT's layout: learned positions (context rows), two token types, the embedding LayerNorm, post-LayerNorm blocks
    /// with biases everywhere, a plain GELU FFN, non-causal attention, CLS pooling (or --pooling; rank adds the
    /// cls / cls.output head); heads of dim / heads (llama.cpp
    /// declares attn_q {dim, dim}).
    /// </summary>
    internal override ModelSpec Synth(ModelSpec s, SynthOptions o)
    {
        SynthRequireFullWidthHeads(s);
        return s with
        {
            Embedding = new EmbeddingSpec { Positions = PositionKind.Learned, TokenTypes = 2, Norm = true },
            Attention = s.Attention with { Causal = false, QkvBias = true, OutputBias = true },
            Norm = SynthLayerNorm(s),
            Block = new BlockSpec { NormPosition = NormPosition.Post },
            Rope = new RopeSpec { Kind = RopeKind.None, Dimensions = 0 },
            Ffn = new FfnSpec { Gated = false, Activation = Activation.Gelu, Bias = true },
            Output = new OutputSpec { Pooling = o.Pooling ?? PoolingKind.Cls, Labels = o.Pooling == PoolingKind.Rank ? o.Labels ?? 1 : 0 },
        };
    }
}
