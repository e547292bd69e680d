using System.Collections.Generic;
using Ingot.Generators.Emit;
using Ingot.Specs;

namespace Ingot.Generators.Architectures
{
    /// <summary>Qwen2/2.5, DeepSeek-R1-Distill-Qwen: llama with q/k/v biases and NEOX rope.</summary>
    public sealed class Qwen2 : Architecture
    {
        public override string Name => "qwen2";
    }
}
