using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Ingot.Formats;

namespace Ingot.Runtime.Tokenization;

/// <summary>
/// SentencePiece's unigram model (T5 and friends) as llama.cpp runs it for <c>tokenizer.ggml.model = t5</c>:
/// <list type="number">
/// <item>normalize the UTF-8 text: the precompiled charsmap (if the vocabulary has one) replaces the longest matching
/// prefix; spaces become "▁"; optionally a "▁" before the first word (add_space_prefix) and runs of spaces collapsed,
/// leading/trailing ones dropped (remove_extra_whitespaces);</item>
/// <item>Viterbi over the bytes: the best-scoring cut into vocabulary pieces (scores are log-probabilities; user-defined
/// pieces score 0); a code point no piece covers costs (lowest normal score − 10) as [UNK], and consecutive unknowns
/// merge into one [UNK];</item>
/// <item>when the vocabulary has &lt;0xNN&gt; byte pieces, an [UNK] span is spelled in byte pieces instead
/// (SentencePiece's byte_fallback; llama.cpp has no byte fallback for unigram, but no vocabulary it loads has byte
/// pieces, so ids agree wherever llama.cpp is defined).</item>
/// </list>
/// Ties go to the cut whose last piece starts earliest (first found, as llama.cpp's left-to-right scan keeps it).
/// </summary>
public sealed class UnigramTokenizer : Tokenizer
{
    private const byte Space = (byte)' ';
    private const int TypeNormal = 1, TypeUnknown = 2, TypeControl = 3, TypeUserDefined = 4, TypeUnused = 5, TypeByte = 6;
    private static ReadOnlySpan<byte> EscapedSpace => "\u2581"u8;

    private readonly string[] _pieces;
    private readonly float[] _scores;
    private readonly int[] _types;
    private readonly byte[][] _pieceBytes;     // decoded form (▁ → space, byte pieces → their byte)
    private readonly int[] _byteIds = new int[256];
    private readonly ByteTrie _pieceTrie;      // normal, user-defined and unused pieces, by their UTF-8 bytes
    private readonly ByteTrie _userDefinedTrie;
    private readonly SpecialTokenSplitter _specials;
    private readonly float _unknownScore;
    private readonly Charsmap? _charsmap;

    public UnigramTokenizer(string[] pieces, float[] scores, int[] types, int? bos, int? eos, int? unk,
                            bool addBos, bool addEos, bool addSpacePrefix, bool removeExtraWhitespaces,
                            byte[]? precompiledCharsmap = null, string source = "<unigram vocabulary>")
    {
        if (scores.Length != pieces.Length) throw new ArgumentException($"{scores.Length} scores for {pieces.Length} tokens", nameof(scores));
        if (types.Length != pieces.Length) throw new ArgumentException($"{types.Length} token types for {pieces.Length} tokens", nameof(types));
        _pieces = pieces;
        _scores = scores;
        _types = types;
        BosTokenId = bos;
        EosTokenId = eos;
        UnknownTokenId = unk;
        AddBosToken = addBos;
        AddEosToken = addEos;
        AddSpacePrefix = addSpacePrefix;
        RemoveExtraWhitespaces = removeExtraWhitespaces;
        _charsmap = precompiledCharsmap is { Length: > 0 } ? new Charsmap(precompiledCharsmap, source) : null;

        Array.Fill(_byteIds, -1);
        _pieceBytes = new byte[pieces.Length][];
        _pieceTrie = new ByteTrie();
        _userDefinedTrie = new ByteTrie();
        float minScore = float.MaxValue;
        for (int i = 0; i < pieces.Length; i++)
        {
            int type = types[i];
            byte[] utf8 = Encoding.UTF8.GetBytes(pieces[i]);
            if (type == TypeByte && pieces[i].Length == 6 && pieces[i].StartsWith("<0x", StringComparison.Ordinal) && pieces[i][5] == '>'
                && byte.TryParse(pieces[i].AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte b))
            {
                if (_byteIds[b] < 0) _byteIds[b] = i;
                _pieceBytes[i] = [b];
                continue;
            }
            _pieceBytes[i] = type == TypeNormal ? Encoding.UTF8.GetBytes(pieces[i].Replace('\u2581', ' ')) : utf8;
            if (type == TypeNormal) minScore = Math.Min(minScore, scores[i]);
            if (type is TypeNormal or TypeUserDefined or TypeUnused && utf8.Length > 0) _pieceTrie.Insert(utf8, i);
            if (type == TypeUserDefined && utf8.Length > 0) _userDefinedTrie.Insert(utf8, i);
        }
        // llama.cpp: unknown = lowest normal score − 10 (a vocabulary without normal pieces gets −10).
        _unknownScore = (minScore == float.MaxValue ? 0f : minScore) - 10f;
        ByteFallback = Array.IndexOf(types, TypeByte) >= 0;
        _specials = SpecialTokenSplitter.FromTokenTypes(pieces, types);
    }

    /// <summary>
    /// From llama.cpp's metadata: tokens, scores, token_type; eos (default 1), unknown (default 2), no BOS unless given;
    /// add_bos_token (default false), add_eos_token (default true), add_space_prefix and remove_extra_whitespaces
    /// (default false, as llama.cpp reads them), precompiled_charsmap (optional: without it only the space rules apply).
    /// </summary>
    public static UnigramTokenizer FromGgufMetadata(GgufFile f)
    {
        string[] pieces = f.GetArray<string>("tokenizer.ggml.tokens");
        float[] scores = f.TryGetArray<float>("tokenizer.ggml.scores", out var s) ? s : new float[pieces.Length];
        int[] types = f.TryGetArray<int>("tokenizer.ggml.token_type", out var t) ? t : Enumerable.Repeat(TypeNormal, pieces.Length).ToArray();
        foreach (var (key, length) in new[] { ("tokenizer.ggml.scores", scores.Length), ("tokenizer.ggml.token_type", types.Length) })
            if (length != pieces.Length)
                throw new InvalidModelFileException(f.Path, $"metadata key '{key}'", f.GetMetadataOffset(key), $"{length} entries for {pieces.Length} tokens");
        for (int i = 0; i < pieces.Length; i++)
            if (pieces[i].Length == 0) pieces[i] = "[EMPTY_" + i.ToString(CultureInfo.InvariantCulture) + "]"; // as llama.cpp does
        int? Id(string key, int? dflt)
        {
            if (!f.TryGetInt(key, out long v)) return dflt is { } d && d < pieces.Length ? d : null;
            if (v < 0 || v >= pieces.Length)
                throw new InvalidModelFileException(f.Path, $"metadata key '{key}'", f.GetMetadataOffset(key), $"token id {v} is outside the vocabulary of {pieces.Length}");
            return (int)v;
        }
        bool Flag(string key, bool dflt) => f.TryGetBool(key, out bool v) ? v : dflt;
        const string charsmapKey = "tokenizer.ggml.precompiled_charsmap";
        byte[]? charsmap = null;
        if (f.TryGetValue(charsmapKey, out var cm))
        {
            charsmap = cm.Value switch
            {
                byte[] bytes => bytes,
                sbyte[] signed => (byte[])(Array)signed, // same bits; some writers store the blob as int8
                _ => throw new InvalidModelFileException(f.Path, $"metadata key '{charsmapKey}'", f.GetMetadataOffset(charsmapKey), "expected an array of bytes"),
            };
        }
        try
        {
            return new UnigramTokenizer(pieces, scores, types, Id("tokenizer.ggml.bos_token_id", null), Id("tokenizer.ggml.eos_token_id", 1),
                Id("tokenizer.ggml.unknown_token_id", 2), Flag("tokenizer.ggml.add_bos_token", false), Flag("tokenizer.ggml.add_eos_token", true),
                Flag("tokenizer.ggml.add_space_prefix", false), Flag("tokenizer.ggml.remove_extra_whitespaces", false), charsmap, f.Path);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidModelFileException(f.Path, $"metadata key '{charsmapKey}'", f.GetMetadataOffset(charsmapKey), e.Message);
        }
    }

    /// <summary>
    /// From a SentencePiece <c>tokenizer.model</c> trained as unigram (model_type 1). Its normalizer flags
    /// (add_dummy_prefix, remove_extra_whitespaces) are used; its precompiled charsmap is not (the model reader does not
    /// extract it), so text that NFKC-style normalization would change may tokenize differently from sentencepiece.
    /// BOS/EOS handling follows llama.cpp's unigram defaults: no BOS, EOS appended with addSpecialTokens.
    /// </summary>
    public static UnigramTokenizer FromSentencePieceModel(string path)
    {
        var m = SentencePieceModelReader.Read(path);
        if (m.ModelType != 1)
            throw new InvalidModelFileException(path, "trainer_spec.model_type", null, $"model type {m.ModelType} is not unigram (1)");
        int? Id(int id) => id >= 0 && id < m.Pieces.Count ? id : null;
        return new UnigramTokenizer([.. m.Pieces.Select(p => p.Piece)], [.. m.Pieces.Select(p => p.Score)], [.. m.Pieces.Select(p => (int)p.Type)],
            Id(m.BosId), Id(m.EosId), Id(m.UnkId), addBos: false, addEos: Id(m.EosId) is not null,
            m.AddDummyPrefix, m.RemoveExtraWhitespaces, precompiledCharsmap: null, path);
    }

    public override int VocabSize => _pieces.Length;

    public override string PieceText(int id) => (uint)id < (uint)_pieces.Length ? _pieces[id] : throw new ArgumentOutOfRangeException(nameof(id), id, "token id outside the vocabulary");
    public override int? BosTokenId { get; }
    public override int? EosTokenId { get; }
    public int? UnknownTokenId { get; }
    public override bool AddBosToken { get; }
    public override bool AddEosToken { get; }
    public bool AddSpacePrefix { get; }
    public bool RemoveExtraWhitespaces { get; }
    /// <summary>True when the vocabulary has &lt;0xNN&gt; byte pieces: unknown text is spelled in bytes, not [UNK].</summary>
    public bool ByteFallback { get; }

    public override IReadOnlyList<int> Tokenize(string text, bool addSpecialTokens = false, bool parseSpecialTokens = true)
    {
        var ids = new List<int>(text.Length / 3 + 2);
        if (addSpecialTokens && AddBosToken && BosTokenId is { } bos) ids.Add(bos);
        var fragments = new List<TextFragment>(4);
        _specials.Split(text, parseSpecialTokens, fragments);
        foreach (var f in fragments)
        {
            if (!f.IsText) ids.Add(f.TokenId);
            else EncodeFragment(text.AsSpan(f.Start, f.Length), ids);
        }
        if (addSpecialTokens && AddEosToken && EosTokenId is { } eos) ids.Add(eos);
        return ids;
    }

    private void EncodeFragment(ReadOnlySpan<char> fragment, List<int> ids)
    {
        // Shapes: input = UTF-8 of the fragment (invalid UTF-16 becomes U+FFFD); normalized ≤ 3 × input + 3 bytes
        // (every byte may become "▁", plus a prefix); best[] has one slot per normalized byte boundary.
        byte[] input = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(fragment.Length));
        byte[] normalized = [];
        try
        {
            int inputLength = Encoding.UTF8.GetBytes(fragment, input);
            int n = Normalize(input.AsSpan(0, inputLength), ref normalized);
            if (n > 0) Viterbi(normalized.AsSpan(0, n), ids);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
            if (normalized.Length > 0) ArrayPool<byte>.Shared.Return(normalized);
        }
    }

    /// <summary>llama.cpp's UGM normalize: charsmap replacements, then the space rules, into <paramref name="output"/> (pooled).</summary>
    private int Normalize(ReadOnlySpan<byte> input, ref byte[] output)
    {
        var buffer = new Utf8Buffer(output, input.Length);
        bool processingNonSpace = false, spacePrepended = false;
        for (int offset = 0; offset < input.Length;)
        {
            ReadOnlySpan<byte> piece = NormalizePrefix(input, offset, out int consumed);
            offset += consumed;
            foreach (byte c in piece)
            {
                if (c != Space)
                {
                    if (!processingNonSpace)
                    {
                        processingNonSpace = true;
                        // With remove_extra_whitespaces every word (the first included) gets exactly one "▁" before it.
                        if ((AddSpacePrefix && !spacePrepended) || RemoveExtraWhitespaces)
                        {
                            buffer.Append(EscapedSpace);
                            spacePrepended = true;
                        }
                    }
                    buffer.Append(c);
                }
                else
                {
                    processingNonSpace = false;
                    if (!RemoveExtraWhitespaces) buffer.Append(EscapedSpace);
                }
            }
        }
        output = buffer.Array;
        return buffer.Length;
    }

    /// <summary>The normalized form of the longest prefix at <paramref name="offset"/> and how many input bytes it used.</summary>
    private ReadOnlySpan<byte> NormalizePrefix(ReadOnlySpan<byte> input, int offset, out int consumed)
    {
        if (_charsmap is not null)
        {
            // A user-defined piece passes through unchanged (the charsmap must not rewrite it).
            int user = _userDefinedTrie.LongestMatch(input[offset..], out _);
            if (user > 0) { consumed = user; return input.Slice(offset, user); }
            if (_charsmap.TryMatch(input[offset..], out consumed, out var replacement)) return replacement;
        }
        consumed = Math.Min(Utf8SequenceLength(input[offset]), input.Length - offset);
        return input.Slice(offset, consumed);
    }

    /// <summary>Bytes in the UTF-8 sequence a lead byte starts (1 for ASCII and stray continuation bytes).</summary>
    private static int Utf8SequenceLength(byte lead) => (lead >> 4) switch { 0xC or 0xD => 2, 0xE => 3, 0xF => 4, _ => 1 };

    private struct Best
    {
        public int TokenId;
        public int Start;
        public float Score;
    }

    private void Viterbi(ReadOnlySpan<byte> text, List<int> ids)
    {
        int n = text.Length;
        int unk = UnknownTokenId ?? -1;
        Best[] best = ArrayPool<Best>.Shared.Rent(n + 1);
        try
        {
            best[0] = new Best { TokenId = unk, Start = 0, Score = 0 };
            for (int i = 1; i <= n; i++) best[i] = new Best { TokenId = unk, Start = 0, Score = -float.MaxValue };

            for (int start = 0; start < n;)
            {
                int charLength = Math.Min(Utf8SequenceLength(text[start]), n - start);
                float baseScore = best[start].Score;
                bool wholeCharCovered = false;
                // Every piece that starts here, shortest first (walking down the trie).
                int node = 0;
                for (int end = start; end < n;)
                {
                    node = _pieceTrie.Child(node, text[end++]);
                    if (node < 0) break;
                    int id = _pieceTrie.Value(node);
                    if (id < 0) continue;
                    if (end - start == charLength) wholeCharCovered = true;
                    // Sum in double, store as float: the same rounding as llama.cpp (and HF's sentencepiece port).
                    double score = baseScore + (_types[id] == TypeUserDefined ? 0.0 : _scores[id]);
                    if (score > best[end].Score) best[end] = new Best { TokenId = id, Start = start, Score = (float)score };
                }
                if (!wholeCharCovered)
                {
                    double score = baseScore + (double)_unknownScore;
                    int end = start + charLength;
                    if (score > best[end].Score) best[end] = new Best { TokenId = unk, Start = start, Score = (float)score };
                }
                start += charLength;
            }

            // Walk back from the end; adjacent unknowns become one span. Pieces are collected in reverse.
            var spans = new List<(int Id, int Start, int End)>();
            for (int end = n; end > 0;)
            {
                var b = best[end];
                if (b.TokenId == unk && spans.Count > 0 && spans[^1].Id == unk) spans[^1] = (unk, b.Start, spans[^1].End);
                else spans.Add((b.TokenId, b.Start, end));
                end = b.Start;
            }
            for (int k = spans.Count - 1; k >= 0; k--)
            {
                var (id, s, e) = spans[k];
                if (id == unk && ByteFallback && AllBytesHavePieces(text[s..e]))
                    foreach (byte c in text[s..e]) ids.Add(_byteIds[c]);
                else if (id >= 0) ids.Add(id);
            }
        }
        finally
        {
            ArrayPool<Best>.Shared.Return(best);
        }
    }

    private bool AllBytesHavePieces(ReadOnlySpan<byte> span)
    {
        foreach (byte c in span)
            if (_byteIds[c] < 0) return false;
        return true;
    }

    public override void AppendTokenBytes(int id, List<byte> bytes, bool includeSpecialTokens, bool afterBos)
    {
        if ((uint)id >= (uint)_pieces.Length) return;
        int type = _types[id];
        if (type is TypeControl or TypeUnknown)
        {
            if (includeSpecialTokens) bytes.AddRange(_pieceBytes[id]);
            return;
        }
        if (type is not (TypeNormal or TypeUserDefined or TypeByte)) return; // unused/undefined print nothing, as in llama.cpp
        byte[] piece = _pieceBytes[id];
        // The "▁" the normalizer put before the first word is not text: drop it at the start (or right after BOS).
        int skip = type == TypeNormal && afterBos && (AddSpacePrefix || RemoveExtraWhitespaces) && piece.Length > 0 && piece[0] == Space ? 1 : 0;
        for (int i = skip; i < piece.Length; i++) bytes.Add(piece[i]);
    }

    /// <summary>A growable byte buffer over pooled arrays.</summary>
    private ref struct Utf8Buffer
    {
        public byte[] Array;
        public int Length;

        public Utf8Buffer(byte[] initial, int inputLength)
        {
            Array = initial.Length >= inputLength * 3 + 3 ? initial : ArrayPool<byte>.Shared.Rent(inputLength * 3 + 3);
            Length = 0;
        }

        public void Append(byte b)
        {
            if (Length == Array.Length) Grow(1);
            Array[Length++] = b;
        }

        public void Append(ReadOnlySpan<byte> s)
        {
            if (Length + s.Length > Array.Length) Grow(s.Length);
            s.CopyTo(Array.AsSpan(Length));
            Length += s.Length;
        }

        private void Grow(int more)
        {
            byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(Array.Length * 2, Length + more));
            Array.AsSpan(0, Length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(Array);
            Array = bigger;
        }
    }

    /// <summary>A byte trie: node 0 is the root; children in one hash map keyed by (node, byte).</summary>
    private sealed class ByteTrie
    {
        private readonly Dictionary<long, int> _children = new();
        private readonly List<int> _values = [-1];

        public void Insert(ReadOnlySpan<byte> key, int value)
        {
            int node = 0;
            foreach (byte b in key)
            {
                long k = ((long)node << 8) | b;
                if (!_children.TryGetValue(k, out int child))
                {
                    child = _values.Count;
                    _values.Add(-1);
                    _children.Add(k, child);
                }
                node = child;
            }
            // Like llama.cpp's token_to_id map, a duplicated piece resolves to its last id.
            _values[node] = value;
        }

        public int Child(int node, byte b) => _children.TryGetValue(((long)node << 8) | b, out int child) ? child : -1;

        public int Value(int node) => _values[node];

        /// <summary>Length of the longest key that is a prefix of <paramref name="text"/> (0 if none).</summary>
        public int LongestMatch(ReadOnlySpan<byte> text, out int value)
        {
            int node = 0, length = 0;
            value = -1;
            for (int i = 0; i < text.Length; i++)
            {
                node = Child(node, text[i]);
                if (node < 0) break;
                if (_values[node] >= 0) { length = i + 1; value = _values[node]; }
            }
            return length;
        }
    }

    /// <summary>
    /// SentencePiece's precompiled normalization map: u32 size of the trie, then the trie as a XOR-compressed double
    /// array of u32 units (bits 10–30 BASE, shifted left 8 more when bit 9 is set; bit 8 LEAF; bits 0–7 and 31 the
    /// check label), then NUL-terminated replacement strings. The longest key that prefixes the input wins.
    /// </summary>
    private sealed class Charsmap
    {
        private readonly uint[] _units;
        private readonly byte[] _replacements;
        private readonly string _source;

        public Charsmap(byte[] blob, string source)
        {
            _source = source;
            if (blob.Length < 4) throw new InvalidDataException($"precompiled charsmap of {blob.Length} bytes is too short");
            uint trieBytes = BinaryPrimitives.ReadUInt32LittleEndian(blob);
            if (trieBytes < 4 || trieBytes % 4 != 0 || trieBytes + 4L >= blob.Length)
                throw new InvalidDataException($"precompiled charsmap: trie size {trieBytes} does not fit in {blob.Length} bytes");
            _units = new uint[trieBytes / 4];
            for (int i = 0; i < _units.Length; i++) _units[i] = BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(4 + 4 * i));
            _replacements = blob[(int)(4 + trieBytes)..];
        }

        private uint Unit(uint index) => index < (uint)_units.Length
            ? _units[index]
            : throw new InvalidModelFileException(_source, "tokenizer.ggml.precompiled_charsmap", null, $"trie index {index} is outside its {_units.Length} units");

        private static uint Base(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);
        private static uint Label(uint unit) => unit & ((1u << 31) | 0xFF);
        private static bool IsLeaf(uint unit) => ((unit >> 8) & 1) != 0;
        private static uint ValueOf(uint unit) => unit & ((1u << 31) - 1);

        public bool TryMatch(ReadOnlySpan<byte> text, out int consumed, out ReadOnlySpan<byte> replacement)
        {
            consumed = 0;
            replacement = default;
            uint valueAt = 0;
            uint node = Base(Unit(0));
            for (int i = 0; i < text.Length; i++)
            {
                byte c = text[i];
                if (c == 0) break;
                node ^= c;
                uint unit = Unit(node);
                if (Label(unit) != c) break;
                node ^= Base(unit);
                if (IsLeaf(unit))
                {
                    consumed = i + 1;
                    valueAt = ValueOf(Unit(node));
                }
            }
            if (consumed == 0) return false;
            if (valueAt >= (uint)_replacements.Length)
                throw new InvalidModelFileException(_source, "tokenizer.ggml.precompiled_charsmap", null, $"replacement offset {valueAt} is outside the {_replacements.Length} bytes of strings");
            var rest = _replacements.AsSpan((int)valueAt);
            int nul = rest.IndexOf((byte)0);
            replacement = nul < 0 ? rest : rest[..nul];
            return true;
        }
    }
}
