using System.Collections.Generic;
using Ingot.Generators.Emit;
using Ingot.Specs;

namespace Ingot.Generators.Architectures
{
    /// <summary>StarCoder2: LayerNorm with biases, GQA with biases, NEOX rope, GELU MLP with biases.</summary>
    public sealed class StarCoder2 : Architecture
    {
        public override string Name => "starcoder2";
    }
}
