using System.Buffers.Binary;
using System.Text;

namespace Ingot.TestSupport;

/// <summary>
/// Writes a SentencePiece tokenizer.model (ModelProto, protobuf): pieces (1: piece 1, score 2, type 3), trainer_spec
/// (2: model_type 3, byte_fallback 35, unk/bos/eos/pad ids 40–43) and normalizer_spec (3: name 1, add_dummy_prefix 3,
/// remove_extra_whitespaces 4, escape_whitespaces 5) — the fields SentencePieceModelReader and llama.cpp's converter
/// read. Piece types are GGUF's token types (the same numbers).
/// </summary>
public static class SentencePieceModelWriter
{
    /// <summary><paramref name="modelType"/>: 1 unigram, 2 BPE. Ids of −1 mean "none".</summary>
    public static void Write(string path, IReadOnlyList<string> pieces, IReadOnlyList<float> scores, IReadOnlyList<int> types,
                             int unkId, int bosId, int eosId, int padId, int modelType = 2, bool byteFallback = true, bool addDummyPrefix = true)
    {
        var model = new MemoryStream();
        Span<byte> f = stackalloc byte[4];
        for (int i = 0; i < pieces.Count; i++)
        {
            var piece = new MemoryStream();
            String(piece, 1, pieces[i]);
            Tag(piece, 2, 5);
            BinaryPrimitives.WriteSingleLittleEndian(f, scores[i]);
            piece.Write(f);
            Number(piece, 3, types[i]);
            Message(model, 1, piece);
        }
        var trainer = new MemoryStream();
        Number(trainer, 3, modelType);
        Number(trainer, 35, byteFallback ? 1 : 0);
        Number(trainer, 40, unkId);
        Number(trainer, 41, bosId);
        Number(trainer, 42, eosId);
        Number(trainer, 43, padId);
        Message(model, 2, trainer);
        var normalizer = new MemoryStream();
        String(normalizer, 1, "identity");
        Number(normalizer, 3, addDummyPrefix ? 1 : 0);
        Number(normalizer, 4, 0);
        Number(normalizer, 5, 1);
        Message(model, 3, normalizer);
        File.WriteAllBytes(path, model.ToArray());
    }

    private static void Tag(Stream s, int field, int wire) => Varint(s, (ulong)(field << 3 | wire));

    /// <summary>An int32 field: negative values take ten bytes (two's complement, as protobuf's int32).</summary>
    private static void Number(Stream s, int field, long value)
    {
        Tag(s, field, 0);
        Varint(s, (ulong)value);
    }

    private static void String(Stream s, int field, string value) => Bytes(s, field, Encoding.UTF8.GetBytes(value));

    private static void Message(Stream s, int field, MemoryStream message) => Bytes(s, field, message.ToArray());

    private static void Bytes(Stream s, int field, byte[] b)
    {
        Tag(s, field, 2);
        Varint(s, (ulong)b.Length);
        s.Write(b);
    }

    private static void Varint(Stream s, ulong v)
    {
        while (v >= 0x80) { s.WriteByte((byte)(v | 0x80)); v >>= 7; }
        s.WriteByte((byte)v);
    }
}
