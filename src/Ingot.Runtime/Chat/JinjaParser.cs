using System.Globalization;
using System.Text;

namespace Ingot.Runtime.Chat;

internal enum TokKind { Name, String, Int, Float, Op, End }

/// <summary>One token inside <c>{{ … }}</c> or <c>{% … %}</c>.</summary>
internal readonly record struct Tok(TokKind Kind, string Text, object? Value, int Pos);

internal enum SegKind { Text, Output, Block, Comment }

/// <summary>
/// A template segment: raw text or one tag. <c>Pre</c>/<c>Post</c> are the whitespace-control marks just inside the
/// tag delimiters: '-' strips, '+' disables lstrip_blocks, '\0' none.
/// </summary>
internal sealed class Segment(SegKind kind, int pos)
{
    public SegKind Kind { get; } = kind;
    public int Pos { get; } = pos;
    public string Text { get; set; } = "";
    public List<Tok> Tokens { get; } = [];
    public char Pre { get; set; }
    public char Post { get; set; }
}

/// <summary>Parse-time options. Hugging Face and llama.cpp both render chat templates with trim_blocks and lstrip_blocks.</summary>
public sealed record JinjaOptions(bool TrimBlocks = true, bool LstripBlocks = true, bool KeepTrailingNewline = false);

/// <summary>Splits a template into text and tags, lexes the tags, applies whitespace control, and parses to nodes.</summary>
internal sealed class JinjaParser
{
    private readonly string _src;
    private readonly int[] _lineStarts;
    private readonly JinjaOptions _options;

    // tag parsing state
    private List<Segment> _segs = [];
    private int _segIndex;
    private List<Tok> _toks = [];
    private int _tokIndex;

    public JinjaParser(string source, JinjaOptions options)
    {
        _src = source;
        _options = options;
        var starts = new List<int> { 0 };
        for (int i = 0; i < source.Length; i++)
            if (source[i] == '\n') starts.Add(i + 1);
        _lineStarts = [.. starts];
    }

    public (int Line, int Column) LineCol(int pos)
    {
        int idx = Array.BinarySearch(_lineStarts, pos);
        if (idx < 0) idx = ~idx - 1;
        return (idx + 1, pos - _lineStarts[idx] + 1);
    }

    private ChatTemplateException Error(int pos, string message)
    {
        var (l, c) = LineCol(pos);
        return new ChatTemplateException(message, l, c);
    }

    public List<Node> Parse()
    {
        _segs = Scan();
        ApplyWhitespaceControl(_segs);
        _segIndex = 0;
        var body = ParseBody(out var stop);
        if (stop is not null) throw Error(stop.Pos, $"unexpected '{{% {stop.Tokens[0].Text} %}}'");
        return body;
    }

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

    // ───────────────────────────── statements ─────────────────────────────

    private static readonly HashSet<string> Unsupported = new(StringComparer.Ordinal)
    {
        "include", "import", "from", "extends", "block", "endblock", "call", "endcall", "with", "endwith",
        "autoescape", "endautoescape", "do", "trans", "endtrans", "pluralize", "print",
    };

    /// <summary>Parses nodes until a block tag that this level does not own (returned in <paramref name="stop"/>).</summary>
    private List<Node> ParseBody(out Segment? stop)
    {
        var nodes = new List<Node>();
        while (_segIndex < _segs.Count)
        {
            var seg = _segs[_segIndex];
            var (line, col) = LineCol(seg.Pos);
            switch (seg.Kind)
            {
                case SegKind.Text:
                    if (seg.Text.Length > 0) nodes.Add(new TextNode(line, col, seg.Text));
                    _segIndex++;
                    break;
                case SegKind.Comment:
                    _segIndex++;
                    break;
                case SegKind.Output:
                    BeginTag(seg);
                    var e = ParseExpression();
                    ExpectEnd("}}");
                    nodes.Add(new OutputNode(line, col, e));
                    _segIndex++;
                    break;
                case SegKind.Block:
                    string kw = seg.Tokens[0].Text;
                    switch (kw)
                    {
                        case "if": nodes.Add(ParseIf(seg)); break;
                        case "for": nodes.Add(ParseFor(seg)); break;
                        case "set": nodes.Add(ParseSet(seg)); break;
                        case "macro": nodes.Add(ParseMacro(seg)); break;
                        case "filter": nodes.Add(ParseFilterBlock(seg)); break;
                        case "break":
                        case "continue":
                            BeginTag(seg); _tokIndex = 1; ExpectEnd("%}");
                            nodes.Add(new LoopControlNode(line, col, kw == "break"));
                            _segIndex++;
                            break;
                        case "generation":
                            // Hugging Face's marker for assistant-token masks in training: no effect on the text.
                            _segIndex++;
                            nodes.AddRange(ParseUntil(seg, "endgeneration"));
                            break;
                        default:
                            if (Unsupported.Contains(kw)) throw Error(seg.Pos, $"unsupported Jinja construct '{{% {kw} %}}'");
                            if (kw.StartsWith("end", StringComparison.Ordinal) || kw is "else" or "elif")
                            {
                                stop = seg;
                                return nodes;
                            }
                            throw Error(seg.Pos, $"unknown Jinja statement '{{% {kw} %}}'");
                    }
                    break;
            }
        }
        stop = null;
        return nodes;
    }

    private List<Node> ParseUntil(Segment opener, string end)
    {
        var body = ParseBody(out var stop);
        if (stop is null) throw Error(opener.Pos, $"'{{% {opener.Tokens[0].Text} %}}' is never closed (missing '{{% {end} %}}')");
        if (stop.Tokens[0].Text != end) throw Error(stop.Pos, $"unexpected '{{% {stop.Tokens[0].Text} %}}' (expected '{{% {end} %}}')");
        BeginTag(stop); _tokIndex = 1; ExpectEnd("%}");
        _segIndex++;
        return body;
    }

    private Node ParseIf(Segment seg)
    {
        var (line, col) = LineCol(seg.Pos);
        var branches = new List<(Expr?, List<Node>)>();
        BeginTag(seg); _tokIndex = 1;
        var cond = ParseExpression();
        ExpectEnd("%}");
        _segIndex++;
        while (true)
        {
            var body = ParseBody(out var stop);
            branches.Add((cond, body));
            if (stop is null) throw Error(seg.Pos, "'{% if %}' is never closed (missing '{% endif %}')");
            string kw = stop.Tokens[0].Text;
            BeginTag(stop); _tokIndex = 1;
            _segIndex++;
            if (kw == "elif") { cond = ParseExpression(); ExpectEnd("%}"); }
            else if (kw == "else")
            {
                ExpectEnd("%}");
                var elseBody = ParseBody(out var endStop);
                branches.Add((null, elseBody));
                if (endStop is null) throw Error(seg.Pos, "'{% if %}' is never closed (missing '{% endif %}')");
                if (endStop.Tokens[0].Text != "endif") throw Error(endStop.Pos, $"unexpected '{{% {endStop.Tokens[0].Text} %}}' (expected '{{% endif %}}')");
                BeginTag(endStop); _tokIndex = 1; ExpectEnd("%}");
                _segIndex++;
                break;
            }
            else if (kw == "endif") { ExpectEnd("%}"); break; }
            else throw Error(stop.Pos, $"unexpected '{{% {kw} %}}' inside '{{% if %}}'");
        }
        return new IfNode(line, col, branches);
    }

    private Node ParseFor(Segment seg)
    {
        var (line, col) = LineCol(seg.Pos);
        BeginTag(seg); _tokIndex = 1;
        var targets = ParseTargets();
        ExpectName("in");
        var iterable = ParseOr();   // no inline if: a trailing `if` filters the loop
        Expr? filter = null;
        if (AcceptName("if")) filter = ParseOr();
        if (AcceptName("recursive")) throw Error(seg.Pos, "unsupported Jinja construct 'recursive' loop");
        ExpectEnd("%}");
        _segIndex++;
        var body = ParseBody(out var stop);
        List<Node>? elseBody = null;
        if (stop is not null && stop.Tokens[0].Text == "else")
        {
            BeginTag(stop); _tokIndex = 1; ExpectEnd("%}");
            _segIndex++;
            elseBody = ParseBody(out stop);
        }
        if (stop is null) throw Error(seg.Pos, "'{% for %}' is never closed (missing '{% endfor %}')");
        if (stop.Tokens[0].Text != "endfor") throw Error(stop.Pos, $"unexpected '{{% {stop.Tokens[0].Text} %}}' (expected '{{% endfor %}}')");
        BeginTag(stop); _tokIndex = 1; ExpectEnd("%}");
        _segIndex++;
        return new ForNode(line, col, targets, iterable, filter, body, elseBody);
    }

    private List<string> ParseTargets()
    {
        bool paren = AcceptOp("(");
        var names = new List<string> { ExpectIdentifier() };
        while (AcceptOp(",")) names.Add(ExpectIdentifier());
        if (paren) ExpectOp(")");
        return names;
    }

    private Node ParseSet(Segment seg)
    {
        var (line, col) = LineCol(seg.Pos);
        BeginTag(seg); _tokIndex = 1;
        string first = ExpectIdentifier();
        if (AcceptOp("."))
        {
            string attr = ExpectIdentifier();
            ExpectOp("=");
            var v = ParseExpression();
            ExpectEnd("%}");
            _segIndex++;
            return new SetAttrNode(line, col, first, attr, v);
        }
        var targets = new List<string> { first };
        while (AcceptOp(",")) targets.Add(ExpectIdentifier());
        if (AcceptOp("="))
        {
            var v = ParseTupleOrExpression();
            ExpectEnd("%}");
            _segIndex++;
            return new SetNode(line, col, targets, v);
        }
        if (targets.Count != 1) throw Error(seg.Pos, "a block '{% set %}' assigns exactly one name");
        var filters = new List<FilterStep>();
        while (AcceptOp("|")) filters.Add(ParseFilterStep());
        ExpectEnd("%}");
        _segIndex++;
        var body = ParseUntil(seg, "endset");
        return new SetBlockNode(line, col, first, filters, body);
    }

    private Node ParseMacro(Segment seg)
    {
        var (line, col) = LineCol(seg.Pos);
        BeginTag(seg); _tokIndex = 1;
        string name = ExpectIdentifier();
        ExpectOp("(");
        var parameters = new List<(string, Expr?)>();
        while (!AcceptOp(")"))
        {
            string p = ExpectIdentifier();
            Expr? def = AcceptOp("=") ? ParseExpression() : null;
            parameters.Add((p, def));
            if (!AcceptOp(",")) { ExpectOp(")"); break; }
        }
        ExpectEnd("%}");
        _segIndex++;
        var body = ParseUntil(seg, "endmacro");
        return new MacroNode(line, col, name, parameters, body);
    }

    private Node ParseFilterBlock(Segment seg)
    {
        var (line, col) = LineCol(seg.Pos);
        BeginTag(seg); _tokIndex = 1;
        var filters = new List<FilterStep> { ParseFilterStep() };
        while (AcceptOp("|")) filters.Add(ParseFilterStep());
        ExpectEnd("%}");
        _segIndex++;
        var body = ParseUntil(seg, "endfilter");
        return new FilterBlockNode(line, col, filters, body);
    }

    // ───────────────────────────── token helpers ─────────────────────────────

    private void BeginTag(Segment seg)
    {
        _toks = seg.Tokens;
        _tokIndex = 0;
    }

    private Tok Peek(int ahead = 0) =>
        _tokIndex + ahead < _toks.Count ? _toks[_tokIndex + ahead] : new Tok(TokKind.End, "", null, _toks.Count > 0 ? _toks[^1].Pos : _segs[_segIndex].Pos);

    private Tok Next()
    {
        var t = Peek();
        if (t.Kind != TokKind.End) _tokIndex++;
        return t;
    }

    private bool IsOp(string op, int ahead = 0) => Peek(ahead) is { Kind: TokKind.Op } t && t.Text == op;
    private bool IsName(string name, int ahead = 0) => Peek(ahead) is { Kind: TokKind.Name } t && t.Text == name;

    private bool AcceptOp(string op)
    {
        if (!IsOp(op)) return false;
        _tokIndex++;
        return true;
    }

    private bool AcceptName(string name)
    {
        if (!IsName(name)) return false;
        _tokIndex++;
        return true;
    }

    private void ExpectOp(string op)
    {
        if (!AcceptOp(op)) throw Unexpected($"'{op}'");
    }

    private void ExpectName(string name)
    {
        if (!AcceptName(name)) throw Unexpected($"'{name}'");
    }

    private string ExpectIdentifier()
    {
        var t = Peek();
        if (t.Kind != TokKind.Name) throw Unexpected("a name");
        _tokIndex++;
        return t.Text;
    }

    private void ExpectEnd(string close)
    {
        if (Peek().Kind != TokKind.End) throw Unexpected($"'{close}'");
    }

    private ChatTemplateException Unexpected(string expected)
    {
        var t = Peek();
        return Error(t.Pos, t.Kind == TokKind.End ? $"expected {expected} before the end of the tag" : $"expected {expected}, found '{t.Text}'");
    }

    private (int, int) Pos(Tok t) => LineCol(t.Pos);

    // ───────────────────────────── expressions ─────────────────────────────

    /// <summary>`a, b` without brackets is a tuple (as in `{% set x = 1, 2 %}`).</summary>
    private Expr ParseTupleOrExpression()
    {
        var first = ParseExpression();
        if (!IsOp(",")) return first;
        var items = new List<Expr> { first };
        while (AcceptOp(",") && Peek().Kind != TokKind.End) items.Add(ParseExpression());
        return new ListExpr(first.Line, first.Column, items);
    }

    private Expr ParseExpression()
    {
        var e = ParseOr();
        if (IsName("if"))
        {
            var (l, c) = Pos(Next());
            var cond = ParseOr();
            Expr? otherwise = AcceptName("else") ? ParseExpression() : null;
            return new CondExpr(l, c, cond, e, otherwise);
        }
        return e;
    }

    private Expr ParseOr()
    {
        var e = ParseAnd();
        while (IsName("or"))
        {
            var (l, c) = Pos(Next());
            e = new OrExpr(l, c, e, ParseAnd());
        }
        return e;
    }

    private Expr ParseAnd()
    {
        var e = ParseNot();
        while (IsName("and"))
        {
            var (l, c) = Pos(Next());
            e = new AndExpr(l, c, e, ParseNot());
        }
        return e;
    }

    private Expr ParseNot()
    {
        if (IsName("not") && !IsName("in", 1))
        {
            var (l, c) = Pos(Next());
            return new NotExpr(l, c, ParseNot());
        }
        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        var e = ParseConcat();
        while (true)
        {
            var t = Peek();
            string? op = null;
            if (t.Kind == TokKind.Op && t.Text is "==" or "!=" or "<" or "<=" or ">" or ">=") { op = t.Text; _tokIndex++; }
            else if (IsName("in")) { op = "in"; _tokIndex++; }
            else if (IsName("not") && IsName("in", 1)) { op = "not in"; _tokIndex += 2; }
            if (op is null) return e;
            var (l, c) = Pos(t);
            e = new BinaryExpr(l, c, op, e, ParseConcat());
        }
    }

    private Expr ParseConcat()
    {
        var e = ParseAdd();
        while (IsOp("~"))
        {
            var (l, c) = Pos(Next());
            e = new BinaryExpr(l, c, "~", e, ParseAdd());
        }
        return e;
    }

    private Expr ParseAdd()
    {
        var e = ParseMul();
        while (IsOp("+") || IsOp("-"))
        {
            var t = Next();
            var (l, c) = Pos(t);
            e = new BinaryExpr(l, c, t.Text, e, ParseMul());
        }
        return e;
    }

    private Expr ParseMul()
    {
        var e = ParsePow();
        while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%"))
        {
            var t = Next();
            var (l, c) = Pos(t);
            e = new BinaryExpr(l, c, t.Text, e, ParsePow());
        }
        return e;
    }

    private Expr ParsePow()
    {
        var e = ParseUnary();
        while (IsOp("**"))
        {
            var (l, c) = Pos(Next());
            e = new BinaryExpr(l, c, "**", e, ParseUnary());
        }
        return e;
    }

    private Expr ParseUnary()
    {
        if (IsOp("-") || IsOp("+"))
        {
            var t = Next();
            var (l, c) = Pos(t);
            return ParseFiltersAndTests(new NegExpr(l, c, ParseUnary(), t.Text == "-"));
        }
        return ParseFiltersAndTests(ParsePostfix(ParsePrimary()));
    }

    private Expr ParsePrimary()
    {
        var t = Next();
        var (l, c) = Pos(t);
        switch (t.Kind)
        {
            case TokKind.String:
            {
                // adjacent literals concatenate, as in Python
                var sb = new StringBuilder((string)t.Value!);
                while (Peek().Kind == TokKind.String) sb.Append((string)Next().Value!);
                return new ConstExpr(l, c, sb.ToString());
            }
            case TokKind.Int:
            case TokKind.Float:
                return new ConstExpr(l, c, t.Value);
            case TokKind.Name:
                switch (t.Text)
                {
                    case "true" or "True": return new ConstExpr(l, c, true);
                    case "false" or "False": return new ConstExpr(l, c, false);
                    case "none" or "None" or "null": return new ConstExpr(l, c, null);
                    case "and" or "or" or "not" or "in" or "is" or "if" or "else":
                        throw Error(t.Pos, $"expected a value, found '{t.Text}'");
                }
                return new NameExpr(l, c, t.Text);
            case TokKind.Op when t.Text == "(":
            {
                if (AcceptOp(")")) return new ListExpr(l, c, []);
                var first = ParseExpression();
                if (AcceptOp(")")) return first;
                var items = new List<Expr> { first };
                while (AcceptOp(","))
                {
                    if (IsOp(")")) break;
                    items.Add(ParseExpression());
                }
                ExpectOp(")");
                return new ListExpr(l, c, items);
            }
            case TokKind.Op when t.Text == "[":
            {
                var items = new List<Expr>();
                while (!AcceptOp("]"))
                {
                    items.Add(ParseExpression());
                    if (!AcceptOp(",")) { ExpectOp("]"); break; }
                }
                return new ListExpr(l, c, items);
            }
            case TokKind.Op when t.Text == "{":
            {
                var items = new List<(Expr, Expr)>();
                while (!AcceptOp("}"))
                {
                    var k = ParseExpression();
                    ExpectOp(":");
                    items.Add((k, ParseExpression()));
                    if (!AcceptOp(",")) { ExpectOp("}"); break; }
                }
                return new DictExpr(l, c, items);
            }
        }
        throw Error(t.Pos, t.Kind == TokKind.End ? "expected a value before the end of the tag" : $"expected a value, found '{t.Text}'");
    }

    private Expr ParsePostfix(Expr e)
    {
        while (true)
        {
            if (IsOp("."))
            {
                var dot = Next();
                var (l, c) = Pos(dot);
                var t = Next();
                if (t.Kind == TokKind.Name) e = new GetAttrExpr(l, c, e, t.Text);
                else if (t.Kind == TokKind.Int) e = new GetItemExpr(l, c, e, new ConstExpr(l, c, t.Value));
                else throw Error(t.Pos, "expected an attribute name after '.'");
            }
            else if (IsOp("["))
            {
                var (l, c) = Pos(Next());
                Expr? start = null, stop = null, step = null;
                bool slice = false;
                if (!IsOp(":")) start = ParseExpression();
                if (AcceptOp(":"))
                {
                    slice = true;
                    if (!IsOp("]") && !IsOp(":")) stop = ParseExpression();
                    if (AcceptOp(":") && !IsOp("]")) step = ParseExpression();
                }
                ExpectOp("]");
                e = slice ? new SliceExpr(l, c, e, start, stop, step) : new GetItemExpr(l, c, e, start ?? throw Error(Peek().Pos, "empty subscript"));
            }
            else if (IsOp("("))
            {
                var (l, c) = Pos(Next());
                e = new CallExpr(l, c, e, ParseCallArgs());
            }
            else return e;
        }
    }

    /// <summary>Arguments after '(' up to and including ')'.</summary>
    private List<CallArg> ParseCallArgs()
    {
        var args = new List<CallArg>();
        while (!AcceptOp(")"))
        {
            if (IsOp("*") || IsOp("**")) throw Error(Peek().Pos, "unsupported Jinja construct: '*args'/'**kwargs' in a call");
            if (Peek().Kind == TokKind.Name && IsOp("=", 1))
            {
                string name = Next().Text;
                _tokIndex++;
                args.Add(new CallArg(name, ParseExpression()));
            }
            else args.Add(new CallArg(null, ParseExpression()));
            if (!AcceptOp(",")) { ExpectOp(")"); break; }
        }
        return args;
    }

    private Expr ParseFiltersAndTests(Expr e)
    {
        while (true)
        {
            if (IsOp("|"))
            {
                var (l, c) = Pos(Next());
                e = new FilterExpr(l, c, e, ParseFilterStep());
            }
            else if (IsName("is"))
            {
                var (l, c) = Pos(Next());
                bool negated = AcceptName("not");
                var nameTok = Next();
                string name = nameTok.Kind switch
                {
                    TokKind.Name => nameTok.Text,
                    TokKind.Op when nameTok.Text is "==" or "!=" or "<" or "<=" or ">" or ">=" => nameTok.Text,
                    _ => throw Error(nameTok.Pos, "expected a test name after 'is'"),
                };
                if (name == "none" || name == "None") name = "none";
                if (!JinjaTests.All.TryGetValue(name, out var test)) throw Error(nameTok.Pos, $"unsupported Jinja test '{name}'");
                var args = new List<CallArg>();
                if (AcceptOp("(")) args = ParseCallArgs();
                else if (StartsArgument()) args.Add(new CallArg(null, ParsePostfix(ParsePrimary())));
                e = new TestExpr(l, c, e, name, test, args, negated);
            }
            else return e;
        }
    }

    /// <summary>Whether the token after a test name is its single unparenthesised argument (`x is divisibleby 3`).</summary>
    private bool StartsArgument()
    {
        var t = Peek();
        return t.Kind switch
        {
            TokKind.String or TokKind.Int or TokKind.Float => true,
            TokKind.Name => t.Text is not ("and" or "or" or "else" or "if" or "in" or "is" or "not"),
            TokKind.Op => t.Text is "[" or "{",
            _ => false,
        };
    }

    private FilterStep ParseFilterStep()
    {
        var t = Next();
        if (t.Kind != TokKind.Name) throw Error(t.Pos, "expected a filter name after '|'");
        string name = t.Text;
        // dotted filter names do not exist in Jinja; keep the error precise
        if (!JinjaFilters.All.TryGetValue(name, out var filter)) throw Error(t.Pos, $"unsupported Jinja filter '{name}'");
        var args = AcceptOp("(") ? ParseCallArgs() : [];
        var (l, c) = Pos(t);
        return new FilterStep(name, filter, args, l, c);
    }
}
