using System.Collections.Generic;
using Ingot.Generators.Emit;
using Ingot.Specs;

namespace Ingot.Generators.Architectures
{
    /// <summary>GPT-NeoX / Pythia: parallel residual (a required key), partial NEOX rope, LayerNorm, fused qkv, GELU MLP.</summary>
    public sealed class GptNeoX : Architecture
    {
        public override string Name => "gptneox";

        public override IEnumerable<MetadataCheck> Checks(ModelSpec spec)
        {
            yield return new MetadataCheck("gptneox.use_parallel_residual", MetadataKind.Bool, spec.Block.Residual == ResidualKind.Parallel ? "true" : "false", true, null);
        }
    }
}
