using System.Globalization;
using System.Text;

namespace Ingot.Runtime.Chat;

/// <summary>Scanning: the template split into text, output, block and comment segments, whitespace control, and the expression lexer.</summary>
internal sealed partial class JinjaParser
{
    // ───────────────────────────── scanning ─────────────────────────────

    private List<Segment> Scan()
    {
        var segs = new List<Segment>();
        int i = 0, n = _src.Length;
        while (i < n)
        {
            int open = FindTagOpen(i);
            if (open < 0)
            {
                segs.Add(new Segment(SegKind.Text, i) { Text = _src[i..] });
                break;
            }
            if (open > i) segs.Add(new Segment(SegKind.Text, i) { Text = _src[i..open] });
            char kind = _src[open + 1];
            int p = open + 2;
            char pre = p < n && _src[p] is '-' or '+' or '~' ? _src[p] : '\0';
            if (pre != '\0') p++;
            if (kind == '#')
            {
                int close = _src.IndexOf("#}", p, StringComparison.Ordinal);
                if (close < 0) throw Error(open, "unterminated comment '{#'");
                char post = close - 1 >= p && _src[close - 1] is '-' or '+' or '~' ? _src[close - 1] : '\0';
                segs.Add(new Segment(SegKind.Comment, open) { Pre = Norm(pre), Post = Norm(post) });
                i = close + 2;
                continue;
            }
            var seg = new Segment(kind == '{' ? SegKind.Output : SegKind.Block, open) { Pre = Norm(pre) };
            i = LexTag(p, kind == '{' ? "}}" : "%}", seg);
            if (seg.Kind == SegKind.Block)
            {
                if (seg.Tokens.Count == 0 || seg.Tokens[0].Kind != TokKind.Name) throw Error(open, "expected a statement keyword after '{%'");
                if (seg.Tokens[0].Text == "raw") throw Error(open, "unsupported Jinja construct '{% raw %}'");
            }
            else if (seg.Tokens.Count == 0) throw Error(open, "empty expression '{{ }}'");
            segs.Add(seg);
        }
        return segs;
    }

    private static char Norm(char c) => c == '~' ? '-' : c;

    private int FindTagOpen(int from)
    {
        for (int i = _src.IndexOf('{', from); i >= 0 && i + 1 < _src.Length; i = _src.IndexOf('{', i + 1))
            if (_src[i + 1] is '{' or '%' or '#') return i;
        return -1;
    }

    /// <summary>Lexes expression tokens from <paramref name="p"/> up to the closing delimiter; returns the index after it.</summary>
    private int LexTag(int p, string close, Segment seg)
    {
        int n = _src.Length, braceDepth = 0;
        int tagStart = seg.Pos;
        while (true)
        {
            while (p < n && char.IsWhiteSpace(_src[p])) p++;
            if (p >= n) throw Error(tagStart, close == "}}" ? "unterminated '{{' (missing '}}')" : "unterminated '{%' (missing '%}')");
            char c = _src[p];
            if (c is '-' or '+' or '~' && string.CompareOrdinal(_src, p + 1, close, 0, 2) == 0 && (close == "%}" || braceDepth == 0))
            {
                seg.Post = Norm(c);
                return p + 3;
            }
            if (string.CompareOrdinal(_src, p, close, 0, 2) == 0 && (close == "%}" || braceDepth == 0))
                return p + 2;

            if (char.IsLetter(c) || c == '_')
            {
                int s = p;
                while (p < n && (char.IsLetterOrDigit(_src[p]) || _src[p] == '_')) p++;
                seg.Tokens.Add(new Tok(TokKind.Name, _src[s..p], null, s));
            }
            else if (char.IsAsciiDigit(c))
            {
                int s = p;
                while (p < n && char.IsAsciiDigit(_src[p])) p++;
                bool isFloat = false;
                if (p + 1 < n && _src[p] == '.' && char.IsAsciiDigit(_src[p + 1]))
                {
                    isFloat = true;
                    p++;
                    while (p < n && char.IsAsciiDigit(_src[p])) p++;
                }
                if (p < n && _src[p] is 'e' or 'E')
                {
                    int q = p + 1;
                    if (q < n && _src[q] is '+' or '-') q++;
                    if (q < n && char.IsAsciiDigit(_src[q]))
                    {
                        isFloat = true;
                        p = q;
                        while (p < n && char.IsAsciiDigit(_src[p])) p++;
                    }
                }
                string text = _src[s..p];
                object value = isFloat
                    ? (object)double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)
                    : long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? (object)v : throw Error(s, $"integer literal {text} is too large");
                seg.Tokens.Add(new Tok(isFloat ? TokKind.Float : TokKind.Int, text, value, s));
            }
            else if (c is '\'' or '"')
            {
                int s = p;
                var sb = new StringBuilder();
                p++;
                while (true)
                {
                    if (p >= n) throw Error(s, "unterminated string literal");
                    char ch = _src[p];
                    if (ch == c) { p++; break; }
                    if (ch == '\\' && p + 1 < n)
                    {
                        char e = _src[p + 1];
                        p += 2;
                        switch (e)
                        {
                            case 'n': sb.Append('\n'); break;
                            case 'r': sb.Append('\r'); break;
                            case 't': sb.Append('\t'); break;
                            case 'b': sb.Append('\b'); break;
                            case 'f': sb.Append('\f'); break;
                            case '0': sb.Append('\0'); break;
                            case '\\': sb.Append('\\'); break;
                            case '\'': sb.Append('\''); break;
                            case '"': sb.Append('"'); break;
                            case '\n': break; // line continuation
                            case 'x' when p + 2 <= n && IsHex(_src.AsSpan(p, 2)):
                                sb.Append((char)int.Parse(_src.AsSpan(p, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)); p += 2; break;
                            case 'u' when p + 4 <= n && IsHex(_src.AsSpan(p, 4)):
                                sb.Append((char)int.Parse(_src.AsSpan(p, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture)); p += 4; break;
                            default: sb.Append('\\').Append(e); break; // Python keeps unknown escapes
                        }
                        continue;
                    }
                    sb.Append(ch);
                    p++;
                }
                seg.Tokens.Add(new Tok(TokKind.String, _src[s..p], sb.ToString(), s));
            }
            else
            {
                string op = MatchOp(p);
                if (op.Length == 0) throw Error(p, $"unexpected character '{c}' in tag");
                if (op == "{") braceDepth++;
                else if (op == "}") braceDepth--;
                seg.Tokens.Add(new Tok(TokKind.Op, op, null, p));
                p += op.Length;
            }
        }
    }

    private static bool IsHex(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
            if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }

    private static readonly string[] Ops = ["**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|"];

    private string MatchOp(int p)
    {
        foreach (var op in Ops)
            if (string.CompareOrdinal(_src, p, op, 0, op.Length) == 0) return op;
        return "";
    }

    /// <summary>
    /// Whitespace control as minja (llama.cpp) applies it: a '-' mark strips all whitespace on that side; otherwise
    /// lstrip_blocks removes spaces/tabs between a line start and any following tag, trim_blocks removes the first
    /// newline after a block or comment tag, and the template's final newline is dropped.
    /// </summary>
    private void ApplyWhitespaceControl(List<Segment> segs)
    {
        for (int k = 0; k < segs.Count; k++)
        {
            var seg = segs[k];
            if (seg.Kind != SegKind.Text) continue;
            string text = seg.Text;
            var prev = k > 0 ? segs[k - 1] : null;
            var next = k + 1 < segs.Count ? segs[k + 1] : null;
            if (next is not null && next.Pre == '-') text = text.TrimEnd(RegexWhitespace);
            else if (_options.LstripBlocks && next is not null && next.Pre != '+')
            {
                int i = text.Length;
                while (i > 0 && text[i - 1] is ' ' or '\t') i--;
                if ((i == 0 && k == 0) || (i > 0 && text[i - 1] == '\n')) text = text[..i];
            }
            if (prev is not null && prev.Post == '-') text = text.TrimStart(RegexWhitespace);
            else if (_options.TrimBlocks && prev is not null && prev.Kind != SegKind.Output && text.StartsWith('\n')) text = text[1..];
            if (next is null && !_options.KeepTrailingNewline)
            {
                if (text.EndsWith("\r\n", StringComparison.Ordinal)) text = text[..^2];
                else if (text.EndsWith('\n')) text = text[..^1];
            }
            seg.Text = text;
        }
    }

    // std::regex "\s" (what minja's '-' strips)
    private static readonly char[] RegexWhitespace = [' ', '\t', '\n', '\v', '\f', '\r'];
}
