using System.Text;

namespace Ingot.Runtime.Tokenization;

/// <summary>A special token the splitter looks for in text.</summary>
/// <param name="Text">Its literal text.</param>
/// <param name="Id">Its token id.</param>
/// <param name="IsControl">Control/unknown tokens are only recognised when special tokens are parsed; the others
/// (user-defined) always are, as llama.cpp and Hugging Face do for added tokens.</param>
/// <param name="LStrip">Whitespace just before it is removed from the text.</param>
/// <param name="RStrip">Whitespace just after it is removed from the text.</param>
public readonly record struct SpecialToken(string Text, int Id, bool IsControl, bool LStrip = false, bool RStrip = false);

/// <summary>A piece of the input: raw text to tokenize (<see cref="TokenId"/> = -1) or one special token.</summary>
public readonly record struct TextFragment(int Start, int Length, int TokenId)
{
    public bool IsText => TokenId < 0;
}

/// <summary>
/// Cuts special tokens out of text the way llama.cpp's partition does: tokens are taken longest first (UTF-8 length),
/// and each one's occurrences are found left to right in whatever raw text the longer ones left over. So with
/// "&lt;|a|&gt;" and "x&lt;|" both special, "x&lt;|a|&gt;" yields "x" + "&lt;|a|&gt;". Equivalent, and linear in the text: every
/// candidate occurrence is collected in one pass (indexed by first character), then accepted in (priority, position)
/// order when it overlaps nothing accepted before.
/// </summary>
public sealed class SpecialTokenSplitter
{
    private readonly SpecialToken[] _tokens;            // sorted: longest (UTF-8 bytes) first, then lower id
    private readonly Dictionary<char, int[]> _byFirstChar;
    private readonly ulong[] _firstCharBits = new ulong[1024]; // 65536-bit set of first characters

    public SpecialTokenSplitter(IEnumerable<SpecialToken> tokens)
    {
        _tokens = tokens.Where(t => !string.IsNullOrEmpty(t.Text))
            .OrderByDescending(t => Encoding.UTF8.GetByteCount(t.Text)).ThenBy(t => t.Id).ToArray();
        _byFirstChar = _tokens.Select((t, i) => (t.Text[0], i)).GroupBy(p => p.Item1)
            .ToDictionary(g => g.Key, g => g.Select(p => p.i).ToArray());
        foreach (char c in _byFirstChar.Keys) _firstCharBits[c >> 6] |= 1UL << (c & 63);
    }

    /// <summary>
    /// The special pieces of a vocabulary by llama.cpp token type: unknown (2) and control (3) pieces are matched only
    /// when special tokens are parsed, user-defined (4) pieces always. <paramref name="types"/> is parallel to
    /// <paramref name="pieces"/>.
    /// </summary>
    public static SpecialTokenSplitter FromTokenTypes(IReadOnlyList<string> pieces, IReadOnlyList<int> types)
    {
        const int TypeUnknown = 2, TypeControl = 3, TypeUserDefined = 4;
        var specials = new List<SpecialToken>();
        for (int i = 0; i < pieces.Count; i++)
            if (types[i] is TypeUnknown or TypeControl or TypeUserDefined)
                specials.Add(new SpecialToken(pieces[i], i, IsControl: types[i] != TypeUserDefined));
        return new SpecialTokenSplitter(specials);
    }

    public IReadOnlyList<SpecialToken> Tokens => _tokens;

    public bool IsEmpty => _tokens.Length == 0;

    /// <summary>Splits <paramref name="text"/> into fragments appended to <paramref name="fragments"/> in order.</summary>
    public void Split(ReadOnlySpan<char> text, bool parseSpecialTokens, List<TextFragment> fragments)
    {
        if (text.IsEmpty) return;
        var candidates = new List<(int Priority, int Position)>();
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if ((_firstCharBits[c >> 6] & (1UL << (c & 63))) == 0) continue;
            foreach (int k in _byFirstChar[c])
            {
                ref readonly SpecialToken t = ref _tokens[k];
                if (!parseSpecialTokens && t.IsControl) continue;
                if (text[i..].StartsWith(t.Text, StringComparison.Ordinal)) candidates.Add((k, i));
            }
        }
        if (candidates.Count == 0)
        {
            fragments.Add(new TextFragment(0, text.Length, -1));
            return;
        }

        candidates.Sort();
        // owner[i] = index+1 of the accepted candidate covering char i (0 = raw text).
        var owner = new int[text.Length];
        var accepted = new List<(int Position, int Token)>();
        foreach (var (k, pos) in candidates)
        {
            int len = _tokens[k].Text.Length;
            if (owner.AsSpan(pos, len).IndexOfAnyExcept(0) >= 0) continue;
            accepted.Add((pos, k));
            owner.AsSpan(pos, len).Fill(accepted.Count);
        }
        accepted.Sort();

        int done = 0;
        for (int a = 0; a < accepted.Count; a++)
        {
            var (pos, k) = accepted[a];
            ref readonly SpecialToken t = ref _tokens[k];
            int textEnd = pos;
            if (t.LStrip) while (textEnd > done && IsCSpace(text[textEnd - 1])) textEnd--;
            if (textEnd > done) fragments.Add(new TextFragment(done, textEnd - done, -1));
            fragments.Add(new TextFragment(pos, t.Text.Length, t.Id));
            done = pos + t.Text.Length;
            if (t.RStrip)
            {
                int limit = a + 1 < accepted.Count ? accepted[a + 1].Position : text.Length;
                while (done < limit && IsCSpace(text[done])) done++;
            }
        }
        if (done < text.Length) fragments.Add(new TextFragment(done, text.Length - done, -1));
    }

    /// <summary>C's isspace (what llama.cpp strips around lstrip/rstrip tokens): ASCII whitespace only.</summary>
    private static bool IsCSpace(char c) => c == ' ' || c is >= '\t' and <= '\r';
}
