using System.Collections.Generic;
using Ingot.Generators.Emit;
using Ingot.Specs;

namespace Ingot.Generators.Architectures
{
    /// <summary>Gemma 1: embeddings · sqrt(dim), GeGLU, Q pre-scaled, output tied.</summary>
    public sealed class Gemma : Architecture
    {
        public override string Name => "gemma";
    }
}
