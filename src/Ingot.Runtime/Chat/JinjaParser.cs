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
internal sealed partial class JinjaParser
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

}
