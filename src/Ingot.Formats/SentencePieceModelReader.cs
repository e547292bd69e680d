using System.Text;

namespace Ingot.Formats;

/// <summary>SentencePiece piece types (sentencepiece_model.proto); GGUF's tokenizer.ggml.token_type uses the same numbers.</summary>
public enum SentencePieceType
{
    Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6,
}

public sealed record SentencePiece(string Piece, float Score, SentencePieceType Type);

/// <summary>What a SentencePiece tokenizer.model holds that a GGUF vocabulary needs.</summary>
public sealed class SentencePieceModel
{
    public required IReadOnlyList<SentencePiece> Pieces { get; init; }
    /// <summary>TrainerSpec.model_type: 1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR.</summary>
    public int ModelType { get; init; } = 1;
    public int UnkId { get; init; }
    public int BosId { get; init; } = 1;
    public int EosId { get; init; } = 2;
    public int PadId { get; init; } = -1;
    public bool ByteFallback { get; init; }
    public bool AddDummyPrefix { get; init; } = true;
    public bool RemoveExtraWhitespaces { get; init; } = true;
    public bool EscapeWhitespaces { get; init; } = true;
    public string NormalizerName { get; init; } = "nmt_nfkc";
}

/// <summary>
/// A minimal protobuf reader for SentencePiece's ModelProto: pieces (1: piece string, 2: score float, 3: type enum),
/// trainer_spec (2: model_type 3, byte_fallback 35, unk/bos/eos/pad ids 40–43) and normalizer_spec
/// (3: name 1, add_dummy_prefix 3, remove_extra_whitespaces 4, escape_whitespaces 5). Unknown fields are skipped.
/// </summary>
public static class SentencePieceModelReader
{
    public static SentencePieceModel Read(string path) => Parse(File.ReadAllBytes(path), path);

    public static SentencePieceModel Parse(ReadOnlySpan<byte> data, string path = "<tokenizer.model>")
    {
        var pieces = new List<SentencePiece>();
        int modelType = 1, unk = 0, bos = 1, eos = 2, pad = -1;
        bool byteFallback = false, addDummy = true, removeExtra = true, escape = true;
        string normName = "nmt_nfkc";
        var r = new Proto(data, 0, data.Length, path, "ModelProto");
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == 2:
                {
                    var m = r.Sub($"pieces[{pieces.Count}]");
                    string piece = ""; float score = 0; int type = 1;
                    while (m.Next(out int f2, out int w2))
                    {
                        if (f2 == 1 && w2 == 2) piece = m.String();
                        else if (f2 == 2 && w2 == 5) score = m.Float();
                        else if (f2 == 3 && w2 == 0) type = (int)m.Varint();
                        else m.Skip(w2);
                    }
                    if (type is < 1 or > 6) throw m.Error($"piece type {type} is not 1..6");
                    pieces.Add(new SentencePiece(piece, score, (SentencePieceType)type));
                    break;
                }
                case 2 when wire == 2:
                {
                    var m = r.Sub("trainer_spec");
                    while (m.Next(out int f2, out int w2))
                    {
                        if (w2 != 0) { m.Skip(w2); continue; }
                        long v = (long)m.Varint();
                        switch (f2)
                        {
                            case 3: modelType = (int)v; break;
                            case 35: byteFallback = v != 0; break;
                            case 40: unk = (int)v; break;
                            case 41: bos = (int)v; break;
                            case 42: eos = (int)v; break;
                            case 43: pad = (int)v; break;
                        }
                    }
                    break;
                }
                case 3 when wire == 2:
                {
                    var m = r.Sub("normalizer_spec");
                    while (m.Next(out int f2, out int w2))
                    {
                        if (f2 == 1 && w2 == 2) { normName = m.String(); continue; }
                        if (w2 != 0) { m.Skip(w2); continue; }
                        bool v = m.Varint() != 0;
                        if (f2 == 3) addDummy = v; else if (f2 == 4) removeExtra = v; else if (f2 == 5) escape = v;
                    }
                    break;
                }
                default: r.Skip(wire); break;
            }
        }
        if (pieces.Count == 0) throw new InvalidModelFileException(path, "ModelProto.pieces", null, "no pieces (not a SentencePiece model?)");
        return new SentencePieceModel
        {
            Pieces = pieces, ModelType = modelType, UnkId = unk, BosId = bos, EosId = eos, PadId = pad, ByteFallback = byteFallback,
            AddDummyPrefix = addDummy, RemoveExtraWhitespaces = removeExtra, EscapeWhitespaces = escape, NormalizerName = normName,
        };
    }

    /// <summary>Bounds-checked protobuf cursor over [start, end) of the buffer; offsets in errors are absolute.</summary>
    private ref struct Proto(ReadOnlySpan<byte> data, int start, int end, string path, string what)
    {
        private readonly ReadOnlySpan<byte> _d = data;
        private int _pos = start;
        private int _fieldAt = start;

        public readonly InvalidModelFileException Error(string problem) => new(path, what, _fieldAt, problem);

        public bool Next(out int field, out int wire)
        {
            field = wire = 0;
            if (_pos >= end) return false;
            _fieldAt = _pos;
            ulong key = Varint();
            field = (int)(key >> 3);
            wire = (int)(key & 7);
            if (field == 0 || key >> 3 > int.MaxValue) throw Error($"invalid field number {key >> 3}");
            return true;
        }

        public ulong Varint()
        {
            ulong v = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (_pos >= end) throw Error("truncated varint");
                byte b = _d[_pos++];
                v |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return v;
            }
            throw Error("varint longer than 10 bytes");
        }

        private int Length()
        {
            ulong n = Varint();
            if (n > (ulong)(end - _pos)) throw Error($"length {n} runs past the end of the enclosing message ({end - _pos} bytes left)");
            return (int)n;
        }

        public string String()
        {
            int n = Length();
            string s = Encoding.UTF8.GetString(_d.Slice(_pos, n));
            _pos += n;
            return s;
        }

        public float Float()
        {
            if (end - _pos < 4) throw Error("truncated fixed32");
            float f = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(_d.Slice(_pos, 4));
            _pos += 4;
            return f;
        }

        public Proto Sub(string name)
        {
            int n = Length();
            var p = new Proto(_d, _pos, _pos + n, path, what + "." + name);
            _pos += n;
            return p;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: if (end - _pos < 8) throw Error("truncated fixed64"); _pos += 8; break;
                case 2: { int n = Length(); _pos += n; break; } // not `_pos += Length()`: that adds to the value read before Length moved it
                case 5: if (end - _pos < 4) throw Error("truncated fixed32"); _pos += 4; break;
                default: throw Error($"unsupported wire type {wire}");
            }
        }
    }
}
