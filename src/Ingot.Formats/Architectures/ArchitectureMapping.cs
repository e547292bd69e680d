using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// One model family on the import side: what its GGUF files state beyond the keys every family shares (read by
/// <see cref="GgufSpecReader"/>), and — for families with a Hugging Face mapping — its config.json fields and tensor
/// names. The generator side of the family lives in generators/Ingot.Generators/Architectures; adding a family is
/// that pair of files plus a golden test.
/// </summary>
public abstract class ArchitectureMapping
{
    /// <summary>general.architecture, and the spec's "architecture".</summary>
    public abstract string Name { get; }

    /// <summary>Refines the spec <paramref name="common"/> (read the shared way) with the family's conventions.</summary>
    public abstract ModelSpec FromGguf(GgufFile f, ModelSpec common);

    public static readonly IReadOnlyList<ArchitectureMapping> All =
    [
        new LlamaMapping(), new Qwen2Mapping(), new Phi3Mapping(), new GemmaMapping(), new Gemma2Mapping(), new GraniteMapping(),
        new Gpt2Mapping(), new GptNeoXMapping(), new StarCoder2Mapping(),
    ];

    public static IEnumerable<string> GgufNames => All.Select(m => m.Name);

    public static ArchitectureMapping? ForGguf(string architecture) => All.FirstOrDefault(m => m.Name == architecture);

    /// <summary>A required float key, or one clear line naming it.</summary>
    protected static float RequiredFloat(GgufFile f, string key) =>
        f.TryGetFloat(key, out var v) ? v : throw new InvalidModelFileException(f.Path, $"metadata key '{key}'", null, "missing (required by this architecture)");

    /// <summary>A tensor llama.cpp requires for the family, or one clear line naming it.</summary>
    protected static void RequireTensor(GgufFile f, string name)
    {
        if (f.FindTensor(name) is null) throw new InvalidModelFileException(f.Path, $"tensor '{name}'", null, "missing (required by this architecture)");
    }
}
