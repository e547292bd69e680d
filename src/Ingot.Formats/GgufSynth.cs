using Ingot.Specs;
using System.Buffers.Binary;
using System.Text;

namespace Ingot.Formats;

/// <summary>
/// Shape, family and type of a random-weight model (`ingot synth`). The family parameters are null for the family's
/// default (a fresh model of the family as its converter writes one); a parameter the family does not have is refused
/// by <see cref="GgufSynth.Layout"/>, named as `ingot synth` spells the option.
/// </summary>
public sealed record SynthOptions
{
    /// <summary>general.architecture: one of <see cref="Architectures.ArchitectureMapping.GgufNames"/>.</summary>
    public string Architecture { get; init; } = "llama";
    public string Name { get; init; } = "synth";
    public int Dim { get; init; } = 768;
    public int Layers { get; init; } = 12;
    public int Heads { get; init; } = 12;
    /// <summary>0 = same as <see cref="Heads"/> (multi-head attention).</summary>
    public int KvHeads { get; init; }
    /// <summary>0 = dim / heads (--head-dim).</summary>
    public int HeadDim { get; init; }
    public int FfnDim { get; init; } = 2048;
    public int VocabSize { get; init; } = 32000;
    /// <summary>The trained context; GPT-2's position_embd has this many rows.</summary>
    public int ContextLength { get; init; } = 2048;
    /// <summary>Type of the 2-D weights (norms, biases and position_embd stay F32; rows that are not whole blocks fall back to F16).</summary>
    public GgmlType Type { get; init; } = GgmlType.F32;
    public ulong Seed { get; init; } = 1;

    /// <summary>rope.freq_base (--rope-theta); 10000.</summary>
    public float? RopeTheta { get; init; }
    /// <summary>The RMSNorm or LayerNorm epsilon (--norm-eps); 1e-5.</summary>
    public float? NormEpsilon { get; init; }
    /// <summary>Rotated dims per head (--rope-dims, partial rotary); the whole head (GPT-NeoX: a quarter of it).</summary>
    public int? RopeDims { get; init; }
    /// <summary>No output.weight: the classifier reuses token_embd (--tied / --untied); untied (Gemma and ERNIE 4.5: tied).</summary>
    public bool? Tied { get; init; }
    /// <summary>Sliding window (--window): every layer for llama (Mistral) and phi3, even layers for gemma2 (4096); none.</summary>
    public int? Window { get; init; }
    /// <summary>An encoder's pooling (--pooling; bert: cls; rank adds llama.cpp's cls / cls.output head).</summary>
    public PoolingKind? Pooling { get; init; }
    /// <summary>The rank head's outputs (--labels; bert with --pooling rank): 1, a reranker's score.</summary>
    public int? Labels { get; init; }
    /// <summary>Gemma 2's soft-caps of the scores and of the logits (--attn-softcap, --final-softcap); 50 and 30.</summary>
    public (float? Attention, float? Final) Softcaps { get; init; }
    /// <summary>GPT-NeoX's use_parallel_residual (--residual); parallel.</summary>
    public ResidualKind? Residual { get; init; }
    /// <summary>Granite's four multipliers (--embedding-scale, --residual-scale, --attention-scale, --logit-scale); 12, 0.22, 1/head_dim, 8 (Granite 3.0).</summary>
    public (float? Embedding, float? Residual, float? Attention, float? Logit) Scales { get; init; }
}

/// <summary>One tensor of a synthetic model: GGUF name, ggml type, ne dims (dims[0] is the row length).</summary>
public sealed record SynthTensor(string Name, GgmlType Type, long[] Dims);

/// <summary>
/// Random-weight GGUF models of any family with a working synthetic SentencePiece vocabulary. <see cref="Layout"/>
/// is the family's spec for the options (its <see cref="Architectures.ArchitectureMapping"/> says what a fresh model
/// looks like); which tensors it has is the compiler's business (the `ingot` CLI asks the generator's planner, which
/// Formats cannot reference), typed by <see cref="TypeFor"/>; <see cref="Write"/> streams them one row at a time (a
/// 110M-parameter file never needs all its weights in memory). Matrices are N(0, 1/fan_in) (std 1/sqrt(cols)); norm
/// weights 1 + N(0, 0.02²); biases N(0, 0.1²). Each tensor has its own generator seeded from (seed, name), so a
/// tensor's values do not depend on the others (nor on the family). F32, F16 and BF16 are encoded here; other types
/// need a row quantizer (the `ingot` CLI passes Ingot.Runtime.Quants; Formats cannot reference Runtime).
/// </summary>
public static class GgufSynth
{
    /// <summary>Quantizes one row of floats (length a multiple of the type's block size) to its ggml bytes.</summary>
    public delegate byte[] RowQuantizer(GgmlType type, float[] row);

    public static bool CanEncodeWithoutQuantizer(GgmlType t) => t is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16;

    private const float BiasStd = 0.1f;

    /// <summary>
    /// The spec the file will describe, without its weight types (see <see cref="WithTypes"/>): the shared dimensions,
    /// refined by the family. Throws <see cref="ArgumentException"/> (one line) for a shape or option the family cannot
    /// have.
    /// </summary>
    public static ModelSpec Layout(SynthOptions o)
    {
        var mapping = Architectures.ArchitectureMapping.ForGguf(o.Architecture)
            ?? throw new ArgumentException($"synth: unknown architecture '{o.Architecture}' (one of {string.Join(", ", Architectures.ArchitectureMapping.GgufNames)})");
        int kvHeads = o.KvHeads == 0 ? o.Heads : o.KvHeads;
        if (o.Dim <= 0 || o.Layers <= 0 || o.Heads <= 0 || kvHeads <= 0 || o.HeadDim < 0 || o.FfnDim <= 0 || o.ContextLength <= 0)
            throw new ArgumentException("synth: every dimension must be positive");
        if (o.HeadDim == 0 && o.Dim % o.Heads != 0) throw new ArgumentException($"synth: heads {o.Heads} must divide dim {o.Dim} (or give --head-dim)");
        if (o.Heads % kvHeads != 0) throw new ArgumentException($"synth: kv-heads {kvHeads} must divide heads {o.Heads}");
        if (o.VocabSize < 259 + 1) throw new ArgumentException("synth: vocab must be at least 260 (3 specials + 256 byte tokens + 1)");
        if (!GgmlTypeTraits.IsKnown(o.Type)) throw new ArgumentException($"synth: unknown type {o.Type}");
        if (o.NormEpsilon is <= 0f || o.Window is < 0) throw new ArgumentException("synth: --norm-eps must be positive and --window not negative");

        int hd = o.HeadDim > 0 ? o.HeadDim : o.Dim / o.Heads;
        var common = new ModelSpec
        {
            Name = o.Name, Architecture = mapping.Name, VocabSize = o.VocabSize, Dim = o.Dim, Layers = o.Layers, FfnDim = o.FfnDim, ContextLength = o.ContextLength,
            Attention = new AttentionSpec { Heads = o.Heads, KvHeads = kvHeads, HeadDim = hd, Scale = 1f / MathF.Sqrt(hd) },
            Norm = new NormSpec { Kind = NormKind.RmsNorm, Epsilon = o.NormEpsilon ?? 1e-5f },
            Rope = new RopeSpec { Kind = RopeKind.Norm, Theta = o.RopeTheta ?? 10000f, Dimensions = o.RopeDims ?? hd },
            Ffn = new FfnSpec { Gated = true, Activation = Activation.Silu },
            Output = new OutputSpec { Tied = o.Tied ?? false },
            Tokenizer = new TokenizerSpec { Kind = "spm", Bos = 1, Eos = 2, AddBos = true, AddEos = false },
        };
        var s = mapping.Synth(common, o);

        if (s.Rope.Kind != RopeKind.None && (s.Rope.Dimensions <= 0 || s.Rope.Dimensions % 2 != 0 || s.Rope.Dimensions > s.ResolvedHeadDim))
            throw new ArgumentException($"synth: rope dims {s.Rope.Dimensions} must be even, positive and at most head_dim {s.ResolvedHeadDim}");
        bool ropes = s.Rope.Kind != RopeKind.None;
        (string Option, object? Given, bool Honoured)[] family =
        [
            ("--head-dim", o.HeadDim > 0 ? o.HeadDim : null, s.ResolvedHeadDim == o.HeadDim),
            ("--rope-dims", o.RopeDims, ropes && s.Rope.Dimensions == o.RopeDims),
            ("--rope-theta", o.RopeTheta, ropes && s.Rope.Theta == o.RopeTheta),
            (o.Tied == true ? "--tied" : "--untied", o.Tied, s.Output.Tied == o.Tied),
            ("--window", o.Window, s.Attention.SlidingWindow == o.Window),
            ("--residual", o.Residual, s.Block.Residual == o.Residual),
            ("--embedding-scale", o.Scales.Embedding, s.Embedding.Scale == o.Scales.Embedding),
            ("--residual-scale", o.Scales.Residual, s.Block.ResidualScale == o.Scales.Residual),
            ("--attention-scale", o.Scales.Attention, s.Attention.Scale == o.Scales.Attention),
            ("--logit-scale", o.Scales.Logit, s.Output.LogitScale == o.Scales.Logit),
            ("--attn-softcap", o.Softcaps.Attention, s.Attention.LogitSoftcap == o.Softcaps.Attention),
            ("--final-softcap", o.Softcaps.Final, s.Output.FinalLogitSoftcap == o.Softcaps.Final),
            ("--pooling", o.Pooling, s.Output.Pooling == o.Pooling),
            ("--labels", o.Labels, s.Output.Labels == o.Labels),
        ];
        foreach (var (option, given, honoured) in family)
            if (given is not null && !honoured) throw new ArgumentException($"synth: {option} does not apply to {mapping.Name} (llama.cpp's {mapping.Name} fixes it or never reads it)");
        return s;
    }

    /// <summary>
    /// The type a tensor gets for <paramref name="requested"/>: vectors (norms, biases), position_embd and token_types
    /// stay F32 (as the converters write them and llama-quantize leaves them; llama.cpp's CPU add of an F16 token_types
    /// aborts); a matrix whose rows are not whole blocks is F16.
    /// </summary>
    public static GgmlType TypeFor(string name, long[] dims, GgmlType requested) =>
        dims.Length < 2 || name is "position_embd.weight" or "token_types.weight" ? GgmlType.F32
        : GgmlTypeTraits.RowBytes(requested, dims[0]) >= 0 ? requested : GgmlType.F16;

    /// <summary>The spec with the weight types of <paramref name="tensors"/> (biases are not weight roles).</summary>
    public static ModelSpec WithTypes(ModelSpec layout, IEnumerable<SynthTensor> tensors) =>
        layout with { Weights = SpecWeights.FromTensors(tensors.Select(t => (t.Name, t.Type))) };

    /// <summary>
    /// Writes <paramref name="spec"/>'s metadata (the family's keys, the synthetic vocabulary) and
    /// <paramref name="tensors"/> in their order, seeded by <see cref="SynthOptions.Seed"/>; general.file_type is
    /// <see cref="SynthOptions.Type"/>'s. <paramref name="quantizer"/> is required when a tensor's type is not F32/F16/BF16.
    /// </summary>
    public static void Write(string path, ModelSpec spec, IReadOnlyList<SynthTensor> tensors, SynthOptions o, RowQuantizer? quantizer = null)
    {
        foreach (var t in tensors)
            if (!CanEncodeWithoutQuantizer(t.Type) && quantizer is null)
                throw new NotSupportedException($"synth: type {GgmlTypeTraits.Name(t.Type)} needs a quantizer (only f32, f16 and bf16 are built in)");

        var mapping = Architectures.ArchitectureMapping.ForGguf(spec.Architecture)!;
        var w = new GgufWriter();
        foreach (var e in Architectures.ArchitectureMapping.Metadata(spec, Vocab(spec.VocabSize, mapping.SynthControlTokens).AddTo)) w.Set(e.Key, e.Value);
        w.Set("general.file_type", FileType(o.Type));
        if (!CanEncodeWithoutQuantizer(o.Type)) w.Set("general.quantization_version", 2u);
        w.Set("general.description", "RANDOM-WEIGHT synthetic model written by ingot synth (meaningless weights)");
        foreach (var t in tensors)
            w.AddTensor(t.Name, t.Type, t.Dims, s => WriteTensor(s, t, o.Seed, quantizer));
        w.Write(path);
    }

    private static void WriteTensor(Stream s, SynthTensor t, ulong seed, RowQuantizer? quantizer)
    {
        int cols = checked((int)t.Dims[0]);
        long rows = t.Dims.Length > 1 ? t.Dims[1] : 1;
        var rng = new SplitMix(seed ^ Fnv(t.Name));
        var (mean, std) = t.Name.EndsWith("norm.weight", StringComparison.Ordinal) ? (1f, 0.02f)
            : t.Name.EndsWith(".bias", StringComparison.Ordinal) ? (0f, BiasStd)
            : (0f, 1f / MathF.Sqrt(cols));
        var row = new float[cols];
        long rowBytes = GgmlTypeTraits.RowBytes(t.Type, cols);
        var bytes = new byte[rowBytes];
        for (long r = 0; r < rows; r++)
        {
            for (int i = 0; i < cols; i++) row[i] = mean + std * rng.NextGaussian();
            switch (t.Type)
            {
                case GgmlType.F32:
                    GgufWriter.WriteFloats(s, row);
                    continue;
                case GgmlType.F16:
                    for (int i = 0; i < cols; i++) BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), (Half)row[i]);
                    break;
                case GgmlType.BF16:
                    for (int i = 0; i < cols; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), ToBf16(row[i]));
                    break;
                default:
                    bytes = quantizer!(t.Type, row);
                    if (bytes.Length != rowBytes) throw new InvalidOperationException($"quantizer returned {bytes.Length} bytes for a {GgmlTypeTraits.Name(t.Type)} row of {cols}, expected {rowBytes}");
                    break;
            }
            s.Write(bytes);
        }
    }

    /// <summary>float → bfloat16 with round-to-nearest-even (NaN kept quiet).</summary>
    public static ushort ToBf16(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        if ((u & 0x7fffffff) > 0x7f800000) return (ushort)((u >> 16) | 64);
        return (ushort)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
    }

    /// <summary>llama_ftype for a uniform type (general.file_type).</summary>
    public static uint FileType(GgmlType t) => t switch
    {
        GgmlType.F32 => 0, GgmlType.F16 => 1, GgmlType.Q4_0 => 2, GgmlType.Q4_1 => 3, GgmlType.Q8_0 => 7, GgmlType.Q5_0 => 8,
        GgmlType.Q5_1 => 9, GgmlType.Q2_K => 10, GgmlType.Q3_K => 11, GgmlType.Q4_K => 14, GgmlType.Q5_K => 16, GgmlType.Q6_K => 18,
        GgmlType.IQ4_NL => 25, GgmlType.BF16 => 32, _ => 0,
    };

    /// <summary>
    /// A synthetic SPM vocabulary: &lt;unk&gt; &lt;s&gt; &lt;/s&gt;, 256 byte tokens &lt;0x00&gt;…&lt;0xFF&gt;, then filler pieces
    /// "▁a" "a" … "▁ab" "ab" … (lowercase letters, with and without the space marker) with descending scores, and last
    /// the <paramref name="control"/> tokens (type CONTROL, score 0) in place of the last fillers.
    /// </summary>
    public static GgufVocab Vocab(int size, params string[] control)
    {
        var tokens = new List<string>(size) { "<unk>", "<s>", "</s>" };
        var types = new List<int>(size) { 2, 3, 3 };
        for (int b = 0; b < 256; b++) { tokens.Add($"<0x{b:X2}>"); types.Add(6); }
        var seen = new HashSet<string>(tokens.Concat(control), StringComparer.Ordinal);
        int plain = size - control.Length; // tokens before the control ones
        for (int len = 1; tokens.Count < plain; len++)
        {
            long combos = (long)Math.Pow(26, len);
            for (long c = 0; c < combos && tokens.Count < plain; c++)
            {
                var sb = new StringBuilder(len);
                long x = c;
                for (int i = 0; i < len; i++) { sb.Insert(0, (char)('a' + x % 26)); x /= 26; }
                foreach (string piece in new[] { GgufVocab.SpaceMarker + sb, sb.ToString() })
                {
                    if (tokens.Count >= plain || !seen.Add(piece)) continue;
                    tokens.Add(piece);
                    types.Add(1);
                }
            }
        }
        var scores = new float[size];
        for (int i = 259; i < plain; i++) scores[i] = -(i - 259);
        tokens.AddRange(control);
        types.AddRange(control.Select(_ => 3));
        return new GgufVocab([.. tokens], scores, [.. types], 1, 2, 0, -1, true, false);
    }

    private static ulong Fnv(string s)
    {
        ulong h = 14695981039346656037;
        foreach (char c in s) { h ^= c; h *= 1099511628211; }
        return h;
    }

    /// <summary>SplitMix64 + Box–Muller: tiny, fast, and the same on every platform.</summary>
    private sealed class SplitMix(ulong seed)
    {
        private ulong _s = seed;
        private float _spare;
        private bool _hasSpare;

        private ulong Next()
        {
            ulong z = _s += 0x9E3779B97F4A7C15;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            return z ^ (z >> 31);
        }

        private double Uniform() => ((Next() >> 11) + 0.5) * (1.0 / (1UL << 53)); // (0, 1)

        public float NextGaussian()
        {
            if (_hasSpare) { _hasSpare = false; return _spare; }
            double r = Math.Sqrt(-2 * Math.Log(Uniform())), th = 2 * Math.PI * Uniform();
            _spare = (float)(r * Math.Sin(th));
            _hasSpare = true;
            return (float)(r * Math.Cos(th));
        }
    }
}
