using System.Buffers.Binary;
using System.Text;
using Ingot.Cli.Building;
using Ingot.Formats;

namespace Ingot.Fuzzing;

/// <summary>
/// The binary inputs of the fuzz targets, made by code so that no model file is kept in the repo: the seeds fuzz.sh
/// starts from (<c>Ingot.Fuzzing --seeds DIR</c>), and the crashes the fuzzer found in binary formats, rebuilt byte for
/// byte where it matters. The regression test replays both, and the real files in ../shared in place. Text seeds
/// (templates, specs, tokenizer.json) stay in tests/Fuzzing/corpus.
/// </summary>
public static class FuzzSeeds
{
    /// <summary>Small valid files of each binary format: synthetic llama, gpt2 and bert GGUFs, a safetensors file, a llama2c checkpoint with its tokenizer.bin, a SentencePiece BPE model.</summary>
    public static IEnumerable<(string Target, string Name, byte[] Data)> Generated()
    {
        foreach (string arch in new[] { "llama", "gpt2", "bert" })
            yield return ("gguf", arch + "-tiny.gguf", Synth(arch));
        yield return ("safetensors", "tiny.safetensors", Safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[16,22]},\"__metadata__\":{\"format\":\"pt\"}}"u8, 22));
        yield return ("llama2c", "tiny.bin", Llama2c());
        yield return ("spm-model", "bpe-tiny.model", SentencePiece());
    }

    /// <summary>Crashes the fuzzer found in binary formats (each fixed), rebuilt with just what set them off.</summary>
    public static IEnumerable<(string Target, string Name, byte[] Data)> Regressions()
    {
        yield return ("gguf", "unknown-tokenizer-model", Gguf(w => w.Set("tokenizer.ggml.model", "")));
        yield return ("gguf", "misspelt-tokenizer-model", Gguf(w => w.Set("tokenizer.ggml.model", "llXma")));
        yield return ("gguf", "tokenizer-model-not-a-string", Gguf(w => w.Set("tokenizer.ggml.model", 7u)));
        // a tensor name with the invalid UTF-8 pair C3 28
        yield return ("safetensors", "invalid-utf8-name", Safetensors([.. "{\"w"u8, 0xC3, 0x28, .. "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"u8], 4));
        yield return ("safetensors", "offset-not-a-number", Safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}"u8, 4));
    }

    /// <summary>Writes <see cref="Generated"/> into DIR/TARGET/NAME.</summary>
    public static void Write(string dir)
    {
        foreach (var (target, name, data) in Generated())
        {
            Directory.CreateDirectory(Path.Combine(dir, target));
            File.WriteAllBytes(Path.Combine(dir, target, name), data);
        }
    }

    /// <summary>What `ingot synth` writes for a 1-layer, 16-wide model of the family with the smallest vocabulary it takes.</summary>
    private static byte[] Synth(string arch) => ViaFile(path => SynthModel.Write(path,
        new SynthOptions { Architecture = arch, Dim = 16, Layers = 1, Heads = 2, FfnDim = 32, VocabSize = 260, ContextLength = 16 }, null));

    private static byte[] Gguf(Action<GgufWriter> metadata)
    {
        var w = new GgufWriter();
        w.Set("general.architecture", "llama");
        metadata(w);
        return ViaFile(w.Write);
    }

    private static byte[] ViaFile(Action<string> write)
    {
        string path = Path.Combine(Path.GetTempPath(), "ingot-fuzz-seed-" + Guid.NewGuid().ToString("N"));
        try
        {
            write(path);
            return File.ReadAllBytes(path);
        }
        finally { File.Delete(path); }
    }

    /// <summary>u64 header length, the header padded to 8 bytes, then <paramref name="dataBytes"/> bytes of data.</summary>
    private static byte[] Safetensors(ReadOnlySpan<byte> header, int dataBytes)
    {
        int padded = (header.Length + 7) / 8 * 8;
        var file = new byte[8 + padded + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)padded);
        header.CopyTo(file.AsSpan(8));
        file.AsSpan(8 + header.Length, padded - header.Length).Fill((byte)' ');
        return file;
    }

    /// <summary>A one-layer checkpoint and an 8-piece tokenizer.bin, framed as the llama2c target splits its input.</summary>
    private static byte[] Llama2c()
    {
        const int Dim = 8, Hidden = 16, Layers = 1, Heads = 2, KvHeads = 2, Vocab = 8, Seq = 8;
        int floats = Vocab * Dim + Layers * Dim + Layers * Dim * Dim * 4 + Layers * Dim + Layers * Dim * Hidden * 3 + Dim + Seq * (Dim / Heads);
        var model = new byte[7 * 4 + floats * 4];
        int[] config = [Dim, Hidden, Layers, Heads, KvHeads, Vocab, Seq];
        for (int i = 0; i < config.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(model.AsSpan(4 * i), config[i]);
        for (int i = 0; i < floats; i++) BinaryPrimitives.WriteSingleLittleEndian(model.AsSpan(28 + 4 * i), 0.01f);
        var tok = new MemoryStream();
        tok.Write(BitConverter.GetBytes(8)); // max token length
        string[] pieces = ["<unk>", "\n<s>\n", "\n</s>\n", " a", " the", "b", "th", "e"];
        for (int i = 0; i < pieces.Length; i++)
        {
            byte[] b = Encoding.UTF8.GetBytes(pieces[i]);
            tok.Write(BitConverter.GetBytes(-(float)i));
            tok.Write(BitConverter.GetBytes(b.Length));
            tok.Write(b);
        }
        return Llama2cInput(model, tok.ToArray());
    }

    /// <summary>The llama2c target's input for a checkpoint and its tokenizer.bin: [u32 n][n bytes checkpoint][tokenizer.bin].</summary>
    public static byte[] Llama2cInput(byte[] checkpoint, byte[] tokenizer) => [.. BitConverter.GetBytes(checkpoint.Length), .. checkpoint, .. tokenizer];

    /// <summary>A SentencePiece ModelProto: &lt;unk&gt; &lt;s&gt; &lt;/s&gt;, the 256 byte pieces and a few words; trainer_spec.model_type BPE; an identity normalizer with a dummy prefix.</summary>
    private static byte[] SentencePiece()
    {
        var m = new MemoryStream();
        var pieces = new List<(string Piece, float Score, int Type)> { ("<unk>", 0, 2), ("<s>", 0, 3), ("</s>", 0, 3) };
        for (int i = 0; i < 256; i++) pieces.Add(($"<0x{i:X2}>", 0, 6));
        pieces.AddRange([("\u2581a", -1, 1), ("\u2581the", -2, 1), ("b", -3, 1), ("\u2581", -4, 1), ("th", -5, 1), ("e", -6, 1)]);
        foreach (var (piece, score, type) in pieces)
        {
            var p = new MemoryStream();
            Bytes(p, 1, Encoding.UTF8.GetBytes(piece));
            p.WriteByte(2 << 3 | 5); // score: fixed32
            p.Write(BitConverter.GetBytes(score));
            Varint(p, 3 << 3 | 0);
            Varint(p, (ulong)type);
            Bytes(m, 1, p.ToArray());
        }
        Bytes(m, 2, [3 << 3 | 0, 2]);                                   // trainer_spec { model_type: BPE }
        var normalizer = new MemoryStream();
        Bytes(normalizer, 1, "identity"u8.ToArray());
        normalizer.Write([3 << 3 | 0, 1]);                              // add_dummy_prefix: true
        Bytes(m, 3, normalizer.ToArray());
        return m.ToArray();
    }

    private static void Bytes(Stream s, int field, byte[] b)
    {
        Varint(s, (ulong)(field << 3 | 2));
        Varint(s, (ulong)b.Length);
        s.Write(b);
    }

    private static void Varint(Stream s, ulong v)
    {
        for (; v >= 0x80; v >>= 7) s.WriteByte((byte)(v | 0x80));
        s.WriteByte((byte)v);
    }
}
