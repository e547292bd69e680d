using System.Globalization;
using System.Text;
using Ingot.Formats;

namespace Ingot.Runtime.Tokenization;

/// <summary>
/// SentencePiece BPE as llama.cpp runs it for `tokenizer.ggml.model = llama`: spaces become U+2581, an optional
/// leading space, characters merged pairwise by the highest piece score (ties to the left), unknown characters
/// falling back to &lt;0xNN&gt; byte tokens.
/// </summary>
public sealed class SentencePieceBpeTokenizer : Tokenizer
{
    private const int TypeNormal = 1, TypeUnknown = 2, TypeControl = 3, TypeUserDefined = 4, TypeByte = 6;

    private readonly string[] _pieces;
    private readonly float[] _scores;
    private readonly int[] _types;
    private readonly Dictionary<string, int> _ids;
    private readonly int[] _byteIds = new int[256];
    private readonly (string Text, int Id)[] _specials;
    private readonly byte[][] _pieceBytes;

    public SentencePieceBpeTokenizer(string[] pieces, float[] scores, int[] types, int? bos, int? eos, int? unk,
                                     bool addBos, bool addEos, bool addSpacePrefix)
    {
        _pieces = pieces;
        _scores = scores;
        _types = types;
        BosTokenId = bos;
        EosTokenId = eos;
        UnknownTokenId = unk;
        AddBosToken = addBos;
        AddEosToken = addEos;
        AddSpacePrefix = addSpacePrefix;
        _ids = new Dictionary<string, int>(pieces.Length, StringComparer.Ordinal);
        for (int i = 0; i < pieces.Length; i++) _ids.TryAdd(pieces[i], i);
        Array.Fill(_byteIds, -1);
        _pieceBytes = new byte[pieces.Length][];
        var specials = new List<(string, int)>();
        for (int i = 0; i < pieces.Length; i++)
        {
            if (types[i] == TypeByte && pieces[i].Length == 6 && pieces[i].StartsWith("<0x", StringComparison.Ordinal)
                && byte.TryParse(pieces[i].AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte b))
            {
                _byteIds[b] = i;
                _pieceBytes[i] = [b];
            }
            else
            {
                _pieceBytes[i] = Encoding.UTF8.GetBytes(pieces[i].Replace('\u2581', ' '));
            }
            if ((types[i] == TypeControl || types[i] == TypeUserDefined) && pieces[i].Length > 0) specials.Add((pieces[i], i));
        }
        // Longest first, so "<|im_start|>" wins over "<".
        _specials = specials.OrderByDescending(s => s.Item1.Length).ThenBy(s => s.Item2).ToArray();
    }

    public static SentencePieceBpeTokenizer FromGgufMetadata(GgufFile f)
    {
        string[] pieces = f.GetArray<string>("tokenizer.ggml.tokens");
        float[] scores = f.TryGetArray<float>("tokenizer.ggml.scores", out var s) ? s : new float[pieces.Length];
        int[] types = f.TryGetArray<int>("tokenizer.ggml.token_type", out var t) ? t : Enumerable.Repeat(TypeNormal, pieces.Length).ToArray();
        int? Id(string key) => f.TryGetInt(key, out long v) ? (int)v : null;
        bool Flag(string key, bool dflt) => f.TryGetBool(key, out bool v) ? v : dflt;
        return new SentencePieceBpeTokenizer(pieces, scores, types, Id("tokenizer.ggml.bos_token_id") ?? 1,
            Id("tokenizer.ggml.eos_token_id") ?? 2, Id("tokenizer.ggml.unknown_token_id") ?? 0,
            Flag("tokenizer.ggml.add_bos_token", true), Flag("tokenizer.ggml.add_eos_token", false),
            Flag("tokenizer.ggml.add_space_prefix", true));
    }

    /// <summary>From a SentencePiece <c>tokenizer.model</c> (protobuf; BPE with byte fallback).</summary>
    public static SentencePieceBpeTokenizer FromSentencePieceModel(string path)
    {
        var model = SentencePieceModelReader.Read(path);
        var v = GgufVocab.FromSentencePiece(model);
        return new(v.Tokens, v.Scores, v.TokenTypes, v.Bos, v.Eos, v.Unk, v.AddBos, v.AddEos, model.AddDummyPrefix)
        {
            RemoveExtraWhitespaces = model.RemoveExtraWhitespaces,
        };
    }

    /// <summary>From a llama2.c <c>tokenizer.bin</c> (max length, then score, length, bytes per token).</summary>
    public static SentencePieceBpeTokenizer FromLlama2cBin(string path, int vocabSize) =>
        FromVocab(GgufVocab.FromLlama2cTokenizer(path, vocabSize), addSpacePrefix: true);

    private static SentencePieceBpeTokenizer FromVocab(GgufVocab v, bool addSpacePrefix) =>
        new(v.Tokens, v.Scores, v.TokenTypes, v.Bos, v.Eos, v.Unk, v.AddBos, v.AddEos, addSpacePrefix);

    public override int VocabSize => _pieces.Length;

    public override string PieceText(int id) => (uint)id < (uint)_pieces.Length ? _pieces[id] : throw new ArgumentOutOfRangeException(nameof(id), id, "token id outside the vocabulary");
    public override int? BosTokenId { get; }
    public override int? EosTokenId { get; }
    public int? UnknownTokenId { get; }
    public override bool AddBosToken { get; }
    public override bool AddEosToken { get; }
    public bool AddSpacePrefix { get; }

    /// <summary>
    /// SentencePiece's normalizer option: trim, and collapse runs of spaces to one. Only a <c>.model</c> file carries it;
    /// llama.cpp (GGUF) and llama2.c (<c>.bin</c>) never apply it.
    /// </summary>
    public bool RemoveExtraWhitespaces { get; init; }

    public override IReadOnlyList<int> Tokenize(string text, bool addSpecialTokens = false, bool parseSpecialTokens = true)
    {
        var ids = new List<int>();
        if (addSpecialTokens && AddBosToken && BosTokenId is { } bos) ids.Add(bos);
        bool first = true;
        int pos = 0;
        while (pos < text.Length)
        {
            int next = text.Length, special = -1;
            if (parseSpecialTokens) FindSpecial(text, pos, out next, out special);
            if (next > pos)
            {
                // llama.cpp adds the space prefix only to the first raw-text fragment.
                EncodeFragment(text.AsSpan(pos, next - pos), first && AddSpacePrefix, ids);
                first = false;
            }
            if (special < 0) break;
            ids.Add(_specials[special].Id);
            pos = next + _specials[special].Text.Length;
            first = false;
        }
        if (addSpecialTokens && AddEosToken && EosTokenId is { } eos) ids.Add(eos);
        return ids;
    }

    private void FindSpecial(string text, int from, out int at, out int which)
    {
        at = text.Length;
        which = -1;
        for (int i = 0; i < _specials.Length; i++)
        {
            int k = text.IndexOf(_specials[i].Text, from, StringComparison.Ordinal);
            if (k >= 0 && k < at) { at = k; which = i; }
        }
    }

    private readonly record struct Symbol(int Start, int Length, int Prev, int Next);

    private void EncodeFragment(ReadOnlySpan<char> fragment, bool spacePrefix, List<int> ids)
    {
        var sb = new StringBuilder(fragment.Length + 1);
        if (RemoveExtraWhitespaces)
        {
            fragment = fragment.Trim(' ');
            if (fragment.IsEmpty) return;
        }
        if (spacePrefix) sb.Append('\u2581');
        for (int i = 0; i < fragment.Length; i++)
        {
            char c = fragment[i];
            if (c == ' ' && RemoveExtraWhitespaces && i > 0 && fragment[i - 1] == ' ') continue;
            sb.Append(c == ' ' ? '\u2581' : c);
        }
        string s = sb.ToString();
        if (s.Length == 0) return;

        // One symbol per Unicode character (surrogate pairs stay together).
        var symbols = new List<Symbol>();
        for (int i = 0; i < s.Length;)
        {
            int len = char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? 2 : 1;
            symbols.Add(new Symbol(i, len, symbols.Count - 1, symbols.Count + 1));
            i += len;
        }
        symbols[^1] = symbols[^1] with { Next = -1 };

        // Max-heap on (score, then leftmost); stale entries are skipped when their symbols changed length.
        var queue = new PriorityQueue<(int Left, int Right, int Length), (float, int)>(Comparer<(float Score, int Left)>.Create(
            (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Left.CompareTo(b.Left)));
        void TryAdd(int left, int right)
        {
            if (left < 0 || right < 0) return;
            var l = symbols[left]; var r = symbols[right];
            string joined = s.Substring(l.Start, l.Length + r.Length);
            if (_ids.TryGetValue(joined, out int id)) queue.Enqueue((left, right, joined.Length), (_scores[id], left));
        }
        for (int i = 1; i < symbols.Count; i++) TryAdd(i - 1, i);

        while (queue.TryDequeue(out var bigram, out _))
        {
            var l = symbols[bigram.Left]; var r = symbols[bigram.Right];
            if (l.Length == 0 || r.Length == 0 || l.Length + r.Length != bigram.Length || l.Next != bigram.Right) continue;
            symbols[bigram.Left] = l with { Length = l.Length + r.Length, Next = r.Next };
            symbols[bigram.Right] = r with { Length = 0 };
            if (r.Next >= 0) symbols[r.Next] = symbols[r.Next] with { Prev = bigram.Left };
            TryAdd(l.Prev, bigram.Left);
            TryAdd(bigram.Left, r.Next);
        }

        for (int i = 0; i >= 0 && i < symbols.Count; i = symbols[i].Next)
        {
            var sym = symbols[i];
            if (_ids.TryGetValue(s.Substring(sym.Start, sym.Length), out int id)) { ids.Add(id); continue; }
            foreach (byte b in Encoding.UTF8.GetBytes(s.Substring(sym.Start, sym.Length)))
            {
                int byteId = _byteIds[b];
                if (byteId >= 0) ids.Add(byteId);
                else if (UnknownTokenId is { } unk) ids.Add(unk);
            }
        }
    }

    public override void AppendTokenBytes(int id, List<byte> bytes, bool includeSpecialTokens, bool afterBos)
    {
        if ((uint)id >= (uint)_pieces.Length) return;
        int type = _types[id];
        if (type == TypeControl || type == TypeUnknown)
        {
            if (includeSpecialTokens) bytes.AddRange(Encoding.UTF8.GetBytes(_pieces[id]));
            return;
        }
        byte[] piece = _pieceBytes[id];
        // Like llama2.c and llama.cpp: the space that SentencePiece prefixed to the first word is not printed.
        int skip = afterBos && AddSpacePrefix && piece.Length > 0 && piece[0] == (byte)' ' ? 1 : 0;
        for (int i = skip; i < piece.Length; i++) bytes.Add(piece[i]);
    }
}
