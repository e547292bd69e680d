using System.Globalization;

namespace Ingot.Runtime.Grammars;

/// <summary>
/// llama.cpp's GBNF: <c>name ::= alternatives</c>, one rule per line (a rule continues on the next lines only inside
/// parentheses, or right after <c>::=</c> or <c>|</c>). Items: "literal" (escapes \n \r \t \\ \" \[ \] \xHH \uHHHH
/// \UHHHHHHHH), [class] with ranges and ^ negation, . (any character), rule names (letters, digits, '-'), ( groups ),
/// each optionally followed by * + ? {m} {m,} {m,n}; # starts a comment to the end of the line. Rules may be used
/// before they are defined; a rule named root is required. Errors are <see cref="GrammarException"/>s naming the line
/// and column.
/// </summary>
internal sealed class GbnfParser
{
    private readonly string _s;
    private int _pos;
    private readonly List<(string Name, Node? Body, int Line, int Column)> _rules = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly List<(string Name, int Line, int Column)> _uses = [];

    private GbnfParser(string text) => _s = text;

    public static Grammar Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var p = new GbnfParser(text);
        p.SkipSpace(newlines: true);
        while (p._pos < p._s.Length)
        {
            p.ParseRule();
            p.SkipSpace(newlines: true);
        }
        foreach (var (name, line, column) in p._uses)
            if (p._rules[p._index[name]].Body is null) throw new GrammarException($"line {line}, column {column}: undefined rule '{name}'");
        if (!p._index.TryGetValue("root", out int root) || p._rules[root].Body is null)
            throw new GrammarException("the grammar has no rule named 'root'");
        var rules = p._rules.Select(r => new Rule(r.Name, r.Body!)).ToList();
        CheckLeftRecursion(rules);
        return new Grammar(rules, root);
    }

    private GrammarException Error(string what, int? at = null)
    {
        var (line, column) = Where(at ?? _pos);
        return new GrammarException($"line {line}, column {column}: {what}");
    }

    private (int Line, int Column) Where(int at)
    {
        int line = 1, column = 1;
        for (int i = 0; i < at && i < _s.Length; i++)
        {
            if (_s[i] == '\n') { line++; column = 1; }
            else column++;
        }
        return (line, column);
    }

    private void SkipSpace(bool newlines)
    {
        while (_pos < _s.Length)
        {
            char c = _s[_pos];
            if (c == ' ' || c == '\t') _pos++;
            else if (c == '#') { while (_pos < _s.Length && _s[_pos] != '\n' && _s[_pos] != '\r') _pos++; }
            else if (newlines && (c == '\n' || c == '\r')) _pos++;
            else break;
        }
    }

    private static bool IsNameChar(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-';

    private string ParseName()
    {
        int start = _pos;
        while (_pos < _s.Length && IsNameChar(_s[_pos])) _pos++;
        if (_pos == start) throw Error(_pos < _s.Length ? $"expected a rule name, found '{_s[_pos]}'" : "expected a rule name, found the end");
        return _s[start.._pos];
    }

    private int Declare(string name)
    {
        if (_index.TryGetValue(name, out int i)) return i;
        _rules.Add((name, null, 0, 0));
        _index[name] = _rules.Count - 1;
        return _rules.Count - 1;
    }

    private void ParseRule()
    {
        var (line, column) = Where(_pos);
        string name = ParseName();
        SkipSpace(newlines: false);
        if (string.CompareOrdinal(_s, _pos, "::=", 0, 3) != 0) throw Error($"expected '::=' after rule name '{name}'");
        _pos += 3;
        SkipSpace(newlines: true);
        int index = Declare(name);
        if (_rules[index].Body is not null) throw new GrammarException($"line {line}, column {column}: rule '{name}' is defined twice");
        var body = ParseAlternatives(nested: false);
        _rules[index] = (name, body, line, column);
        if (_pos < _s.Length && _s[_pos] != '\n' && _s[_pos] != '\r')
            throw Error($"expected the end of the line after rule '{name}', found '{_s[_pos]}'");
    }

    private Node ParseAlternatives(bool nested)
    {
        var alternatives = new List<Node> { ParseSequence(nested) };
        while (_pos < _s.Length && _s[_pos] == '|')
        {
            _pos++;
            SkipSpace(newlines: true);
            alternatives.Add(ParseSequence(nested));
        }
        return alternatives.Count == 1 ? alternatives[0] : new Choice(alternatives);
    }

    private Node ParseSequence(bool nested)
    {
        var items = new List<Node>();
        while (_pos < _s.Length)
        {
            char c = _s[_pos];
            Node? item = null;
            int start = _pos;
            if (c == '"') item = ParseLiteral();
            else if (c == '[') item = ParseClass();
            else if (c == '.') { _pos++; item = CharSet.Any; }
            else if (c == '(')
            {
                _pos++;
                SkipSpace(newlines: true);
                item = ParseAlternatives(nested: true);
                if (_pos >= _s.Length || _s[_pos] != ')') throw Error("expected ')' to close the group", _pos);
                _pos++;
            }
            else if (IsNameChar(c))
            {
                var (line, column) = Where(_pos);
                string name = ParseName();
                if (Peek("::=")) throw Error($"expected the end of the line before rule '{name}' (a rule per line; continue inside parentheses)", start);
                _uses.Add((name, line, column));
                item = new RuleRef(Declare(name), name);
            }
            else break;
            SkipSpace(nested);
            item = ParseRepetition(item, start, nested);
            items.Add(item);
        }
        return items.Count == 1 ? items[0] : new Sequence(items);
    }

    private bool Peek(string token)
    {
        int p = _pos;
        while (p < _s.Length && (_s[p] == ' ' || _s[p] == '\t')) p++;
        return string.CompareOrdinal(_s, p, token, 0, token.Length) == 0;
    }

    private Node ParseRepetition(Node item, int start, bool nested)
    {
        while (_pos < _s.Length)
        {
            char c = _s[_pos];
            if (c is '*' or '+' or '?')
            {
                _pos++;
                item = new Repeat(item, c == '+' ? 1 : 0, c == '?' ? 1 : -1);
            }
            else if (c == '{')
            {
                _pos++;
                SkipSpace(nested);
                int min = ParseInt(), max = min;
                SkipSpace(nested);
                if (_pos < _s.Length && _s[_pos] == ',')
                {
                    _pos++;
                    SkipSpace(nested);
                    max = _pos < _s.Length && char.IsAsciiDigit(_s[_pos]) ? ParseInt() : -1;
                    SkipSpace(nested);
                }
                if (_pos >= _s.Length || _s[_pos] != '}') throw Error("expected '}' to close the repetition");
                _pos++;
                if (max != -1 && max < min) throw Error($"repetition {{{min},{max}}}: the maximum is below the minimum", start);
                item = new Repeat(item, min, max);
            }
            else break;
            SkipSpace(nested);
        }
        return item;
    }

    private int ParseInt()
    {
        int start = _pos;
        while (_pos < _s.Length && char.IsAsciiDigit(_s[_pos])) _pos++;
        if (_pos == start) throw Error("expected a number");
        if (!int.TryParse(_s.AsSpan(start, _pos - start), NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n > 100_000)
            throw Error("repetition count too large (at most 100000)", start);
        return n;
    }

    private Node ParseLiteral()
    {
        int open = _pos++;
        var items = new List<Node>();
        while (true)
        {
            if (_pos >= _s.Length || _s[_pos] == '\n') throw Error("unterminated string literal", open);
            if (_s[_pos] == '"') { _pos++; break; }
            items.Add(CharSet.Single(ParseChar()));
        }
        return items.Count == 1 ? items[0] : new Sequence(items);
    }

    private Node ParseClass()
    {
        int open = _pos++;
        bool negated = _pos < _s.Length && _s[_pos] == '^';
        if (negated) _pos++;
        var ranges = new List<(int, int)>();
        while (true)
        {
            if (_pos >= _s.Length || _s[_pos] == '\n') throw Error("unterminated character class", open);
            if (_s[_pos] == ']') { _pos++; break; }
            int first = ParseChar(), last = first;
            if (_pos + 1 < _s.Length && _s[_pos] == '-' && _s[_pos + 1] != ']')
            {
                _pos++;
                last = ParseChar();
                if (last < first) throw Error($"character range {Show(first)}-{Show(last)} runs backwards");
            }
            ranges.Add((first, last));
        }
        return new CharSet(ranges, negated);
    }

    private static string Show(int c) => c is >= 0x20 and < 0x7F ? ((char)c).ToString() : $"U+{c:X4}";

    /// <summary>One (possibly escaped) code point of a literal or a class.</summary>
    private int ParseChar()
    {
        char c = _s[_pos];
        if (c != '\\')
        {
            if (char.IsHighSurrogate(c) && _pos + 1 < _s.Length && char.IsLowSurrogate(_s[_pos + 1]))
            {
                int cp = char.ConvertToUtf32(c, _s[_pos + 1]);
                _pos += 2;
                return cp;
            }
            _pos++;
            return c;
        }
        int at = _pos;
        if (_pos + 1 >= _s.Length) throw Error("a backslash at the end of the text");
        char e = _s[_pos + 1];
        _pos += 2;
        switch (e)
        {
            case 'n': return '\n';
            case 'r': return '\r';
            case 't': return '\t';
            case '\\': case '"': case '[': case ']': case '-': case '^': case '\'': return e;
            case 'x': return Hex(2, at);
            case 'u': return Hex(4, at);
            case 'U': return Hex(8, at);
            default: throw Error($"unknown escape '\\{e}'", at);
        }
    }

    private int Hex(int digits, int at)
    {
        if (_pos + digits > _s.Length || !int.TryParse(_s.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int v) || v > 0x10FFFF || v < 0)
            throw Error($"expected {digits} hex digits after the escape", at);
        _pos += digits;
        return v;
    }

    /// <summary>Refuses left recursion (a rule that can reach itself without consuming a character): the matcher would not end.</summary>
    private static void CheckLeftRecursion(List<Rule> rules)
    {
        var nullable = new bool[rules.Count];
        for (bool changed = true; changed;)
        {
            changed = false;
            for (int i = 0; i < rules.Count; i++)
                if (!nullable[i] && Nullable(rules[i].Body, nullable)) { nullable[i] = changed = true; }
        }
        var state = new int[rules.Count]; // 0 unvisited, 1 on the path, 2 done
        var path = new List<string>();
        void Visit(int r)
        {
            if (state[r] == 2) return;
            if (state[r] == 1) throw new GrammarException($"left recursion: {string.Join(" → ", path.SkipWhile(n => n != rules[r].Name))} → {rules[r].Name} (a rule must consume a character before it reaches itself)");
            state[r] = 1;
            path.Add(rules[r].Name);
            foreach (int next in FirstRefs(rules[r].Body, nullable)) Visit(next);
            path.RemoveAt(path.Count - 1);
            state[r] = 2;
        }
        for (int i = 0; i < rules.Count; i++) Visit(i);
    }

    internal static bool Nullable(Node n, bool[] rules) => n switch
    {
        CharSet => false,
        RuleRef r => rules[r.Index],
        Repeat rep => rep.Min == 0 || Nullable(rep.Item, rules),
        Sequence s => s.Items.All(i => Nullable(i, rules)),
        Choice c => c.Alternatives.Any(a => Nullable(a, rules)),
        _ => false,
    };

    /// <summary>The rules a node can reach before consuming a character.</summary>
    private static IEnumerable<int> FirstRefs(Node n, bool[] nullable)
    {
        switch (n)
        {
            case RuleRef r: yield return r.Index; break;
            case Repeat rep: foreach (int i in FirstRefs(rep.Item, nullable)) yield return i; break;
            case Choice c: foreach (var a in c.Alternatives) foreach (int i in FirstRefs(a, nullable)) yield return i; break;
            case Sequence s:
                foreach (var item in s.Items)
                {
                    foreach (int i in FirstRefs(item, nullable)) yield return i;
                    if (!Nullable(item, nullable)) break;
                }
                break;
        }
    }
}
