using System.Globalization;
using System.Text;

namespace Ingot.Runtime.Chat;

/// <summary>Expressions: precedence climbing from conditional expressions down to primaries, calls, filters and tests.</summary>
internal sealed partial class JinjaParser
{
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
