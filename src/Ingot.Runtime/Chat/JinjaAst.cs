using System.Text;

namespace Ingot.Runtime.Chat;

/// <summary>
/// A variable scope. The template's globals are the root; a for loop and a macro call each open a child scope, so
/// <c>{% set %}</c> inside them does not leak out (which is why templates use <c>namespace()</c>).
/// </summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> _vars = new(StringComparer.Ordinal);

    public Scope? Parent => parent;

    public bool TryGet(string name, out object? value)
    {
        for (var s = this; s != null; s = s.Parent)
            if (s._vars.TryGetValue(name, out value)) return true;
        value = null;
        return false;
    }

    public void Set(string name, object? value) => _vars[name] = value;
}

/// <summary>Per-render state shared by every node.</summary>
/// <summary>
/// One render's bounds, so a template can neither hang nor exhaust memory (a chat server renders whatever template a
/// file brings): macro recursion depth, statements and loop iterations run (a few seconds' worth at most), and the
/// length of the output and of any string built. Past one, the render stops with a ChatTemplateException.
/// </summary>
internal sealed class RenderState
{
    public int MacroDepth;
    public const int MaxMacroDepth = 200;

    public long Steps;
    public const long MaxSteps = 2_000_000;
    public const int MaxChars = 16 << 20;

    /// <summary>Counts one statement or loop iteration at (<paramref name="line"/>, <paramref name="column"/>).</summary>
    public void Step(int line, int column)
    {
        if (++Steps > MaxSteps)
            throw new ChatTemplateException($"the template ran more than {MaxSteps} statements and loop iterations: stopped (a loop without end?)", line, column);
    }
}

internal enum Flow { Normal, Break, Continue }

// ───────────────────────────── expressions ─────────────────────────────

internal abstract class Expr(int line, int column)
{
    public int Line { get; } = line;
    public int Column { get; } = column;

    public abstract object? Eval(Scope scope, RenderState state);

    /// <summary>Evaluates, turning builtin errors and stray .NET exceptions into a positioned ChatTemplateException.</summary>
    public object? EvalChecked(Scope scope, RenderState state)
    {
        try { return Eval(scope, state); }
        catch (ChatTemplateException) { throw; }
        catch (Exception e) when (e is JinjaError or InvalidCastException or ArgumentException or OverflowException
                                      or DivideByZeroException or FormatException or IndexOutOfRangeException)
        {
            throw new ChatTemplateException(e.Message, Line, Column, inner: e);
        }
    }

    protected ChatTemplateException Error(string message) => new(message, Line, Column);
}

internal sealed class ConstExpr(int line, int column, object? value) : Expr(line, column)
{
    public object? Value { get; } = value;
    public override object? Eval(Scope scope, RenderState state) => Value;
}

internal sealed class NameExpr(int line, int column, string name) : Expr(line, column)
{
    public string Name { get; } = name;
    public override object? Eval(Scope scope, RenderState state) => scope.TryGet(Name, out var v) ? v : null;
}

internal sealed class GetAttrExpr(int line, int column, Expr target, string name) : Expr(line, column)
{
    public Expr Target { get; } = target;
    public string Name { get; } = name;

    public override object? Eval(Scope scope, RenderState state)
    {
        var obj = Target.EvalChecked(scope, state);
        return obj switch
        {
            // minja: reading a property of None/undefined is an error (Jinja's Undefined would also raise on use)
            null => throw Error($"cannot read '{Name}' of {Describe(Target)}, which is undefined or none"),
            JinjaDict d => d[Name],
            _ => null,
        };
    }

    internal static string Describe(Expr e) => e switch
    {
        NameExpr n => $"'{n.Name}'",
        GetAttrExpr a => $"'{DescribePath(a)}'",
        _ => "a value",
    };

    private static string DescribePath(Expr e) => e switch
    {
        NameExpr n => n.Name,
        GetAttrExpr a => DescribePath(a.Target) + "." + a.Name,
        _ => "…",
    };
}

internal sealed class GetItemExpr(int line, int column, Expr target, Expr index) : Expr(line, column)
{
    public override object? Eval(Scope scope, RenderState state)
    {
        var obj = target.EvalChecked(scope, state);
        var key = index.EvalChecked(scope, state);
        switch (obj)
        {
            case null: throw Error($"cannot subscript {GetAttrExpr.Describe(target)}, which is undefined or none");
            case JinjaDict d: return key is null ? null : d[key];
            case JinjaList l:
                if (key is not long i) return null;
                if (i < 0) i += l.Count;
                return i >= 0 && i < l.Count ? l[(int)i] : null;
            case string s:
                if (key is not long j) return null;
                var chars = JinjaValue.Chars(s);
                if (j < 0) j += chars.Count;
                return j >= 0 && j < chars.Count ? chars[(int)j] : null;
            default: return null;
        }
    }
}

internal sealed class SliceExpr(int line, int column, Expr target, Expr? start, Expr? stop, Expr? step) : Expr(line, column)
{
    public override object? Eval(Scope scope, RenderState state)
    {
        var obj = target.EvalChecked(scope, state);
        long? Bound(Expr? e)
        {
            var v = e?.EvalChecked(scope, state);
            return v switch { null => null, long n => n, _ => throw Error("slice indices must be integers") };
        }
        long? a = Bound(start), b = Bound(stop), c = Bound(step);
        long st = c ?? 1;
        if (st == 0) throw Error("slice step cannot be zero");
        IReadOnlyList<object?> items = obj switch
        {
            JinjaList l => l,
            string s => JinjaValue.Chars(s),
            null => throw Error($"cannot slice {GetAttrExpr.Describe(target)}, which is undefined or none"),
            _ => throw Error($"cannot slice a {JinjaValue.TypeName(obj)}"),
        };
        var picked = new JinjaList();
        foreach (int i in SliceIndices(items.Count, a, b, st)) picked.Add(items[i]);
        if (obj is string)
        {
            var sb = new StringBuilder();
            foreach (var x in picked) sb.Append((string)x!);
            return sb.ToString();
        }
        return picked;
    }

    /// <summary>Python's slice.indices.</summary>
    private static IEnumerable<int> SliceIndices(int n, long? start, long? stop, long step)
    {
        long lo, hi;
        if (step > 0)
        {
            lo = start is { } s ? (s < 0 ? Math.Max(0, s + n) : Math.Min(s, n)) : 0;
            hi = stop is { } e ? (e < 0 ? Math.Max(0, e + n) : Math.Min(e, n)) : n;
            for (long i = lo; i < hi; i += step) yield return (int)i;
        }
        else
        {
            lo = start is { } s ? (s < 0 ? Math.Max(-1, s + n) : Math.Min(s, n - 1)) : n - 1;
            hi = stop is { } e ? (e < 0 ? Math.Max(-1, e + n) : Math.Min(e, n - 1)) : -1;
            for (long i = lo; i > hi; i += step) yield return (int)i;
        }
    }
}

internal sealed class CallArg(string? name, Expr value)
{
    public string? Name { get; } = name;
    public Expr Value { get; } = value;
}

internal static class CallArgs
{
    public static JinjaArgs Eval(List<CallArg> args, Scope scope, RenderState state, object? first = null, bool hasFirst = false)
    {
        var result = new JinjaArgs();
        if (hasFirst) result.Positional.Add(first);
        foreach (var a in args)
        {
            var v = a.Value.EvalChecked(scope, state);
            if (a.Name is null) result.Positional.Add(v);
            else result.Named.Add(new(a.Name, v));
        }
        return result;
    }
}

internal sealed class CallExpr(int line, int column, Expr callee, List<CallArg> args) : Expr(line, column)
{
    public override object? Eval(Scope scope, RenderState state)
    {
        if (callee is GetAttrExpr attr)
        {
            // obj.method(...): a callable stored in a dict (loop.cycle, a namespace's function), else a builtin method.
            var obj = attr.Target.EvalChecked(scope, state);
            if (obj is null) throw Error($"cannot call '{attr.Name}' on {GetAttrExpr.Describe(attr.Target)}, which is undefined or none");
            var margs = CallArgs.Eval(args, scope, state);
            if (obj is JinjaDict d && d[attr.Name] is JinjaCallable member) return member.Invoke(margs);
            return JinjaMethods.Call(obj, attr.Name, margs);
        }
        var fn = callee.EvalChecked(scope, state);
        if (fn is not JinjaCallable c)
            throw Error(fn is null ? $"{GetAttrExpr.Describe(callee)} is undefined and cannot be called" : $"a {JinjaValue.TypeName(fn)} is not callable");
        return c.Invoke(CallArgs.Eval(args, scope, state));
    }
}

/// <summary>One <c>|name(args)</c> step of a filter chain.</summary>
internal sealed class FilterStep(string name, JinjaFilter filter, List<CallArg> args, int line, int column)
{
    public string Name { get; } = name;

    public object? Apply(object? value, Scope scope, RenderState state)
    {
        try { return filter(value, CallArgs.Eval(args, scope, state), state); }
        catch (ChatTemplateException) { throw; }
        catch (Exception e) when (e is JinjaError or InvalidCastException or ArgumentException or OverflowException or FormatException)
        {
            throw new ChatTemplateException($"filter '{Name}': {e.Message}", line, column, inner: e);
        }
    }
}

internal sealed class FilterExpr(int line, int column, Expr value, FilterStep step) : Expr(line, column)
{
    public override object? Eval(Scope scope, RenderState state) => step.Apply(value.EvalChecked(scope, state), scope, state);
}

internal sealed class TestExpr(int line, int column, Expr value, string name, JinjaTest test, List<CallArg> args, bool negated) : Expr(line, column)
{
    public override object? Eval(Scope scope, RenderState state)
    {
        var v = value.EvalChecked(scope, state);
        bool r;
        try { r = test(v, CallArgs.Eval(args, scope, state)); }
        catch (JinjaError e) { throw Error($"test '{name}': {e.Message}"); }
        return r != negated;
    }
}

internal sealed class NotExpr(int line, int column, Expr operand) : Expr(line, column)
{
    public override object? Eval(Scope scope, RenderState state) => !JinjaValue.IsTrue(operand.EvalChecked(scope, state));
}

internal sealed class NegExpr(int line, int column, Expr operand, bool minus) : Expr(line, column)
{
    public override object? Eval(Scope scope, RenderState state)
    {
        var v = operand.EvalChecked(scope, state);
        if (!minus) return v is long or double ? v : throw Error($"bad operand type for unary +: '{JinjaValue.TypeName(v)}'");
        return v switch
        {
            long n => (object)checked(-n),
            double d => (object)(-d),
            _ => throw Error($"bad operand type for unary -: '{JinjaValue.TypeName(v)}'"),
        };
    }
}

internal sealed class AndExpr(int line, int column, Expr left, Expr right) : Expr(line, column)
{
    public override object? Eval(Scope scope, RenderState state)
    {
        var l = left.EvalChecked(scope, state);
        return JinjaValue.IsTrue(l) ? right.EvalChecked(scope, state) : l;
    }
}

internal sealed class OrExpr(int line, int column, Expr left, Expr right) : Expr(line, column)
{
    public override object? Eval(Scope scope, RenderState state)
    {
        var l = left.EvalChecked(scope, state);
        return JinjaValue.IsTrue(l) ? l : right.EvalChecked(scope, state);
    }
}

internal sealed class CondExpr(int line, int column, Expr condition, Expr then, Expr? otherwise) : Expr(line, column)
{
    public override object? Eval(Scope scope, RenderState state) =>
        JinjaValue.IsTrue(condition.EvalChecked(scope, state)) ? then.EvalChecked(scope, state) : otherwise?.EvalChecked(scope, state);
}

internal sealed class ListExpr(int line, int column, List<Expr> items) : Expr(line, column)
{
    public override object? Eval(Scope scope, RenderState state)
    {
        var l = new JinjaList();
        foreach (var e in items) l.Add(e.EvalChecked(scope, state));
        return l;
    }
}

internal sealed class DictExpr(int line, int column, List<(Expr Key, Expr Value)> items) : Expr(line, column)
{
    public override object? Eval(Scope scope, RenderState state)
    {
        var d = new JinjaDict();
        foreach (var (k, v) in items)
        {
            var key = k.EvalChecked(scope, state);
            if (key is null or JinjaList or JinjaDict or JinjaCallable) throw Error($"unhashable dict key of type '{JinjaValue.TypeName(key)}'");
            d[key] = v.EvalChecked(scope, state);
        }
        return d;
    }
}

internal sealed class BinaryExpr(int line, int column, string op, Expr left, Expr right) : Expr(line, column)
{
    public override object? Eval(Scope scope, RenderState state)
    {
        var l = left.EvalChecked(scope, state);
        var r = right.EvalChecked(scope, state);
        return JinjaOps.Binary(op, l, r);
    }
}

internal static class JinjaOps
{
    /// <summary>a + b, refused past RenderState.MaxChars (a string doubled in a loop would otherwise exhaust memory).</summary>
    private static string Concat(string a, string b) =>
        (long)a.Length + b.Length > RenderState.MaxChars ? throw new JinjaError($"a string longer than {RenderState.MaxChars} characters: stopped") : a + b;

    public static object? Binary(string op, object? l, object? r)
    {
        switch (op)
        {
            case "~": return Concat(JinjaValue.ToStr(l), JinjaValue.ToStr(r));
            case "==": return JinjaValue.Equals(l, r);
            case "!=": return !JinjaValue.Equals(l, r);
            case "<": return JinjaValue.Compare(l, r) < 0;
            case "<=": return JinjaValue.Compare(l, r) <= 0;
            case ">": return JinjaValue.Compare(l, r) > 0;
            case ">=": return JinjaValue.Compare(l, r) >= 0;
            case "in": return In(l, r);
            case "not in": return !In(l, r);
            case "+":
                // minja: a string on either side concatenates str() of both (Python would raise).
                if (l is string || r is string) return Concat(JinjaValue.ToStr(l), JinjaValue.ToStr(r));
                if (l is JinjaList a && r is JinjaList b) { var c = new JinjaList(a); c.AddRange(b); return c; }
                return Arith(op, l, r);
            case "*":
                if (l is string s && r is long n) return Repeat(s, n);
                if (l is long n2 && r is string s2) return Repeat(s2, n2);
                if (l is JinjaList la && r is long k)
                {
                    if (la.Count * (double)k > 1_000_000) throw new JinjaError("a list longer than 1000000 items: stopped");
                    var res = new JinjaList();
                    for (long i = 0; i < k; i++) res.AddRange(la);
                    return res;
                }
                return Arith(op, l, r);
            default: return Arith(op, l, r);
        }
    }

    private static string Repeat(string s, long n)
    {
        if (n <= 0) return "";
        if (s.Length * (double)n > RenderState.MaxChars) throw new JinjaError($"a string longer than {RenderState.MaxChars} characters: stopped");
        var sb = new StringBuilder();
        for (long i = 0; i < n; i++) sb.Append(s);
        return sb.ToString();
    }

    private static object Arith(string op, object? l, object? r)
    {
        if (l is bool bl) l = bl ? 1L : 0L;
        if (r is bool br) r = br ? 1L : 0L;
        if (!JinjaValue.IsNumber(l) || !JinjaValue.IsNumber(r))
            throw new JinjaError($"unsupported operand types for {op}: '{JinjaValue.TypeName(l)}' and '{JinjaValue.TypeName(r)}'");
        if (l is long x && r is long y)
        {
            switch (op)
            {
                case "+": return checked(x + y);
                case "-": return checked(x - y);
                case "*": return checked(x * y);
                case "/": if (y == 0) throw new JinjaError("division by zero"); return (double)x / y;
                case "//": if (y == 0) throw new JinjaError("integer division by zero"); return FloorDiv(x, y);
                case "%": if (y == 0) throw new JinjaError("integer modulo by zero"); return x - FloorDiv(x, y) * y;
                case "**":
                    if (y < 0) return Math.Pow(x, y);
                    long p = 1;
                    for (long i = 0; i < y; i++) p = checked(p * x);
                    return p;
            }
        }
        double a = JinjaValue.ToDouble(l), b = JinjaValue.ToDouble(r);
        switch (op)
        {
            case "+": return a + b;
            case "-": return a - b;
            case "*": return a * b;
            case "/": if (b == 0) throw new JinjaError("float division by zero"); return a / b;
            case "//": if (b == 0) throw new JinjaError("float floor division by zero"); return Math.Floor(a / b);
            case "%": if (b == 0) throw new JinjaError("float modulo"); return a - Math.Floor(a / b) * b;
            case "**": return Math.Pow(a, b);
        }
        throw new JinjaError($"unknown operator {op}");
    }

    private static long FloorDiv(long x, long y)
    {
        long q = x / y;
        if ((x % y != 0) && ((x < 0) != (y < 0))) q--;
        return q;
    }

    /// <summary>Python <c>in</c>: substring, list membership, dict key. <c>x in none</c> is false (minja).</summary>
    public static bool In(object? item, object? container) => container switch
    {
        null => false,
        string s => item is string t ? s.Contains(t, StringComparison.Ordinal) : throw new JinjaError($"'in <string>' requires string as left operand, not {JinjaValue.TypeName(item)}"),
        JinjaList l => l.Any(x => JinjaValue.Equals(x, item)),
        JinjaDict d => item is not null && d.ContainsKey(item),
        _ => throw new JinjaError($"argument of type '{JinjaValue.TypeName(container)}' is not iterable"),
    };
}
