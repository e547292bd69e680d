using System.Text;

namespace Ingot.Runtime.Evaluation;

/// <summary>
/// The base model's log-probabilities for KL-divergence, in llama-perplexity's <c>--kl-divergence-base</c> file layout
/// (so either tool reads the other's): "_logits_", uint32 ctx, int32 vocab, int32 chunks, int32 tokens[chunks · ctx]
/// (the text's tokens, before BOS replaces each chunk's first), then per chunk its ctx − 1 − ctx/2 scored rows of
/// nv = 2·⌈vocab/2⌉ + 4 uint16: float scale and float min log-prob, then each log-prob quantized to
/// (log p − min) / scale, log-probs more than 16 below the top clamped to the minimum.
/// </summary>
public static class KlDivergenceBase
{
    private static ReadOnlySpan<byte> Magic => "_logits_"u8;

    /// <summary>uint16 per row: two floats, the vocabulary, padded to an even count.</summary>
    public static int RowWords(int vocab) => 2 * ((vocab + 1) / 2) + 4;

    /// <summary>Writes the header, then one row per <see cref="AddRow"/>.</summary>
    public sealed class Writer : IDisposable
    {
        private readonly BinaryWriter _out;
        private readonly ushort[] _row;

        public Writer(Stream stream, int ctx, int vocab, int chunks, ReadOnlySpan<int> tokens)
        {
            _out = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: false);
            _row = new ushort[RowWords(vocab)];
            _out.Write(Magic);
            _out.Write((uint)ctx);
            _out.Write(vocab);
            _out.Write(chunks);
            foreach (int t in tokens.Slice(0, chunks * ctx)) _out.Write(t);
        }

        /// <summary>Quantizes one row's log-probabilities and writes it; returns −log p(token) as the base run scores it.</summary>
        public double AddRow(ReadOnlySpan<float> logits, int token)
        {
            float max = logits[0], min = logits[0];
            for (int i = 1; i < logits.Length; i++)
            {
                max = Math.Max(max, logits[i]);
                min = Math.Min(min, logits[i]);
            }
            min = Math.Max(min, max - 16);
            double sum = 0;
            for (int i = 0; i < logits.Length; i++) sum += MathF.Exp(logits[i] - max);
            float logSum = (float)Math.Log(sum);
            float minLogProb = min - max - logSum;
            float scale = (max - min) / 65535f;
            Array.Clear(_row);
            BitConverter.TryWriteBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_row.AsSpan(0, 2)), scale);
            BitConverter.TryWriteBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_row.AsSpan(2, 2)), minLogProb);
            if (scale != 0)
            {
                float inv = 1 / scale;
                for (int i = 0; i < logits.Length; i++)
                    _row[4 + i] = logits[i] > min ? (ushort)(int)MathF.Round(inv * (logits[i] - min), MidpointRounding.ToEven) : (ushort)0;
            }
            foreach (ushort u in _row) _out.Write(u);
            return max + logSum - logits[token];
        }

        public void Dispose() => _out.Dispose();
    }

    /// <summary>A base file read whole: its context, vocabulary, chunks, tokens and the scored rows (chunks × rows × nv).</summary>
    public sealed record Data(int Context, int Vocab, int Chunks, int[] Tokens, ushort[] Rows)
    {
        public int RowsPerChunk => Context - 1 - Context / 2;

        public ReadOnlySpan<ushort> Row(int chunk, int row) => Rows.AsSpan((int)(((long)chunk * RowsPerChunk + row) * RowWords(Vocab)), RowWords(Vocab));
    }

    /// <summary>Reads and checks a base file; a bad one is an InvalidDataException naming the file, the field and its offset.</summary>
    public static Data Read(string path)
    {
        using var stream = File.OpenRead(path);
        long length = stream.Length;
        using var r = new BinaryReader(stream);
        string Where(long offset, string field) => $"{path}: {field} at byte {offset}";
        if (length < 20 || !r.ReadBytes(8).AsSpan().SequenceEqual(Magic))
            throw new InvalidDataException(Where(0, "magic") + ": not a log-probability file (it must start with \"_logits_\", as --kl-divergence-base writes it)");
        uint ctx = r.ReadUInt32();
        int vocab = r.ReadInt32(), chunks = r.ReadInt32();
        if (ctx is < 4 or > 1 << 20) throw new InvalidDataException(Where(8, "context") + $": {ctx} is outside 4 .. {1 << 20}");
        if (vocab is < 2 or > 1 << 24) throw new InvalidDataException(Where(12, "vocabulary size") + $": {vocab} is outside 2 .. {1 << 24}");
        if (chunks < 1) throw new InvalidDataException(Where(16, "chunk count") + $": {chunks}");
        int c = (int)ctx, rowsPerChunk = c - 1 - c / 2;
        long tokenBytes = 4L * chunks * c, rowBytes = 2L * RowWords(vocab) * rowsPerChunk * chunks;
        if (20 + tokenBytes + rowBytes != length)
            throw new InvalidDataException(Where(20, "tokens and rows") + $": {chunks} chunks of {c} tokens and {rowsPerChunk} rows of {RowWords(vocab)} uint16 need {20 + tokenBytes + rowBytes} bytes, the file has {length}");
        if (rowBytes / 2 > Array.MaxLength) throw new InvalidDataException(Where(20 + tokenBytes, "rows") + $": {rowBytes} bytes is more than one array holds");
        var tokens = new int[chunks * c];
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = r.ReadInt32();
            if ((uint)tokens[i] >= (uint)vocab) throw new InvalidDataException(Where(20 + 4L * i, "token " + i) + $": {tokens[i]} is outside the vocabulary (0 .. {vocab - 1})");
        }
        var rows = new ushort[rowBytes / 2];
        stream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(rows.AsSpan()));
        return new Data(c, vocab, chunks, tokens, rows);
    }
}
