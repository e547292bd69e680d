namespace Ingot.Runtime.Grammars;

/// <summary>
/// A parsed GBNF grammar (llama.cpp's syntax, <see cref="GbnfParser"/>): named rules of alternatives of sequences. The
/// tree keeps the repetitions as written (<see cref="Repeat"/>); <see cref="GrammarMatcher"/> works on it directly.
/// Characters are Unicode code points (the text is UTF-8 decoded), as llama.cpp's grammars match them.
/// </summary>
public sealed class Grammar
{
    internal Grammar(IReadOnlyList<Rule> rules, int root)
    {
        Rules = rules;
        Root = root;
    }

    /// <summary>Every rule, in definition order; references point into this list.</summary>
    public IReadOnlyList<Rule> Rules { get; }

    /// <summary>The index of the rule named "root".</summary>
    public int Root { get; }

    public int RuleIndex(string name)
    {
        for (int i = 0; i < Rules.Count; i++) if (Rules[i].Name == name) return i;
        return -1;
    }

    public static Grammar Parse(string text) => GbnfParser.Parse(text);
}

/// <summary>One rule: name ::= body.</summary>
public sealed record Rule(string Name, Node Body);

/// <summary>A node of a rule body.</summary>
public abstract record Node;

/// <summary>a | b | …</summary>
public sealed record Choice(IReadOnlyList<Node> Alternatives) : Node;

/// <summary>a b … (empty: matches the empty string).</summary>
public sealed record Sequence(IReadOnlyList<Node> Items) : Node;

/// <summary>
/// A set of code points: ranges (inclusive) or, <see cref="Negated"/>, everything outside them. "x" literals are
/// sequences of single-point sets; '.' is the negated empty set (any code point).
/// </summary>
public sealed record CharSet(IReadOnlyList<(int First, int Last)> Ranges, bool Negated) : Node
{
    public bool Contains(int c)
    {
        bool inside = false;
        foreach (var (first, last) in Ranges)
            if (c >= first && c <= last) { inside = true; break; }
        return inside != Negated;
    }

    public static CharSet Single(int c) => new([(c, c)], false);

    public static CharSet Any { get; } = new([], true);
}

/// <summary>A reference to rule <see cref="Index"/>.</summary>
public sealed record RuleRef(int Index, string Name) : Node;

/// <summary>x{Min,Max}; Max = -1: unbounded (x* is {0,}, x+ is {1,}, x? is {0,1}).</summary>
public sealed record Repeat(Node Item, int Min, int Max) : Node;

/// <summary>A GBNF syntax error: the message names the line and column (1-based).</summary>
public sealed class GrammarException(string message) : Exception(message);
