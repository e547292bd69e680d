using System.Globalization;
using System.Runtime.CompilerServices;

namespace Ingot.Runtime.Tokenization;

/// <summary>
/// Per-code-point classes the byte-level pre-tokenizers test: the general category folded the way llama.cpp's
/// unicode tables fold it (\p{L}, \p{N}, \p{P}, \p{S}, \p{M}, \p{Z}, \p{C}, unassigned), plus Unicode's White_Space
/// property. The categories come from .NET's own Unicode data (CharUnicodeInfo), which may be one Unicode version
/// apart from llama.cpp's generated table for a handful of newly assigned code points.
/// </summary>
internal static class PreTokenizerUnicode
{
    public const ushort Undefined = 0x0001, Number = 0x0002, Letter = 0x0004, Separator = 0x0008, Mark = 0x0010,
        Punctuation = 0x0020, Symbol = 0x0040, Control = 0x0080, CategoryMask = 0x00FF, Whitespace = 0x0100;

    /// <summary>The code point a lone UTF-16 surrogate stands for (UTF-8 encoding would write U+FFFD for it too).</summary>
    public const int Replacement = 0xFFFD;

    private static readonly ushort[] Latin1 = BuildLatin1();

    private static ushort[] BuildLatin1()
    {
        var t = new ushort[256];
        for (int c = 0; c < 256; c++) t[c] = Compute(c);
        return t;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Flags(int cp) => (uint)cp < 256u ? Latin1[cp] : Compute(cp);

    private static ushort Compute(int cp)
    {
        ushort flags = CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Letter,
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => Mark,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Number,
            UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => Separator,
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse => Control,
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
                or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => Punctuation,
            UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol
                or UnicodeCategory.OtherSymbol => Symbol,
            _ => Undefined,
        };
        if (IsWhitespace(cp)) flags |= Whitespace;
        return flags;
    }

    /// <summary>Unicode White_Space (PropList.txt): what \s means to the Python/Rust regexes the patterns come from.</summary>
    public static bool IsWhitespace(int cp) => cp switch
    {
        >= 0x09 and <= 0x0D or 0x20 or 0x85 or 0xA0 or 0x1680 or >= 0x2000 and <= 0x200A
            or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    /// <summary>
    /// Decodes <paramref name="text"/> into code points, their flags and the UTF-16 offset of each (plus the end),
    /// so splitters index code points as llama.cpp does. Lone surrogates become U+FFFD.
    /// </summary>
    public static int Decode(ReadOnlySpan<char> text, int[] cps, ushort[] flags, int[] charStart)
    {
        int n = 0;
        for (int i = 0; i < text.Length;)
        {
            int cp = text[i];
            int len = 1;
            if (char.IsSurrogate((char)cp))
            {
                if (char.IsHighSurrogate((char)cp) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    cp = char.ConvertToUtf32((char)cp, text[i + 1]);
                    len = 2;
                }
                else cp = Replacement;
            }
            cps[n] = cp;
            flags[n] = Flags(cp);
            charStart[n] = i;
            n++;
            i += len;
        }
        charStart[n] = text.Length;
        return n;
    }
}
