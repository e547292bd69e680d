using System.Collections.Generic;
using Ingot.Generators.Emit;
using Ingot.Specs;

namespace Ingot.Generators.Architectures
{
    /// <summary>LLaMA 1–3, Mistral (its sliding window honoured, unlike llama.cpp), TinyLlama, SmolLM, DeepSeek-R1-Distill-Llama.</summary>
    public sealed class Llama : Architecture
    {
        public override string Name => "llama";

        public override void Validate(ModelSpec spec, System.Action<string> shape, System.Action<string> feature)
        {
            // llama.cpp's llama loader refuses n_rot != head_dim ("invalid n_rot"); so do we.
            int headDim = spec.ResolvedHeadDim, ropeDims = spec.Rope.Dimensions == 0 ? headDim : spec.Rope.Dimensions;
            if (headDim > 0 && ropeDims != headDim) shape("rope.dimensions (" + Literals.I(ropeDims) + ") must equal attention.head_dim (" + Literals.I(headDim) + ") for llama");
        }

        public override IEnumerable<MetadataCheck> Checks(ModelSpec spec)
        {
            yield return new MetadataCheck("llama.attention.sliding_window", MetadataKind.Int, Literals.I(spec.Attention.SlidingWindow), false, "0");
        }
    }
}
