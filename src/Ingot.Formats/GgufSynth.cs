using Ingot.Specs;
using System.Buffers.Binary;
using System.Text;

namespace Ingot.Formats;

/// <summary>Shape and type of a random-weight model (`ingot synth`).</summary>
public sealed record SynthOptions
{
    public string Architecture { get; init; } = "llama";
    public string Name { get; init; } = "synth";
    public int Dim { get; init; } = 768;
    public int Layers { get; init; } = 12;
    public int Heads { get; init; } = 12;
    /// <summary>0 = same as <see cref="Heads"/> (multi-head attention).</summary>
    public int KvHeads { get; init; }
    public int FfnDim { get; init; } = 2048;
    public int VocabSize { get; init; } = 32000;
    public int ContextLength { get; init; } = 2048;
    /// <summary>Type of the 2-D weights (norms stay F32; rows that are not whole blocks fall back to F16).</summary>
    public GgmlType Type { get; init; } = GgmlType.F32;
    public ulong Seed { get; init; } = 1;
    public float RopeTheta { get; init; } = 10000f;
    public float RmsEpsilon { get; init; } = 1e-5f;
    /// <summary>No output.weight: the classifier reuses token_embd.</summary>
    public bool Tied { get; init; }
}

/// <summary>
/// Writes a random-weight GGUF llama model with a working synthetic SentencePiece vocabulary, streaming one row at a
/// time (a 110M-parameter file never needs all its weights in memory). Matrices are N(0, 1/fan_in) (std
/// 1/sqrt(cols)); norm weights 1 + N(0, 0.02²). Each tensor has its own generator seeded from (seed, name), so a
/// tensor's values do not depend on the others. F32, F16 and BF16 are encoded here; other types need a row
/// quantizer (the `ingot` CLI passes Ingot.Runtime.Quants; Formats cannot reference Runtime).
/// </summary>
public static class GgufSynth
{
    /// <summary>Quantizes one row of floats (length a multiple of the type's block size) to its ggml bytes.</summary>
    public delegate byte[] RowQuantizer(GgmlType type, float[] row);

    public static bool CanEncodeWithoutQuantizer(GgmlType t) => t is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16;

    /// <summary>The spec the file will describe.</summary>
    public static ModelSpec Spec(SynthOptions o)
    {
        o = Normalize(o);
        Validate(o);
        int hd = o.Dim / o.Heads;
        var s = new ModelSpec
        {
            Name = o.Name, Architecture = "llama", VocabSize = o.VocabSize, Dim = o.Dim, Layers = o.Layers, FfnDim = o.FfnDim, ContextLength = o.ContextLength,
            Attention = new AttentionSpec { Heads = o.Heads, KvHeads = o.KvHeads, HeadDim = hd, Scale = 1f / MathF.Sqrt(hd) },
            Norm = new NormSpec { Kind = NormKind.RmsNorm, Epsilon = o.RmsEpsilon },
            Rope = new RopeSpec { Kind = RopeKind.Norm, Theta = o.RopeTheta, Dimensions = hd },
            Ffn = new FfnSpec { Gated = true, Activation = Activation.Silu },
            Output = new OutputSpec { Tied = o.Tied },
            Tokenizer = new TokenizerSpec { Kind = "spm", Bos = 1, Eos = 2, AddBos = true, AddEos = false },
        };
        return s with { Weights = SpecWeights.FromTensors(Plan(o).Select(t => (t.Name, t.Type))) };
    }

    private static SynthOptions Normalize(SynthOptions o) => o.KvHeads == 0 ? o with { KvHeads = o.Heads } : o;

    private static void Validate(SynthOptions o)
    {
        if (o.Architecture != "llama") throw new NotSupportedException($"synth: architecture '{o.Architecture}' is not supported (llama only)");
        if (o.Dim <= 0 || o.Layers <= 0 || o.Heads <= 0 || o.KvHeads < 0 || o.FfnDim <= 0 || o.ContextLength <= 0)
            throw new ArgumentException("synth: every dimension must be positive");
        if (o.Dim % o.Heads != 0 || (o.Dim / o.Heads) % 2 != 0) throw new ArgumentException($"synth: dim {o.Dim} must split into {o.Heads} heads of even size");
        if (o.Heads % o.KvHeads != 0) throw new ArgumentException($"synth: kv-heads {o.KvHeads} must divide heads {o.Heads}");
        if (o.VocabSize < 259 + 1) throw new ArgumentException("synth: vocab must be at least 260 (3 specials + 256 byte tokens + 1)");
        if (!GgmlTypeTraits.IsKnown(o.Type)) throw new ArgumentException($"synth: unknown type {o.Type}");
    }

    private sealed record Planned(string Name, GgmlType Type, long[] Dims, bool IsNorm);

    private static List<Planned> Plan(SynthOptions o)
    {
        long d = o.Dim, ff = o.FfnDim, v = o.VocabSize, kv = (long)o.Dim / o.Heads * o.KvHeads;
        GgmlType M(long cols) => GgmlTypeTraits.RowBytes(o.Type, cols) >= 0 ? o.Type : GgmlType.F16;
        var list = new List<Planned>
        {
            new("token_embd.weight", M(d), [d, v], false),
            new("output_norm.weight", GgmlType.F32, [d], true),
        };
        if (!o.Tied) list.Add(new("output.weight", M(d), [d, v], false));
        for (int l = 0; l < o.Layers; l++)
        {
            string p = $"blk.{l}.";
            list.Add(new(p + "attn_norm.weight", GgmlType.F32, [d], true));
            list.Add(new(p + "attn_q.weight", M(d), [d, d], false));
            list.Add(new(p + "attn_k.weight", M(d), [d, kv], false));
            list.Add(new(p + "attn_v.weight", M(d), [d, kv], false));
            list.Add(new(p + "attn_output.weight", M(d), [d, d], false));
            list.Add(new(p + "ffn_norm.weight", GgmlType.F32, [d], true));
            list.Add(new(p + "ffn_gate.weight", M(d), [d, ff], false));
            list.Add(new(p + "ffn_up.weight", M(d), [d, ff], false));
            list.Add(new(p + "ffn_down.weight", M(ff), [ff, d], false));
        }
        return list;
    }

    /// <summary>Writes the model; <paramref name="quantizer"/> is required when a tensor's type is not F32/F16/BF16.</summary>
    public static ModelSpec Write(string path, SynthOptions o, RowQuantizer? quantizer = null)
    {
        o = Normalize(o);
        var spec = Spec(o);
        var plan = Plan(o);
        foreach (var t in plan)
            if (!CanEncodeWithoutQuantizer(t.Type) && quantizer is null)
                throw new NotSupportedException($"synth: type {GgmlTypeTraits.Name(t.Type)} needs a quantizer (only f32, f16 and bf16 are built in)");

        var w = new GgufWriter();
        foreach (var e in Architectures.ArchitectureMapping.Metadata(spec, Vocab(o.VocabSize).AddTo)) w.Set(e.Key, e.Value);
        w.Set("general.file_type", FileType(o.Type));
        if (!CanEncodeWithoutQuantizer(o.Type)) w.Set("general.quantization_version", 2u);
        w.Set("general.description", "RANDOM-WEIGHT synthetic model written by ingot synth (meaningless weights)");
        foreach (var t in plan)
            w.AddTensor(t.Name, t.Type, t.Dims, s => WriteTensor(s, t, o.Seed, quantizer));
        w.Write(path);
        return spec;
    }

    private static void WriteTensor(Stream s, Planned t, ulong seed, RowQuantizer? quantizer)
    {
        int cols = checked((int)t.Dims[0]);
        long rows = t.Dims.Length > 1 ? t.Dims[1] : 1;
        var rng = new SplitMix(seed ^ Fnv(t.Name));
        float std = t.IsNorm ? 0.02f : 1f / MathF.Sqrt(cols);
        var row = new float[cols];
        long rowBytes = GgmlTypeTraits.RowBytes(t.Type, cols);
        var bytes = new byte[rowBytes];
        for (long r = 0; r < rows; r++)
        {
            for (int i = 0; i < cols; i++) row[i] = (t.IsNorm ? 1f : 0f) + std * rng.NextGaussian();
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
    /// "▁a" "a" … "▁ab" "ab" … (lowercase letters, with and without the space marker) with descending scores.
    /// </summary>
    public static GgufVocab Vocab(int size)
    {
        var tokens = new List<string>(size) { "<unk>", "<s>", "</s>" };
        var types = new List<int>(size) { 2, 3, 3 };
        for (int b = 0; b < 256; b++) { tokens.Add($"<0x{b:X2}>"); types.Add(6); }
        var seen = new HashSet<string>(tokens, StringComparer.Ordinal);
        for (int len = 1; tokens.Count < size; len++)
        {
            long combos = (long)Math.Pow(26, len);
            for (long c = 0; c < combos && tokens.Count < size; c++)
            {
                var sb = new StringBuilder(len);
                long x = c;
                for (int i = 0; i < len; i++) { sb.Insert(0, (char)('a' + x % 26)); x /= 26; }
                foreach (string piece in new[] { GgufVocab.SpaceMarker + sb, sb.ToString() })
                {
                    if (tokens.Count >= size || !seen.Add(piece)) continue;
                    tokens.Add(piece);
                    types.Add(1);
                }
            }
        }
        var scores = new float[size];
        for (int i = 259; i < size; i++) scores[i] = -(i - 259);
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
