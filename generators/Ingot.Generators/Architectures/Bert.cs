using System;
using System.Collections.Generic;
using Ingot.Generators.Emit;
using Ingot.Specs;

namespace Ingot.Generators.Architectures
{
    /// <summary>
    /// BERT (llama.cpp's bert graph): an encoder with learned positions, token type row 0 and a normalized embedding,
    /// post-LayerNorm blocks with biases, a plain GELU FFN, bidirectional attention; the result is the hidden states.
    /// </summary>
    public sealed class Bert : Architecture
    {
        public override string Name => "bert";

        public override void Validate(ModelSpec spec, Action<string> shape, Action<string> feature)
        {
            if (spec.Attention.Causal) feature("attention.causal true (llama.cpp's bert is an encoder)");
            if (spec.Block.NormPosition != NormPosition.Post) feature("block.norm_position 'pre' (bert blocks are post-norm)");
            if (spec.Rope.Kind != RopeKind.None) feature("rope on bert (its positions are learned)");
        }

        public override IEnumerable<MetadataCheck> Checks(ModelSpec spec)
        {
            yield return new MetadataCheck("bert.attention.causal", MetadataKind.Bool, "false", true, null);
            int pooling = SpecNames.LlamaPoolingType(spec.Output.Pooling);
            yield return new MetadataCheck("bert.pooling_type", MetadataKind.Int, Literals.I(pooling), false, "0");
        }
    }
}
