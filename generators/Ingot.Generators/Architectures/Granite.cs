using System.Collections.Generic;
using Ingot.Generators.Emit;
using Ingot.Specs;

namespace Ingot.Generators.Architectures
{
    /// <summary>IBM Granite 3.x: llama with embedding, residual, attention and logit multipliers (all four keys required).</summary>
    public sealed class Granite : Architecture
    {
        public override string Name => "granite";

        public override IEnumerable<MetadataCheck> Checks(ModelSpec spec)
        {
            yield return new MetadataCheck("granite.embedding_scale", MetadataKind.Float, Literals.F(spec.Embedding.Scale), true, null);
            yield return new MetadataCheck("granite.residual_scale", MetadataKind.Float, Literals.F(spec.Block.ResidualScale), true, null);
            yield return new MetadataCheck("granite.attention.scale", MetadataKind.Float, Literals.F(spec.Attention.Scale), true, null);
            yield return new MetadataCheck("granite.logit_scale", MetadataKind.Float, Literals.F(spec.Output.LogitScale), true, null);
        }
    }
}
