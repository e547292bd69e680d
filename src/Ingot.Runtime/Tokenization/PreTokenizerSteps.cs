using System.Text;
using System.Text.RegularExpressions;
using static Ingot.Runtime.Tokenization.PreTokenizerUnicode;

namespace Ingot.Runtime.Tokenization;

/// <summary>
/// One pattern of a <see cref="ByteLevelPreTokenizer"/>: splits each input segment (lengths in code points,
/// consecutive from 0) into output segments that cover it exactly.
/// </summary>
internal abstract class PreTokenizerStep
{
    public abstract void Split(CodepointText text, PreTokenizerScratch scratch, List<int> input, List<int> output);

    private const string ContractionsLlama3Adapted = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
    private const string ContractionsLlama3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";

    public static PreTokenizerStep Create(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (pattern == ByteLevelPreTokenizer.Gpt2Pattern || pattern == ByteLevelPreTokenizer.Gpt2Pattern + @"|\s+")
            return new Gpt2Scanner();
        string normalized = pattern.Replace(ContractionsLlama3Adapted, ContractionsLlama3, StringComparison.Ordinal);
        if (normalized == ByteLevelPreTokenizer.Llama3Pattern) return new Llama3Scanner(3);
        if (normalized == ByteLevelPreTokenizer.Qwen2Pattern) return new Llama3Scanner(1);
        return new PreTokenizerRegexStep(pattern);
    }

    /// <summary>Class of <c>[^\s\p{L}\p{N}]</c>: anything that is not whitespace, a letter or a number.</summary>
    protected static bool IsOther(ushort f) => f != 0 && (f & (Whitespace | Letter | Number)) == 0;
}

/// <summary>
/// GPT-2's pattern <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c> as a single
/// left-to-right scan: at each position the first alternative that matches wins, exactly as the regex would.
/// </summary>
internal sealed class Gpt2Scanner : PreTokenizerStep
{
    public override void Split(CodepointText text, PreTokenizerScratch scratch, List<int> input, List<int> output)
    {
        ReadOnlySpan<int> cps = text.Codepoints;
        ReadOnlySpan<ushort> flags = text.Flags;
        int start = 0;
        foreach (int segLen in input)
        {
            int end = start + segLen, pos = start;
            while (pos < end)
            {
                int cp = cps[pos];
                int stop;
                if (cp == '\'' && pos + 1 < end && ContractionLength(cps, pos, end) is > 0 and var clen)
                {
                    stop = pos + clen;
                }
                else
                {
                    // " ?X+" alternatives: an optional leading space, then a run of one class.
                    int first = cp == ' ' ? pos + 1 : pos;
                    ushort f = first < end ? flags[first] : (ushort)0;
                    if ((f & Letter) != 0) stop = RunOf(flags, first + 1, end, Letter);
                    else if ((f & Number) != 0) stop = RunOf(flags, first + 1, end, Number);
                    else if (IsOther(f)) stop = RunOfOther(flags, first + 1, end);
                    else stop = WhitespaceEnd(flags, pos, end);
                }
                output.Add(stop - pos);
                pos = stop;
            }
            start = end;
        }
    }

    private static int ContractionLength(ReadOnlySpan<int> cps, int pos, int end)
    {
        int a = cps[pos + 1];
        if (a is 's' or 't' or 'm' or 'd') return 2;
        if (pos + 2 >= end) return 0;
        int b = cps[pos + 2];
        return (a, b) is ('r', 'e') or ('v', 'e') or ('l', 'l') ? 3 : 0;
    }

    internal static int RunOf(ReadOnlySpan<ushort> flags, int pos, int end, ushort cls)
    {
        while (pos < end && (flags[pos] & cls) != 0) pos++;
        return pos;
    }

    internal static int RunOfOther(ReadOnlySpan<ushort> flags, int pos, int end)
    {
        while (pos < end && IsOther(flags[pos])) pos++;
        return pos;
    }

    /// <summary><c>\s+(?!\S)|\s+</c> from <paramref name="pos"/>: a run of n &gt; 1 spaces followed by more text leaves its last one.</summary>
    internal static int WhitespaceEnd(ReadOnlySpan<ushort> flags, int pos, int end)
    {
        int run = pos;
        while (run < end && (flags[run] & Whitespace) != 0) run++;
        int n = run - pos;
        if (n > 1 && run < end) return run - 1;
        return n > 0 ? run : pos + 1; // n == 0 cannot happen for assigned code points; advance anyway
    }
}

/// <summary>
/// Llama 3's pattern <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>
/// as one scan; with <c>maxDigits = 1</c> it is Qwen2's (<c>\p{N}</c> instead of <c>\p{N}{1,3}</c>).
/// </summary>
internal sealed class Llama3Scanner(int maxDigits) : PreTokenizerStep
{
    public override void Split(CodepointText text, PreTokenizerScratch scratch, List<int> input, List<int> output)
    {
        ReadOnlySpan<int> cps = text.Codepoints;
        ReadOnlySpan<ushort> flags = text.Flags;
        int start = 0;
        foreach (int segLen in input)
        {
            int end = start + segLen, pos = start;
            while (pos < end)
            {
                output.Add(Next(cps, flags, pos, end) - pos);
                pos += output[^1];
            }
            start = end;
        }
    }

    private int Next(ReadOnlySpan<int> cps, ReadOnlySpan<ushort> flags, int pos, int end)
    {
        int cp = cps[pos];
        ushort f = flags[pos];

        // (?i:'s|'t|'re|'ve|'m|'ll|'d) — only ASCII letters lower-case to these.
        if (cp == '\'' && pos + 1 < end)
        {
            int a = AsciiLower(cps[pos + 1]);
            if (a is 's' or 't' or 'm' or 'd') return pos + 2;
            if (pos + 2 < end && (a, AsciiLower(cps[pos + 2])) is ('r', 'e') or ('v', 'e') or ('l', 'l')) return pos + 3;
        }

        // [^\r\n\p{L}\p{N}]?\p{L}+ — the optional prefix can be any other character, a space included.
        if (cp != '\r' && cp != '\n' && (f & Number) == 0)
        {
            if ((f & Letter) != 0 || (pos + 1 < end && (flags[pos + 1] & Letter) != 0))
                return Gpt2Scanner.RunOf(flags, pos + 1, end, Letter);
        }

        // \p{N}{1,3}
        if ((f & Number) != 0)
        {
            int stop = pos + 1;
            while (stop < end && stop - pos < maxDigits && (flags[stop] & Number) != 0) stop++;
            return stop;
        }

        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        int first = cp == ' ' ? pos + 1 : pos;
        if (first < end && IsOther(flags[first]))
        {
            int stop = Gpt2Scanner.RunOfOther(flags, first + 1, end);
            while (stop < end && cps[stop] is '\r' or '\n') stop++;
            return stop;
        }

        // \s*[\r\n]+ : the whitespace run up to and including its last line break.
        int run = pos, afterLastBreak = -1;
        while (run < end && (flags[run] & Whitespace) != 0)
        {
            if (cps[run] is '\r' or '\n') afterLastBreak = run + 1;
            run++;
        }
        if (afterLastBreak > 0) return afterLastBreak;

        // \s+(?!\S)|\s+
        return Gpt2Scanner.WhitespaceEnd(flags, pos, end);
    }

    private static int AsciiLower(int c) => c is >= 'A' and <= 'Z' ? c | 0x20 : c;
}

/// <summary>
/// Any other pattern, run by .NET's regex interpreter (ECMAScript flavour, as llama.cpp's std::regex) over the text
/// transcoded to one UTF-16 unit per code point:
/// <list type="bullet">
/// <item>Patterns using \p{L}, \p{N}, \p{P}, \p{S}, \p{M} (ASCII otherwise): every non-ASCII code point becomes a
/// stand-in for its category (U+00D0..U+00D5, or \v for whitespace) and each \p{X} becomes a class of its stand-in
/// plus its ASCII members — llama.cpp's "collapsed" scheme, whose ASCII \p{S} omits '~'.</item>
/// <item>Patterns without categories: code points stay themselves (non-ASCII whitespace becomes \v, as llama.cpp
/// does so \s sees it); supplementary-plane code points and ranges in the pattern are mapped together onto
/// private-use stand-ins, one per elementary interval of the pattern's supplementary ranges.</item>
/// </list>
/// An unescaped <c>$</c> outside a class means end of piece (<c>\z</c>), as in std::regex.
/// </summary>
internal sealed class PreTokenizerRegexStep : PreTokenizerStep
{
    private const char CollapsedNumber = '\u00D1', CollapsedLetter = '\u00D2', CollapsedPunctuation = '\u00D3',
        CollapsedMark = '\u00D4', CollapsedSymbol = '\u00D5', CollapsedOther = '\u00D0', CollapsedWhitespace = '\v';

    private const int AstralStandInBase = 0xF000;
    private const char AstralOther = '\uF8FF';

    private readonly Regex _regex;
    private readonly bool _collapse;
    private readonly int[] _astralBounds; // sorted elementary interval boundaries of the pattern's supplementary code points

    public PreTokenizerRegexStep(string pattern)
    {
        Pattern = pattern;
        _collapse = pattern.Contains(@"\p{N}", StringComparison.Ordinal) || pattern.Contains(@"\p{L}", StringComparison.Ordinal)
            || pattern.Contains(@"\p{P}", StringComparison.Ordinal) || pattern.Contains(@"\p{S}", StringComparison.Ordinal)
            || pattern.Contains(@"\p{M}", StringComparison.Ordinal);
        string rewritten;
        if (_collapse)
        {
            if (pattern.Any(c => c > 0x7F))
                throw new ArgumentException($"pre-tokenizer pattern mixes Unicode categories with non-ASCII characters (unsupported, as in llama.cpp): {pattern}");
            _astralBounds = [];
            rewritten = Rewrite(pattern, collapse: true);
        }
        else
        {
            _astralBounds = AstralBoundaries(pattern);
            rewritten = Rewrite(pattern, collapse: false);
        }
        try
        {
            _regex = new Regex(rewritten, RegexOptions.ECMAScript | RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"pre-tokenizer pattern is not supported: {pattern} ({e.Message})", e);
        }
    }

    public string Pattern { get; }

    public override void Split(CodepointText text, PreTokenizerScratch scratch, List<int> input, List<int> output)
    {
        char[] buffer = scratch.TranscodeBuffer(text.Length);
        for (int i = 0; i < text.Length; i++) buffer[i] = Transcode(text.Codepoints[i], text.Flags[i]);

        int start = 0;
        foreach (int segLen in input)
        {
            ReadOnlySpan<char> segment = buffer.AsSpan(start, segLen);
            int done = 0;
            foreach (ValueMatch m in _regex.EnumerateMatches(segment))
            {
                if (m.Length == 0) continue; // an empty match would be an empty word: no tokens either way
                if (m.Index > done) output.Add(m.Index - done);
                output.Add(m.Length);
                done = m.Index + m.Length;
            }
            if (done < segLen) output.Add(segLen - done);
            start += segLen;
        }
    }

    private char Transcode(int cp, ushort flags)
    {
        if (cp < 0x80) return (char)cp;
        if ((flags & Whitespace) != 0) return CollapsedWhitespace;
        if (_collapse)
        {
            return (flags & CategoryMask) switch
            {
                Number => CollapsedNumber,
                Letter => CollapsedLetter,
                Punctuation => CollapsedPunctuation,
                Mark => CollapsedMark,
                Symbol => CollapsedSymbol,
                _ => CollapsedOther,
            };
        }
        return cp < 0x10000 ? (char)cp : AstralStandIn(cp);
    }

    private char AstralStandIn(int cp)
    {
        int k = Array.BinarySearch(_astralBounds, cp);
        if (k < 0) k = ~k - 1;                      // interval [bounds[k], bounds[k+1])
        if (k < 0 || k >= _astralBounds.Length - 1) return AstralOther;
        return (char)(AstralStandInBase + k);
    }

    private static int[] AstralBoundaries(string pattern)
    {
        var points = new SortedSet<int>();
        var runes = pattern.EnumerateRunes().Select(r => r.Value).ToArray();
        for (int i = 0; i < runes.Length; i++)
        {
            if (runes[i] < 0x10000) continue;
            bool isRangeEnd = i >= 2 && runes[i - 1] == '-';
            if (isRangeEnd && runes[i - 2] < 0x10000 && runes[i - 2] != '[')
                throw new ArgumentException("pre-tokenizer pattern has a range from the BMP into the supplementary planes (unsupported)");
            if (isRangeEnd) points.Add(runes[i] + 1);          // [a, b] contributes a and b + 1
            else if (i + 1 < runes.Length && runes[i + 1] == '-') points.Add(runes[i]);
            else { points.Add(runes[i]); points.Add(runes[i] + 1); }
        }
        if (points.Count > AstralOther - AstralStandInBase)
            throw new ArgumentException("pre-tokenizer pattern has too many supplementary-plane characters");
        return points.ToArray();
    }

    private string Rewrite(string pattern, bool collapse)
    {
        var sb = new StringBuilder(pattern.Length * 2);
        bool inClass = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                if (pattern[i + 1] is 'p' or 'P' && i + 4 < pattern.Length && pattern[i + 2] == '{')
                {
                    int close = pattern.IndexOf('}', i + 3);
                    string name = close > 0 ? pattern.Substring(i + 3, close - i - 3) : "";
                    string? members = pattern[i + 1] == 'p' && collapse ? CategoryMembers(name) : null;
                    if (members is null)
                        throw new ArgumentException($"pre-tokenizer pattern uses \\{pattern[i + 1]}{{{name}}} (only \\p{{L}}, \\p{{N}}, \\p{{P}}, \\p{{S}}, \\p{{M}} are supported): {pattern}");
                    sb.Append(inClass ? members : "[" + members + "]");
                    i = close;
                    continue;
                }
                sb.Append(c).Append(pattern[i + 1]);
                i++;
                continue;
            }
            if (c == '[' && !inClass) inClass = true;
            else if (c == ']' && inClass) inClass = false;
            else if (c == '$' && !inClass) { sb.Append(@"\z"); continue; }

            if (char.IsHighSurrogate(c) && i + 1 < pattern.Length && char.IsLowSurrogate(pattern[i + 1]))
            {
                sb.Append(AstralStandIn(char.ConvertToUtf32(c, pattern[i + 1])));
                i++;
                continue;
            }
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>Class members of a category on collapsed text: its stand-in plus its ASCII members.</summary>
    private static string? CategoryMembers(string name) => name switch
    {
        "N" => CollapsedNumber + "0-9",
        "L" => CollapsedLetter + "A-Za-z",
        "P" => CollapsedPunctuation + @"!-#%-*,-/:;?@\[-\]_\{\}",
        "M" => CollapsedMark.ToString(),
        "S" => CollapsedSymbol + @"\$\+<->\^`\|", // '~' (Sm) left out, as in llama.cpp's table
        _ => null,
    };
}
