using System.Collections.Generic;
using Ingot.Generators.Emit;
using Ingot.Specs;

namespace Ingot.Generators.Architectures
{
    /// <summary>GPT-2: learned positions, LayerNorm, fused qkv, biases everywhere, GELU MLP.</summary>
    public sealed class Gpt2 : Architecture
    {
        public override string Name => "gpt2";
    }
}
