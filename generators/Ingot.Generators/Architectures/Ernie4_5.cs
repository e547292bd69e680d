using System.Collections.Generic;
using Ingot.Generators.Emit;
using Ingot.Specs;

namespace Ingot.Generators.Architectures
{
    /// <summary>
    /// ERNIE 4.5 (Baidu; dense models such as ERNIE-4.5-0.3B): the llama block with interleaved-pair (NORM) rope on
    /// unpermuted weights, head_dim decoupled from dim / heads, optional biases, tied embeddings.
    /// </summary>
    public sealed class Ernie45 : Architecture
    {
        public override string Name => "ernie4_5";
    }
}
