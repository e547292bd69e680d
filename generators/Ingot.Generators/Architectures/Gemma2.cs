using System.Collections.Generic;
using Ingot.Generators.Emit;
using Ingot.Specs;

namespace Ingot.Generators.Architectures
{
    /// <summary>Gemma 2: Gemma plus post-norms, attention and final soft-caps, a window on even layers.</summary>
    public sealed class Gemma2 : Architecture
    {
        public override string Name => "gemma2";

        public override IEnumerable<MetadataCheck> Checks(ModelSpec spec)
        {
            yield return new MetadataCheck("gemma2.attention.sliding_window", MetadataKind.Int, Literals.I(spec.Attention.SlidingWindow), false, "4096");
            yield return new MetadataCheck("gemma2.attn_logit_softcapping", MetadataKind.Float, Literals.F(spec.Attention.LogitSoftcap), false, "50f");
            yield return new MetadataCheck("gemma2.final_logit_softcapping", MetadataKind.Float, Literals.F(spec.Output.FinalLogitSoftcap), false, "30f");
        }
    }
}
