using System;
using System.Collections.Generic;
using Ingot.Generators.Planning;
using Ingot.Specs;

namespace Ingot.Generators.Architectures
{
    /// <summary>
    /// One model family on the generator side: its name, the constraints llama.cpp puts on its specs, the GGUF keys a
    /// compiled binary checks before it runs, and how a spec of the family lowers to ops. The spec describes the block
    /// (norms, positions, attention, FFN, residual layout), so most families lower through the shared
    /// <see cref="BlockLowering"/>; a family whose graph the spec cannot describe overrides <see cref="Lower"/>.
    /// The import side of the family is src/Ingot.Formats/Architectures; adding a family is that pair plus a golden test.
    /// </summary>
    public abstract class Architecture
    {
        /// <summary>The spec's "architecture" and GGUF's general.architecture.</summary>
        public abstract string Name { get; }

        /// <summary>Family constraints: <paramref name="shape"/> reports ING0003, <paramref name="feature"/> ING0008.</summary>
        public virtual void Validate(ModelSpec spec, Action<string> shape, Action<string> feature)
        {
        }

        /// <summary>GGUF metadata beyond the shared dimension keys that must match the compiled spec at load.</summary>
        public virtual IEnumerable<MetadataCheck> Checks(ModelSpec spec)
        {
            yield break;
        }

        public virtual LoweredGraph Lower(ModelSpec spec, LayerWeights weights) => BlockLowering.Lower(spec, weights);

        /// <summary>An encoder–decoder's encoder stack (T5), lowered before <see cref="Lower"/>; null for a single stack.</summary>
        public virtual LoweredGraph? LowerEncoder(ModelSpec spec, LayerWeights weights) => null;

        /// <summary>Every family the generator compiles, in the order ING0002 lists them.</summary>
        public static readonly Architecture[] All =
        {
            new Llama(), new Qwen2(), new Phi3(), new Gemma(), new Gemma2(), new Granite(), new Gpt2(), new GptNeoX(), new StarCoder2(), new Ernie45(), new Bert(), new T5(),
        };

        public static Architecture? Find(string name) => Array.Find(All, a => a.Name == name);

        public static string Names => string.Join(", ", Array.ConvertAll(All, a => a.Name));
    }

    /// <summary>What a metadata check compares: an integer, a float, or a boolean key.</summary>
    public enum MetadataKind { Int, Float, Bool }

    /// <summary>
    /// A GGUF key the generated Load compares with the value compiled in (a C# literal). A missing key is an error when
    /// Required, else it takes <see cref="Default"/> (llama.cpp's default for the key).
    /// </summary>
    public sealed record MetadataCheck(string Key, MetadataKind Kind, string Expected, bool Required, string? Default);
}
