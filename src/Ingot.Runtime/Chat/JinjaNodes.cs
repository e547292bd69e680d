using System.Text;

namespace Ingot.Runtime.Chat;

// The statement nodes of a parsed template (the expressions are in JinjaAst.cs): each renders into the output.

internal abstract class Node(int line, int column)
{
    public int Line { get; } = line;
    public int Column { get; } = column;

    public abstract Flow Render(StringBuilder output, Scope scope, RenderState state);

    public static Flow RenderAll(List<Node> body, StringBuilder output, Scope scope, RenderState state)
    {
        foreach (var n in body)
        {
            state.Step(n.Line, n.Column);
            var f = n.Render(output, scope, state);
            if (output.Length > RenderState.MaxChars)
                throw new ChatTemplateException($"the template's output passed {RenderState.MaxChars} characters: stopped", n.Line, n.Column);
            if (f != Flow.Normal) return f;
        }
        return Flow.Normal;
    }
}

internal sealed class TextNode(int line, int column, string text) : Node(line, column)
{
    public string Text { get; } = text;
    public override Flow Render(StringBuilder output, Scope scope, RenderState state)
    {
        output.Append(Text);
        return Flow.Normal;
    }
}

internal sealed class OutputNode(int line, int column, Expr expr) : Node(line, column)
{
    public override Flow Render(StringBuilder output, Scope scope, RenderState state)
    {
        output.Append(JinjaValue.ToOutput(expr.EvalChecked(scope, state)));
        return Flow.Normal;
    }
}

internal sealed class IfNode(int line, int column, List<(Expr? Condition, List<Node> Body)> branches) : Node(line, column)
{
    public override Flow Render(StringBuilder output, Scope scope, RenderState state)
    {
        foreach (var (cond, body) in branches)
            if (cond is null || JinjaValue.IsTrue(cond.EvalChecked(scope, state)))
                return RenderAll(body, output, scope, state);
        return Flow.Normal;
    }
}

internal sealed class ForNode(int line, int column, List<string> targets, Expr iterable, Expr? filter, List<Node> body, List<Node>? elseBody)
    : Node(line, column)
{
    public override Flow Render(StringBuilder output, Scope scope, RenderState state)
    {
        var source = iterable.EvalChecked(scope, state);
        List<object?> all;
        try { all = JinjaValue.Iterate(source).ToList(); }
        catch (JinjaError e) { throw new ChatTemplateException(e.Message, Line, Column); }

        var loopScope = new Scope(scope);
        List<object?> items;
        if (filter is null) items = all;
        else
        {
            // `for x in xs if cond`: the condition sees the loop variables; loop.* counts only the kept items.
            items = [];
            foreach (var item in all)
            {
                Assign(loopScope, item);
                if (JinjaValue.IsTrue(filter.EvalChecked(loopScope, state))) items.Add(item);
            }
        }
        if (items.Count == 0)
            return elseBody is null ? Flow.Normal : RenderAll(elseBody, output, scope, state);

        var loop = new JinjaDict();
        int cycleIndex = 0;
        loop["cycle"] = new JinjaCallable("loop.cycle", a =>
        {
            if (a.Positional.Count == 0) throw new JinjaError("loop.cycle() needs at least one argument");
            var v = a.Positional[cycleIndex % a.Positional.Count];
            cycleIndex++;
            return v;
        });
        loopScope.Set("loop", loop);
        int n = items.Count;
        for (int i = 0; i < n; i++)
        {
            Assign(loopScope, items[i]);
            loop["index"] = (long)i + 1;
            loop["index0"] = (long)i;
            loop["revindex"] = (long)(n - i);
            loop["revindex0"] = (long)(n - i - 1);
            loop["first"] = i == 0;
            loop["last"] = i == n - 1;
            loop["length"] = (long)n;
            loop["depth"] = 1L;
            loop["depth0"] = 0L;
            loop["previtem"] = i > 0 ? items[i - 1] : null;
            loop["nextitem"] = i < n - 1 ? items[i + 1] : null;
            cycleIndex = i;
            state.Step(Line, Column); // an empty body still counts its iterations
            var f = RenderAll(body, output, loopScope, state);
            if (f == Flow.Break) break;
        }
        return Flow.Normal;
    }

    private void Assign(Scope scope, object? item)
    {
        if (targets.Count == 1) { scope.Set(targets[0], item); return; }
        var parts = item switch
        {
            JinjaList l => (IReadOnlyList<object?>)l,
            string s => JinjaValue.Chars(s),
            _ => throw new ChatTemplateException($"cannot unpack a {JinjaValue.TypeName(item)} into {targets.Count} loop variables", Line, Column),
        };
        if (parts.Count != targets.Count)
            throw new ChatTemplateException($"cannot unpack {parts.Count} values into {targets.Count} loop variables", Line, Column);
        for (int i = 0; i < targets.Count; i++) scope.Set(targets[i], parts[i]);
    }
}

internal sealed class SetNode(int line, int column, List<string> targets, Expr value) : Node(line, column)
{
    public override Flow Render(StringBuilder output, Scope scope, RenderState state)
    {
        var v = value.EvalChecked(scope, state);
        if (targets.Count == 1) { scope.Set(targets[0], v); return Flow.Normal; }
        if (v is not JinjaList l || l.Count != targets.Count)
            throw new ChatTemplateException($"cannot unpack a {JinjaValue.TypeName(v)} into {targets.Count} variables", Line, Column);
        for (int i = 0; i < targets.Count; i++) scope.Set(targets[i], l[i]);
        return Flow.Normal;
    }
}

/// <summary><c>{% set ns.attr = value %}</c>: writes into a namespace (a dict) found by name in any enclosing scope.</summary>
internal sealed class SetAttrNode(int line, int column, string target, string attribute, Expr value) : Node(line, column)
{
    public override Flow Render(StringBuilder output, Scope scope, RenderState state)
    {
        if (!scope.TryGet(target, out var ns) || ns is not JinjaDict d)
            throw new ChatTemplateException($"cannot assign attribute '{attribute}': '{target}' is not a namespace", Line, Column);
        d[attribute] = value.EvalChecked(scope, state);
        return Flow.Normal;
    }
}

/// <summary><c>{% set x %}…{% endset %}</c>, optionally <c>{% set x | filter %}</c>.</summary>
internal sealed class SetBlockNode(int line, int column, string target, List<FilterStep> filters, List<Node> body) : Node(line, column)
{
    public override Flow Render(StringBuilder output, Scope scope, RenderState state)
    {
        var sb = new StringBuilder();
        RenderAll(body, sb, scope, state);
        object? v = sb.ToString();
        foreach (var f in filters) v = f.Apply(v, scope, state);
        scope.Set(target, v);
        return Flow.Normal;
    }
}

/// <summary><c>{% filter name %}…{% endfilter %}</c>: renders the body, then applies the filter chain.</summary>
internal sealed class FilterBlockNode(int line, int column, List<FilterStep> filters, List<Node> body) : Node(line, column)
{
    public override Flow Render(StringBuilder output, Scope scope, RenderState state)
    {
        var sb = new StringBuilder();
        RenderAll(body, sb, scope, state);
        object? v = sb.ToString();
        foreach (var f in filters) v = f.Apply(v, scope, state);
        output.Append(JinjaValue.ToOutput(v));
        return Flow.Normal;
    }
}

internal sealed class MacroNode(int line, int column, string name, List<(string Name, Expr? Default)> parameters, List<Node> body) : Node(line, column)
{
    public override Flow Render(StringBuilder output, Scope scope, RenderState state)
    {
        var defining = scope;
        scope.Set(name, new JinjaCallable(name, args => Invoke(defining, state, args)));
        return Flow.Normal;
    }

    private string Invoke(Scope defining, RenderState state, JinjaArgs args)
    {
        if (args.Positional.Count > parameters.Count)
            throw new JinjaError($"macro '{name}' takes {parameters.Count} argument(s), got {args.Positional.Count}");
        // Each call gets its own scope below the scope the macro was defined in (Jinja semantics).
        var callScope = new Scope(defining);
        var given = new bool[parameters.Count];
        for (int i = 0; i < args.Positional.Count; i++)
        {
            callScope.Set(parameters[i].Name, args.Positional[i]);
            given[i] = true;
        }
        foreach (var kv in args.Named)
        {
            int i = parameters.FindIndex(p => p.Name == kv.Key);
            if (i < 0) throw new JinjaError($"macro '{name}' has no parameter '{kv.Key}'");
            callScope.Set(kv.Key, kv.Value);
            given[i] = true;
        }
        for (int i = 0; i < parameters.Count; i++)
            if (!given[i]) callScope.Set(parameters[i].Name, parameters[i].Default?.EvalChecked(callScope, state));
        if (++state.MacroDepth > RenderState.MaxMacroDepth)
            throw new ChatTemplateException($"macro '{name}' recursed deeper than {RenderState.MaxMacroDepth} calls", Line, Column);
        try
        {
            var sb = new StringBuilder();
            RenderAll(body, sb, callScope, state);
            return sb.ToString();
        }
        finally { state.MacroDepth--; }
    }
}

internal sealed class LoopControlNode(int line, int column, bool isBreak) : Node(line, column)
{
    public override Flow Render(StringBuilder output, Scope scope, RenderState state) => isBreak ? Flow.Break : Flow.Continue;
}
