using System.Collections.Generic;
using Ingot.Generators.Emit;
using Ingot.Specs;

namespace Ingot.Generators.Architectures
{
    /// <summary>Phi-3/3.5-mini, Phi-4: fused qkv and gate|up, Q pre-scaled, a sliding window on every layer.</summary>
    public sealed class Phi3 : Architecture
    {
        public override string Name => "phi3";

        public override IEnumerable<MetadataCheck> Checks(ModelSpec spec)
        {
            yield return new MetadataCheck("phi3.attention.sliding_window", MetadataKind.Int, Literals.I(spec.Attention.SlidingWindow), false, "0");
        }
    }
}
