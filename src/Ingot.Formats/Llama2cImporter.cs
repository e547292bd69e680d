using Ingot.Specs;
using Microsoft.Win32.SafeHandles;

namespace Ingot.Formats;

/// <summary>The legacy (v0) llama2.c checkpoint header: 7 × int32.</summary>
public sealed record Llama2cConfig(int Dim, int HiddenDim, int Layers, int Heads, int KvHeads, int VocabSize, int SeqLen, bool SharedClassifier)
{
    public int HeadSize => Dim / Heads;
    public int KvDim => Dim * KvHeads / Heads;
}

/// <summary>
/// llama2.c checkpoint (legacy v0): header (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size — negative
/// means a separate classifier — seq_len), then float32 weights in run.c order: token_embedding (vocab, dim),
/// rms_att (layers, dim), wq (layers, dim, dim), wk (layers, kv_dim, dim), wv (layers, kv_dim, dim),
/// wo (layers, dim, dim), rms_ffn (layers, dim), w1 (layers, hidden, dim), w2 (layers, dim, hidden),
/// w3 (layers, hidden, dim), rms_final (dim), freq_cis_real (seq_len, head_size/2), freq_cis_imag (same),
/// [wcls (vocab, dim)]. Matrices are row-major (out, in) = GGUF ne [in, out]; rope order is already GGUF's.
/// </summary>
public static class Llama2cImporter
{
    private const int HeaderBytes = 7 * 4;

    public static Llama2cConfig ReadConfig(string path)
    {
        using var h = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return ReadConfig(path, h, RandomAccess.GetLength(h));
    }

    private static Llama2cConfig ReadConfig(string path, SafeFileHandle h, long length)
    {
        if (length < HeaderBytes) throw new InvalidModelFileException(path, "header", 0, $"file is {length} bytes, too short for a llama2.c header (28)");
        var b = new byte[HeaderBytes];
        RandomAccess.Read(h, b, 0);
        int I(int i) => System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(i * 4));
        int dim = I(0), hidden = I(1), layers = I(2), heads = I(3), kv = I(4), vocab = I(5), seq = I(6);
        void Check(bool ok, string field, int index, string problem)
        {
            if (!ok) throw new InvalidModelFileException(path, "header " + field, index * 4, problem);
        }
        Check(dim is > 0 and <= 1 << 16, "dim", 0, $"dim {dim} is out of range");
        Check(hidden is > 0 and <= 1 << 18, "hidden_dim", 1, $"hidden_dim {hidden} is out of range");
        Check(layers is > 0 and <= 4096, "n_layers", 2, $"n_layers {layers} is out of range");
        Check(heads > 0 && heads <= dim && dim % heads == 0, "n_heads", 3, $"n_heads {heads} does not divide dim {dim}");
        Check(kv > 0 && kv <= heads && heads % kv == 0, "n_kv_heads", 4, $"n_kv_heads {kv} does not divide n_heads {heads}");
        Check(vocab != 0 && vocab != int.MinValue && Math.Abs(vocab) <= 1 << 24, "vocab_size", 5, $"vocab_size {vocab} is out of range");
        Check(seq is > 0 and <= 1 << 24, "seq_len", 6, $"seq_len {seq} is out of range");
        Check((dim / heads) % 2 == 0, "n_heads", 3, $"head size {dim / heads} must be even for rope");
        return new Llama2cConfig(dim, hidden, layers, heads, kv, Math.Abs(vocab), seq, vocab > 0);
    }

    private sealed record Section(string Name, long Offset, long Floats);

    /// <summary>Byte offset and float count of every section, in file order.</summary>
    private static List<Section> Layout(Llama2cConfig c)
    {
        long L = c.Layers, d = c.Dim, h = c.HiddenDim, kv = c.KvDim, v = c.VocabSize;
        var list = new List<Section>();
        long at = HeaderBytes;
        void Add(string n, long floats) { list.Add(new Section(n, at, floats)); at += floats * 4; }
        Add("token_embedding", v * d);
        Add("rms_att", L * d);
        Add("wq", L * d * d);
        Add("wk", L * kv * d);
        Add("wv", L * kv * d);
        Add("wo", L * d * d);
        Add("rms_ffn", L * d);
        Add("w1", L * h * d);
        Add("w2", L * d * h);
        Add("w3", L * h * d);
        Add("rms_final", d);
        Add("freq_cis_real", (long)c.SeqLen * c.HeadSize / 2);
        Add("freq_cis_imag", (long)c.SeqLen * c.HeadSize / 2);
        if (!c.SharedClassifier) Add("wcls", v * d);
        return list;
    }

    private sealed class Handle(SafeFileHandle h) : IDisposable
    {
        public SafeFileHandle H { get; } = h;
        public void Dispose() => H.Dispose();
    }

    public static ImportedModel Import(string path, string tokenizerPath, string name)
    {
        var h = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            long length = RandomAccess.GetLength(h);
            var c = ReadConfig(path, h, length);
            var sections = Layout(c).ToDictionary(s => s.Name);
            foreach (var s in sections.Values.OrderBy(s => s.Offset))
                if (s.Offset + s.Floats * 4 > length)
                    throw new InvalidModelFileException(path, s.Name, s.Offset, $"needs {s.Floats * 4} bytes but the file is {length} bytes (truncated, or the header does not match the weights)");

            var vocab = GgufVocab.FromLlama2cTokenizer(tokenizerPath, c.VocabSize);
            var spec = new ModelSpec
            {
                Name = name,
                Architecture = "llama",
                VocabSize = c.VocabSize,
                Dim = c.Dim,
                Layers = c.Layers,
                FfnDim = c.HiddenDim,
                ContextLength = c.SeqLen,
                Attention = new AttentionSpec { Heads = c.Heads, KvHeads = c.KvHeads, HeadDim = c.HeadSize, Scale = 1f / MathF.Sqrt(c.HeadSize) },
                Norm = new NormSpec { Kind = NormKind.RmsNorm, Epsilon = 1e-5f },
                Rope = new RopeSpec { Kind = RopeKind.Norm, Theta = 10000f, Dimensions = c.HeadSize },
                Ffn = new FfnSpec { Gated = true, Activation = Activation.Silu },
                Output = new OutputSpec { Tied = c.SharedClassifier },
                Tokenizer = new TokenizerSpec { Kind = "spm", Bos = 1, Eos = 2, AddBos = true, AddEos = false },
            };

            var tensors = new List<ImportedTensor>();
            void Add(string gguf, string section, long layer, long rows, long cols)
            {
                var s = sections[section];
                long perLayer = rows * cols;
                long offset = s.Offset + (layer < 0 ? 0 : layer * perLayer * 4);
                long[] dims = rows == 1 ? [cols] : [cols, rows];
                tensors.Add(new ImportedTensor(gguf, GgmlType.F32, dims, st => CopyRange(h, path, offset, perLayer * 4, st)));
            }
            long d = c.Dim, hd = c.HiddenDim, kvd = c.KvDim, vs = c.VocabSize;
            Add("token_embd.weight", "token_embedding", -1, vs, d);
            Add("output_norm.weight", "rms_final", -1, 1, d);
            if (!c.SharedClassifier) Add("output.weight", "wcls", -1, vs, d);
            for (int l = 0; l < c.Layers; l++)
            {
                Add($"blk.{l}.attn_q.weight", "wq", l, d, d);
                Add($"blk.{l}.attn_k.weight", "wk", l, kvd, d);
                Add($"blk.{l}.attn_v.weight", "wv", l, kvd, d);
                Add($"blk.{l}.attn_output.weight", "wo", l, d, d);
                Add($"blk.{l}.attn_norm.weight", "rms_att", l, 1, d);
                Add($"blk.{l}.ffn_gate.weight", "w1", l, hd, d);
                Add($"blk.{l}.ffn_down.weight", "w2", l, d, hd);
                Add($"blk.{l}.ffn_up.weight", "w3", l, hd, d);
                Add($"blk.{l}.ffn_norm.weight", "rms_ffn", l, 1, d);
            }
            spec = spec with { Weights = SpecWeights.FromTensors(tensors.Select(t => (t.Name, t.Type))) };
            return new ImportedModel("llama2c", path, spec, Architectures.ArchitectureMapping.Metadata(spec, vocab.AddTo), tensors, new Handle(h));
        }
        catch
        {
            h.Dispose();
            throw;
        }
    }

    internal static void CopyRange(SafeFileHandle h, string path, long offset, long count, Stream dst)
    {
        var buf = new byte[(int)Math.Min(count, 1 << 20)];
        while (count > 0)
        {
            int n = RandomAccess.Read(h, buf.AsSpan(0, (int)Math.Min(count, buf.Length)), offset);
            if (n <= 0) throw new InvalidModelFileException(path, "weights", offset, "unexpected end of file");
            dst.Write(buf, 0, n);
            offset += n;
            count -= n;
        }
    }
}
