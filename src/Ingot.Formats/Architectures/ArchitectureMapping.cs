using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// One model family on the import side: what its GGUF files state beyond the keys every family shares (read by
/// <see cref="GgufSpecReader"/>), the same spec written back as GGUF metadata (<see cref="WriteMetadata"/>, the
/// inverse of <see cref="FromGguf"/>), and — for families with a Hugging Face mapping — its config.json fields and
/// tensor names (ArchitectureMapping.Hf.cs). The generator side of the family lives in
/// generators/Ingot.Generators/Architectures; adding a family is that pair of files plus a golden test.
/// </summary>
public abstract partial class ArchitectureMapping
{
    /// <summary>general.architecture, and the spec's "architecture".</summary>
    public abstract string Name { get; }

    /// <summary>Refines the spec <paramref name="common"/> (read the shared way) with the family's conventions.</summary>
    public abstract ModelSpec FromGguf(GgufFile f, ModelSpec common);

    public static readonly IReadOnlyList<ArchitectureMapping> All =
    [
        new LlamaMapping(), new Qwen2Mapping(), new Phi3Mapping(), new GemmaMapping(), new Gemma2Mapping(), new GraniteMapping(),
        new Gpt2Mapping(), new GptNeoXMapping(), new StarCoder2Mapping(), new Ernie45Mapping(), new BertMapping(), new T5Mapping(),
    ];

    public static IEnumerable<string> GgufNames => All.Select(m => m.Name);

    public static ArchitectureMapping? ForGguf(string architecture) => All.FirstOrDefault(m => m.Name == architecture);

    /// <summary>
    /// The GGUF metadata of <paramref name="spec"/>: general.*, the {arch}.* keys (those every family shares, then
    /// the family's own), then the vocabulary <paramref name="addVocabulary"/> writes. Reading it back with
    /// <see cref="GgufSpecReader"/> (and the same tensor table) gives <paramref name="spec"/> again.
    /// </summary>
    public static List<GgufMetadataEntry> Metadata(ModelSpec spec, Action<GgufWriter> addVocabulary)
    {
        var mapping = ForGguf(spec.Architecture) ?? throw new ArgumentException($"architecture '{spec.Architecture}' has no mapping", nameof(spec));
        var w = new GgufWriter();
        mapping.WriteMetadata(spec, w);
        addVocabulary(w);
        return [.. w.Metadata];
    }

    /// <summary>
    /// Writes the keys <see cref="GgufSpecReader"/> and <see cref="FromGguf"/> read, as llama.cpp's converters
    /// name and type them (counts u32, scales f32). What the tensor table states (biases, fused matrices, tied
    /// output, rope_freqs) is not metadata. The family's keys follow via <see cref="WriteFamilyMetadata"/>.
    /// </summary>
    public void WriteMetadata(ModelSpec s, GgufWriter w)
    {
        string p = Name + ".";
        w.Set("general.architecture", Name);
        w.Set("general.name", s.Name);
        w.Set("general.file_type", FileType(s.Weights));
        w.Set(p + "context_length", (uint)s.ContextLength);
        w.Set(p + "embedding_length", (uint)s.Dim);
        w.Set(p + "feed_forward_length", (uint)s.FfnDim);
        w.Set(p + "block_count", (uint)s.Layers);
        w.Set(p + "attention.head_count", (uint)s.Attention.Heads);
        w.Set(p + "attention.head_count_kv", (uint)s.Attention.KvHeads);
        if (s.ResolvedHeadDim != s.Dim / s.Attention.Heads)
        {
            w.Set(p + "attention.key_length", (uint)s.ResolvedHeadDim);
            w.Set(p + "attention.value_length", (uint)s.ResolvedHeadDim);
        }
        if (s.Rope.Kind != RopeKind.None)
        {
            w.Set(p + "rope.dimension_count", (uint)(s.Rope.Dimensions != 0 ? s.Rope.Dimensions : s.ResolvedHeadDim));
            w.Set(p + "rope.freq_base", s.Rope.Theta);
        }
        var scaling = s.Rope.Scaling;
        if (scaling.Kind != RopeScalingKind.None)
        {
            w.Set(p + "rope.scaling.type", SpecNames.Of(scaling.Kind));
            if (scaling.Kind is RopeScalingKind.Linear or RopeScalingKind.Yarn) w.Set(p + "rope.scaling.factor", scaling.Factor);
            if (scaling.OriginalContext > 0) w.Set(p + "rope.scaling.original_context_length", (uint)scaling.OriginalContext);
            if (scaling.AttnFactor != 1f) w.Set(p + "rope.scaling.attn_factor", scaling.AttnFactor);
        }
        w.Set(p + (s.Norm.Kind == NormKind.RmsNorm ? "attention.layer_norm_rms_epsilon" : "attention.layer_norm_epsilon"), s.Norm.Epsilon);
        if (s.Attention.SlidingWindow > 0) w.Set(p + "attention.sliding_window", (uint)s.Attention.SlidingWindow);
        w.Set(p + "vocab_size", (uint)s.VocabSize);
        WriteFamilyMetadata(s, w);
    }

    /// <summary>The family's own keys (scales, soft-caps, residual layout); the shared ones are written already.</summary>
    protected virtual void WriteFamilyMetadata(ModelSpec s, GgufWriter w) { }

    /// <summary>general.file_type (llama_ftype) from the type most matrices have.</summary>
    private static uint FileType(WeightsSpec weights) =>
        (weights.TypeOf("attn_q") ?? weights.TypeOf("attn_qkv") ?? weights.TypeOf("token_embd")) is { } t ? GgufSynth.FileType(t) : 0;

    /// <summary>A sliding window on every layer (Mistral, Phi-3); <paramref name="window"/> 0 = none.</summary>
    protected static AttentionSpec WindowOnAllLayers(AttentionSpec a, int window) =>
        a with { SlidingWindow = window, SlidingWindowLayers = window > 0 ? WindowLayers.All : WindowLayers.None };

    /// <summary>A required float key, or one clear line naming it.</summary>
    protected static float RequiredFloat(GgufFile f, string key) =>
        f.TryGetFloat(key, out var v) ? v : throw new InvalidModelFileException(f.Path, $"metadata key '{key}'", null, "missing (required by this architecture)");

    /// <summary>A tensor llama.cpp requires for the family, or one clear line naming it.</summary>
    protected static void RequireTensor(GgufFile f, string name)
    {
        if (f.FindTensor(name) is null) throw new InvalidModelFileException(f.Path, $"tensor '{name}'", null, "missing (required by this architecture)");
    }
}
