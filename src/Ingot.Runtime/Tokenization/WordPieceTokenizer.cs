using System.Globalization;
using System.Text;
using Ingot.Formats;

namespace Ingot.Runtime.Tokenization;

/// <summary>
/// BERT's WordPiece as llama.cpp runs it for <c>tokenizer.ggml.model = bert</c>. The GGUF vocabulary is rewritten by the
/// converter: a word-initial piece carries a "▁" prefix ("▁hello"), a continuation piece is stored without its "##"
/// ("llo"). Encoding:
/// <list type="number">
/// <item>each character is replaced by the first code point of its NFD decomposition (this strips accents: é → e) and lowercased;</item>
/// <item>whitespace ends a word; NUL, U+FFFD and control/format characters are dropped;</item>
/// <item>punctuation, ASCII symbols and CJK ideographs each become a one-character word;</item>
/// <item>each word, with "▁" prepended, is cut greedily into the longest vocabulary pieces from left to right; if some
/// position has no piece, the whole word becomes one [UNK].</item>
/// </list>
/// Special-token text (control, user-defined, unknown pieces) is split out first, longest first, like llama.cpp.
/// </summary>
public sealed class WordPieceTokenizer : Tokenizer
{
    private const char WordMark = '\u2581'; // ▁
    private const int TypeNormal = 1, TypeUnknown = 2, TypeControl = 3, TypeUserDefined = 4;

    private readonly string[] _pieces;
    private readonly int[] _types;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly int _maxPieceChars;
    private readonly SpecialTokenSplitter _specials;
    private readonly byte[][] _pieceBytes;

    public WordPieceTokenizer(string[] pieces, int[] types, int? bos, int? eos, int? unk, bool addBos, bool addEos)
    {
        if (types.Length != pieces.Length) throw new ArgumentException($"{types.Length} token types for {pieces.Length} tokens", nameof(types));
        _pieces = pieces;
        _types = types;
        BosTokenId = bos;
        EosTokenId = eos;
        UnknownTokenId = unk;
        AddBosToken = addBos;
        AddEosToken = addEos;
        var ids = new Dictionary<string, int>(pieces.Length, StringComparer.Ordinal);
        // Like llama.cpp's token_to_id[text] = i: a duplicated piece resolves to its last id.
        for (int i = 0; i < pieces.Length; i++) ids[pieces[i]] = i;
        _lookup = ids.GetAlternateLookup<ReadOnlySpan<char>>();
        _maxPieceChars = pieces.Length == 0 ? 0 : pieces.Max(p => p.Length);
        _specials = SpecialTokenSplitter.FromTokenTypes(pieces, types);
        _pieceBytes = new byte[pieces.Length][];
        for (int i = 0; i < pieces.Length; i++)
            _pieceBytes[i] = Encoding.UTF8.GetBytes(types[i] is TypeNormal ? pieces[i].Replace(WordMark, ' ') : pieces[i]);
    }

    /// <summary>
    /// From llama.cpp's metadata. BOS is [CLS] (<c>bos_token_id</c>, else <c>cls_token_id</c>, else 101) and the token
    /// appended at the end is [SEP] (<c>eos_token_id</c>, else <c>seperator_token_id</c> — llama.cpp's spelling — else 102);
    /// both are added unless <c>add_bos_token</c>/<c>add_eos_token</c> say otherwise (llama.cpp always adds them for WPM).
    /// </summary>
    public static WordPieceTokenizer FromGgufMetadata(GgufFile f)
    {
        string[] pieces = f.GetArray<string>("tokenizer.ggml.tokens");
        int[] types = f.TryGetArray<int>("tokenizer.ggml.token_type", out var t) ? t : Enumerable.Repeat(TypeNormal, pieces.Length).ToArray();
        if (types.Length != pieces.Length)
            throw new InvalidModelFileException(f.Path, "metadata key 'tokenizer.ggml.token_type'", f.GetMetadataOffset("tokenizer.ggml.token_type"),
                $"{types.Length} types for {pieces.Length} tokens");
        for (int i = 0; i < pieces.Length; i++)
            if (pieces[i].Length == 0) pieces[i] = "[EMPTY_" + i.ToString(CultureInfo.InvariantCulture) + "]"; // as llama.cpp does
        int? Id(params string[] keys)
        {
            foreach (string key in keys)
            {
                if (!f.TryGetInt(key, out long v)) continue;
                if (v < 0 || v >= pieces.Length)
                    throw new InvalidModelFileException(f.Path, $"metadata key '{key}'", f.GetMetadataOffset(key), $"token id {v} is outside the vocabulary of {pieces.Length}");
                return (int)v;
            }
            return null;
        }
        int? Default(int id) => id < pieces.Length ? id : null;
        bool Flag(string key, bool dflt) => f.TryGetBool(key, out bool v) ? v : dflt;
        return new WordPieceTokenizer(pieces, types,
            Id("tokenizer.ggml.bos_token_id", "tokenizer.ggml.cls_token_id") ?? Default(101),
            Id("tokenizer.ggml.eos_token_id", "tokenizer.ggml.seperator_token_id", "tokenizer.ggml.separator_token_id") ?? Default(102),
            Id("tokenizer.ggml.unknown_token_id") ?? Default(100),
            Flag("tokenizer.ggml.add_bos_token", true), Flag("tokenizer.ggml.add_eos_token", true));
    }

    public override int VocabSize => _pieces.Length;

    public override string PieceText(int id) => (uint)id < (uint)_pieces.Length ? _pieces[id] : throw new ArgumentOutOfRangeException(nameof(id), id, "token id outside the vocabulary");

    /// <summary>The spans WordPiece matched (<see cref="EncodeWithOffsets"/>): exact even where normalization (lower-casing, accents) changed the text.</summary>
    public override IReadOnlyList<(int Start, int End)> Offsets(string text, IReadOnlyList<int> ids, bool addSpecialTokens)
    {
        var matched = EncodeWithOffsets(text, addSpecialTokens, ParseSpecialTokens);
        if (matched.Count != ids.Count) return base.Offsets(text, ids, addSpecialTokens);
        var spans = new (int Start, int End)[matched.Count];
        for (int i = 0; i < spans.Length; i++) spans[i] = (matched[i].Start, matched[i].End);
        return spans;
    }
    public override int? BosTokenId { get; }
    /// <summary>[SEP]: what <see cref="Tokenizer.Tokenize"/> appends with addSpecialTokens.</summary>
    public override int? EosTokenId { get; }
    public int? UnknownTokenId { get; }
    public override bool AddBosToken { get; }
    public override bool AddEosToken { get; }

    public override IReadOnlyList<int> Tokenize(string text, bool addSpecialTokens = false, bool parseSpecialTokens = true)
    {
        var ids = new List<int>(text.Length / 3 + 2);
        if (addSpecialTokens && AddBosToken && BosTokenId is { } bos) ids.Add(bos);
        var word = new StringBuilder(32);
        var fragments = new List<TextFragment>(4);
        _specials.Split(text, parseSpecialTokens, fragments);
        foreach (var f in fragments)
        {
            if (!f.IsText) ids.Add(f.TokenId);
            else EncodeFragment(text.AsSpan(f.Start, f.Length), word, ids);
        }
        if (addSpecialTokens && AddEosToken && EosTokenId is { } eos) ids.Add(eos);
        return ids;
    }

    /// <summary>
    /// <see cref="Tokenizer.Tokenize"/> with each id's span in <paramref name="text"/>: (start, end) in UTF-16 units, end
    /// exclusive; a piece covers the characters it was matched from, an unknown word the whole word, a special token its
    /// text, and the BOS/EOS <paramref name="addSpecialTokens"/> adds the empty span at the start / end.
    /// </summary>
    public IReadOnlyList<(int Id, int Start, int End)> EncodeWithOffsets(string text, bool addSpecialTokens = true, bool parseSpecialTokens = true)
    {
        var ids = new List<int>(text.Length / 3 + 2);
        var spans = new List<(int Start, int End)>(text.Length / 3 + 2);
        if (addSpecialTokens && AddBosToken && BosTokenId is { } bos) { ids.Add(bos); spans.Add((0, 0)); }
        var word = new StringBuilder(32);
        var fragments = new List<TextFragment>(4);
        _specials.Split(text, parseSpecialTokens, fragments);
        foreach (var f in fragments)
        {
            if (!f.IsText) { ids.Add(f.TokenId); spans.Add((f.Start, f.Start + f.Length)); }
            else EncodeFragment(text.AsSpan(f.Start, f.Length), word, ids, spans, f.Start);
        }
        if (addSpecialTokens && AddEosToken && EosTokenId is { } eos) { ids.Add(eos); spans.Add((text.Length, text.Length)); }
        var result = new (int, int, int)[ids.Count];
        for (int i = 0; i < ids.Count; i++) result[i] = (ids[i], spans[i].Start, spans[i].End);
        return result;
    }

    /// <summary>
    /// Splits a raw fragment into words (see the class summary) and appends each word's pieces; with
    /// <paramref name="spans"/>, each piece's source span too (<paramref name="offset"/>: the fragment's start in the text).
    /// </summary>
    private void EncodeFragment(ReadOnlySpan<char> fragment, StringBuilder word, List<int> ids, List<(int Start, int End)>? spans = null, int offset = 0)
    {
        word.Clear().Append(WordMark);
        // Per char of the word buffer (after the mark): the source span of the rune it came from.
        var sources = spans is null ? null : new List<(int Start, int End)>(32);
        for (int i = 0; i < fragment.Length;)
        {
            // A lone surrogate decodes as U+FFFD, which is dropped below (llama.cpp drops invalid UTF-8 the same way).
            Rune.DecodeFromUtf16(fragment[i..], out Rune rune, out int used);
            var source = (offset + i, offset + i + used);
            i += used;
            int cpt = NfdFirst(rune.Value);
            if (IsWhitespace(cpt))
            {
                FlushWord(word, ids, spans, sources);
                continue;
            }
            var category = CharUnicodeInfo.GetUnicodeCategory(cpt);
            if (cpt == 0 || cpt == 0xFFFD || IsControl(category)) continue;
            int lower = Rune.ToLowerInvariant(new Rune(cpt)).Value;
            if (IsPunctuation(category) || (cpt < 0x7F && IsSymbol(category)) || IsChineseCharacter(cpt))
            {
                FlushWord(word, ids, spans, sources);
                AppendRune(word, lower, sources, source);
                FlushWord(word, ids, spans, sources);
            }
            else
            {
                AppendRune(word, lower, sources, source);
            }
        }
        FlushWord(word, ids, spans, sources);
    }

    private static void AppendRune(StringBuilder sb, int cpt, List<(int Start, int End)>? sources, (int, int) source)
    {
        int before = sb.Length;
        AppendRune(sb, cpt);
        for (int k = before; k < sb.Length; k++) sources?.Add(source);
    }

    private static void AppendRune(StringBuilder sb, int cpt)
    {
        if (cpt < 0x10000) sb.Append((char)cpt);
        else { sb.Append((char)(0xD800 + ((cpt - 0x10000) >> 10))); sb.Append((char)(0xDC00 + ((cpt - 0x10000) & 0x3FF))); }
    }

    /// <summary>Greedy longest-match of "▁word" (held in <paramref name="word"/>), then resets the buffer to "▁".</summary>
    private void FlushWord(StringBuilder word, List<int> ids, List<(int Start, int End)>? spans = null, List<(int Start, int End)>? sources = null)
    {
        int n = word.Length;
        if (n <= 1) return; // only the mark: no word
        // Buffer char c ≥ 1 came from sources[c − 1]; the mark (c = 0) belongs to the word's first char.
        (int, int) Source(int c) => sources![Math.Max(c, 1) - 1];
        int firstSpan = spans?.Count ?? 0;
        Span<char> buffer = n <= 256 ? stackalloc char[n] : new char[n];
        word.CopyTo(0, buffer, n);
        word.Clear().Append(WordMark);

        int firstOfWord = ids.Count;
        for (int i = 0; i < n;)
        {
            int matched = 0, id = -1;
            for (int j = Math.Min(n, i + _maxPieceChars); j > i; j--)
            {
                if (_lookup.TryGetValue(buffer[i..j], out id)) { matched = j - i; break; }
            }
            if (matched == 0)
            {
                // No piece starts here: the whole word is unknown.
                ids.RemoveRange(firstOfWord, ids.Count - firstOfWord);
                spans?.RemoveRange(firstSpan, spans.Count - firstSpan);
                break;
            }
            ids.Add(id);
            spans?.Add((Source(i).Item1, Source(i + matched - 1).Item2));
            i += matched;
        }
        if (ids.Count == firstOfWord && UnknownTokenId is { } unk)
        {
            ids.Add(unk);
            spans?.Add((Source(1).Item1, Source(n - 1).Item2));
        }
        sources?.Clear();
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
        if (type is not (TypeNormal or TypeUserDefined)) return; // unused/undefined/byte: llama.cpp prints nothing for these in WPM vocabularies
        byte[] piece = _pieceBytes[id];
        int skip = 0;
        if (type == TypeNormal && piece.Length > 0 && piece[0] == (byte)' ')
        {
            // The word mark becomes a space between words; none before the first word, and (llama.cpp's
            // clean_up_tokenization_spaces, first pass) none before a lone ". , ! ?".
            if (afterBos || (piece.Length == 2 && piece[1] is (byte)'.' or (byte)',' or (byte)'!' or (byte)'?')) skip = 1;
        }
        for (int i = skip; i < piece.Length; i++) bytes.Add(piece[i]);
    }

    // ---- character classes, as llama.cpp's unicode tables define them ------------------------------------------------

    /// <summary>The first code point of the canonical decomposition (identity for ASCII and undecomposable characters).</summary>
    internal static int NfdFirst(int cpt)
    {
        if (cpt < 0xC0) return cpt;
        ReadOnlySpan<int> r = WordPieceUnicodeData.NfdFirstRanges;
        int lo = 0, hi = r.Length / 3 - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (cpt < r[mid * 3]) hi = mid - 1;
            else if (cpt > r[mid * 3 + 1]) lo = mid + 1;
            else return r[mid * 3 + 2];
        }
        return cpt;
    }

    /// <summary>Unicode White_Space (tab..CR, space, NEL, NBSP, the Zs/Zl/Zp spaces).</summary>
    internal static bool IsWhitespace(int cpt) => cpt switch
    {
        >= 0x09 and <= 0x0D or 0x20 or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A) or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    private static bool IsControl(UnicodeCategory c) =>
        c is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;

    private static bool IsPunctuation(UnicodeCategory c) => c is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
        or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
        or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;

    private static bool IsSymbol(UnicodeCategory c) =>
        c is UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol or UnicodeCategory.OtherSymbol;

    /// <summary>BERT's CJK ideograph blocks (HF's ranges, including its 0x2B920 start for extension E/F).</summary>
    private static bool IsChineseCharacter(int cpt) =>
        cpt is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF) or (>= 0x2A700 and <= 0x2B73F)
            or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B920 and <= 0x2CEAF) or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);
}
