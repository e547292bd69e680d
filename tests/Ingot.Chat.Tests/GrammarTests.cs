using Ingot.Runtime.Grammars;
using Xunit;

namespace Ingot.Chat.Tests;

/// <summary>
/// GBNF: grammars of each kind the structured-output issue names (arithmetic, JSON, lists, character classes, repetition
/// bounds), each with accepted and rejected strings. For every string the incremental matcher must agree with a direct
/// parse (<see cref="DirectParse"/>: the set of end positions of each node, by recursion over the grammar tree) and with
/// the expected verdict; syntax errors are one line with the line and column.
/// </summary>
public sealed class GrammarTests
{
    private const string Arithmetic = """
        # integer arithmetic with precedence and parentheses
        root   ::= expr
        expr   ::= term (("+" | "-") term)*
        term   ::= factor (("*" | "/") factor)*
        factor ::= number | "(" ws expr ws ")" | "-" factor
        number ::= [0-9]+
        ws     ::= " "?
        """;

    private const string Json = """
        root    ::= ws value ws
        value   ::= object | array | string | number | "true" | "false" | "null"
        object  ::= "{" ws ( member ( ws "," ws member )* )? ws "}"
        member  ::= string ws ":" ws value
        array   ::= "[" ws ( value ( ws "," ws value )* )? ws "]"
        string  ::= "\"" ( [^"\\\x00-\x1f] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} ) )* "\""
        number  ::= "-"? ( "0" | [1-9] [0-9]* ) ( "." [0-9]+ )? ( [eE] [-+]? [0-9]+ )?
        ws      ::= [ \t\n]*
        """;

    private const string List = """
        root ::= item ( "," " "? item )* "\n"?
        item ::= [a-z]+ | "\"" [^"]* "\""
        """;

    private const string Classes = """
        root  ::= upper lower digit other uni any
        upper ::= [A-Z]
        lower ::= [\x61-\x7a]
        digit ::= [^a-zA-Z\x00-\x2f:-\U0010FFFF]
        other ::= [\-\]\[^]
        uni   ::= [é日-本] | "\u00fc"
        any   ::= .
        """;

    private const string Bounds = """
        root ::= "a"{2,4} "b"{3} "c"{1,} "d"{0,2} ("x"?)* "y"
        """;

    public static TheoryData<string, string, bool> Cases => new()
    {
        { Arithmetic, "1+2*3", true }, { Arithmetic, "(1+2)*3", true }, { Arithmetic, "( 7 )/-2", true }, { Arithmetic, "42", true },
        { Arithmetic, "1+", false }, { Arithmetic, "(1", false }, { Arithmetic, "", false }, { Arithmetic, "1++2", false }, { Arithmetic, "a", false },
        { Json, """{"a": [1, 2.5, -3e2], "b": {"c": null}}""", true }, { Json, "[]", true }, { Json, "\"x\\u00e9\\n\"", true },
        { Json, " {\n\t\"k\" : true }\n", true }, { Json, "-0.5E+10", true },
        { Json, "{a: 1}", false }, { Json, "[1,]", false }, { Json, """{"a" 1}""", false }, { Json, "01", false }, { Json, "\"\\x\"", false },
        { Json, "[1, 2", false }, { Json, "\"tab\there\"", false },
        { List, "abc", true }, { List, "a,b, c\n", true }, { List, "\"x, y\", z", true },
        { List, "a,,b", false }, { List, "A", false }, { List, "a b", false }, { List, "a,\n", false },
        { Classes, "Qq7]éz", true }, { Classes, "Aa0^日\u0001", true }, { Classes, "Zz9-ü😀", true },
        { Classes, "aa0]éz", false }, { Classes, "AAx]éz", false }, { Classes, "Aa0]xz", false }, { Classes, "Aa0]é", false },
        { Bounds, "aabbbcy", true }, { Bounds, "aaaabbbcccddxxy", true }, { Bounds, "aabbbcdy", true },
        { Bounds, "abbbcy", false }, { Bounds, "aaaaabbbcy", false }, { Bounds, "aabbcy", false }, { Bounds, "aabbby", false },
        { Bounds, "aabbbcdddy", false }, { Bounds, "aabbbcxx", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheMatcherAgreesWithADirectParse(string grammar, string text, bool expected)
    {
        var g = Grammar.Parse(grammar);
        var matcher = new GrammarMatcher(g);
        bool direct = DirectParse.Matches(g, text);
        Assert.Equal(expected, direct);
        Assert.Equal(direct, matcher.Matches(text));
    }

    [Fact]
    public void EveryPrefixOfAnAcceptedStringStaysAliveAndOnlyTheWholeCompletes()
    {
        var matcher = new GrammarMatcher(Grammar.Parse(Json));
        string text = """{"a": [1, {"b": "c"}]}""";
        for (int i = 0; i < text.Length; i++)
        {
            Assert.True(matcher.Allows(text[i]), $"'{text[i]}' at {i} refused");
            Assert.True(matcher.Accept(text[i]));
            Assert.Equal(i == text.Length - 1 || text[..(i + 1)] == "{\"a\": [1, {\"b\": \"c\"}]}", matcher.IsComplete);
        }
        Assert.False(matcher.Allows('x'));
        Assert.False(matcher.Accept('x')); // refused, state kept
        Assert.True(matcher.IsComplete);
        Assert.True(matcher.Accept(' ')); // trailing whitespace is allowed
    }

    [Fact]
    public void DeepNestingRunsInBoundedStacksPerStep()
    {
        var matcher = new GrammarMatcher(Grammar.Parse(Json));
        string text = new string('[', 200) + new string(']', 200);
        Assert.True(matcher.Matches(text));
        Assert.True(matcher.Matches(string.Join(", ", Enumerable.Repeat("1", 2000)).Insert(0, "[") + "]"));
    }

    /// <summary>Token masks over byte tokens: a code point split across tokens is allowed only where it can complete, and end-of-generation only where the grammar does.</summary>
    [Fact]
    public void ACodePointSplitAcrossTokensIsAllowedOnlyWhereItCanComplete()
    {
        // 0: EOS (no bytes); then byte strings: "a", C3, A9, C3 A9 (é), E6 97, A5 (日 = E6 97 A5), E6, E0 (a lead that cannot make é or 日)
        byte[][] bytes = [[], "a"u8.ToArray(), [0xC3], [0xA9], [0xC3, 0xA9], [0xE6, 0x97], [0xA5], [0xE6], [0xE0]];
        var vocab = new GrammarVocabulary(bytes.Length, id => bytes[id]);
        var c = new GrammarConstraint(Grammar.Parse("root ::= \"é\" \"日\"+"), vocab, id => bytes[id], id => id == 0);
        var allowed = new bool[bytes.Length];
        int[] Allowed() { c.Mask(allowed); return [.. Enumerable.Range(0, bytes.Length).Where(i => allowed[i])]; }

        Assert.Equal([2, 4], Allowed());           // C3 (é's first byte) or é whole
        Assert.False(c.AcceptToken(1));            // "a" is refused, state kept
        Assert.True(c.AcceptToken(2));
        Assert.Equal([3], Allowed());              // only A9 completes é
        Assert.True(c.AcceptToken(3));
        Assert.False(c.IsComplete);
        Assert.Equal([5, 7], Allowed());           // E6 97 or E6: on the way to 日; not E0
        Assert.True(c.AcceptToken(5));
        Assert.Equal([6], Allowed());
        Assert.True(c.AcceptToken(6));
        Assert.True(c.IsComplete);
        Assert.Equal([0, 5, 7], Allowed());        // end here, or another 日
    }

    /// <summary>
    /// Where every non-ASCII code point is alike to the grammar, half-written code points share DFA states; the lead
    /// bytes whose continuations can be overlong (E0) or surrogates (ED) must still be told apart, and so must the count
    /// of code points a bounded repetition has taken.
    /// </summary>
    [Fact]
    public void HalfWrittenCodePointsThatShareAStateStillRefuseOverlongFormsAndSurrogates()
    {
        // 0: EOS; 1: E6; 2: 97; 3: A5; 4: 日 whole; 5: E0; 6: A0 80 (E0 A0 80 = U+0800); 7: 80 80 (E0 80 80: overlong);
        // 8: ED; 9: 9F BF (ED 9F BF = U+D7FF); 10: "a"; 11: E6 97
        byte[][] bytes = [[], [0xE6], [0x97], [0xA5], [0xE6, 0x97, 0xA5], [0xE0], [0xA0, 0x80], [0x80, 0x80], [0xED], [0x9F, 0xBF], "a"u8.ToArray(), [0xE6, 0x97]];
        var vocab = new GrammarVocabulary(bytes.Length, id => bytes[id]);
        var c = new GrammarConstraint(Grammar.Parse("root ::= [^a]{0,3} \"a\""), vocab, id => bytes[id], id => id == 0);
        var allowed = new bool[bytes.Length];
        int[] Allowed() { c.Mask(allowed); return [.. Enumerable.Range(0, bytes.Length).Where(i => allowed[i])]; }

        Assert.Equal([1, 4, 5, 8, 10, 11], Allowed());
        Assert.True(c.AcceptToken(5));
        Assert.Equal([3, 6], Allowed());           // after E0 only A0..BF may follow: A5 or A0 80, not 97 or 80 80
        Assert.False(c.AcceptToken(7));
        Assert.True(c.AcceptToken(6));             // one code point taken
        Assert.True(c.AcceptToken(8));
        Assert.Equal([2, 7, 9], Allowed());        // after ED only 80..9F (never a surrogate): 97, 80 80, 9F BF; not A5 or A0 80
        Assert.True(c.AcceptToken(9));             // two
        Assert.True(c.AcceptToken(11));
        Assert.Equal([2, 3], Allowed());           // E6 97 then any continuation: 97 or A5
        Assert.True(c.AcceptToken(3));             // three: only "a" is left
        Assert.Equal([10], Allowed());
        Assert.True(c.AcceptToken(10));
        Assert.Equal([0], Allowed());
    }

    [Theory]
    [InlineData("root ::= \"abc", "line 1, column 10: unterminated string literal")]
    [InlineData("root ::= foo", "line 1, column 10: undefined rule 'foo'")]
    [InlineData("root ::= [a-", "line 1, column 10: unterminated character class")]
    [InlineData("start ::= \"a\"", "the grammar has no rule named 'root'")]
    [InlineData("root ::= \"a\"\nroot ::= \"b\"", "line 2, column 1: rule 'root' is defined twice")]
    [InlineData("root ::= (\"a\" | \"b\"", "line 1, column 20: expected ')' to close the group")]
    [InlineData("root ::= \"a\"{3,1}", "line 1, column 10: repetition {3,1}: the maximum is below the minimum")]
    [InlineData("root ::= \"\\q\"", "line 1, column 11: unknown escape '\\q'")]
    [InlineData("root ::= [z-a]", "line 1, column 14: character range z-a runs backwards")]
    [InlineData("root ::= x\nx ::= x? \"a\"", "left recursion: x → x")]
    [InlineData("root ::= \"a\" )", "line 1, column 14: expected the end of the line after rule 'root', found ')'")]
    [InlineData("root := \"a\"", "line 1, column 6: expected '::=' after rule name 'root'")]
    public void SyntaxErrorsAreOneLineWithLineAndColumn(string grammar, string message)
    {
        var e = Assert.Throws<GrammarException>(() => Grammar.Parse(grammar));
        Assert.Equal(message, e.Message.Split(" (a rule must")[0]);
        Assert.DoesNotContain("\n", e.Message);
    }
}

/// <summary>
/// The reference recognizer: for each node and start position, the set of positions where a match can end (rules
/// memoized per position; repetitions iterated to a fixpoint). Independent of the matcher's flattening and stacks.
/// </summary>
internal static class DirectParse
{
    public static bool Matches(Grammar g, string text)
    {
        var cps = new List<int>();
        for (int i = 0; i < text.Length; i++) cps.Add(char.IsHighSurrogate(text[i]) ? char.ConvertToUtf32(text[i], text[++i]) : text[i]);
        var memo = new Dictionary<(int, int), HashSet<int>>();
        return Ends(g, new RuleRef(g.Root, "root"), 0, cps, memo).Contains(cps.Count);
    }

    private static HashSet<int> Ends(Grammar g, Node n, int i, List<int> s, Dictionary<(int, int), HashSet<int>> memo)
    {
        switch (n)
        {
            case CharSet set:
                return i < s.Count && set.Contains(s[i]) ? [i + 1] : [];
            case RuleRef r:
                if (memo.TryGetValue((r.Index, i), out var done)) return done;
                memo[(r.Index, i)] = []; // left recursion is refused by the parser; this only guards re-entry
                var ends = Ends(g, g.Rules[r.Index].Body, i, s, memo);
                memo[(r.Index, i)] = ends;
                return ends;
            case Sequence seq:
            {
                var at = new HashSet<int> { i };
                foreach (var item in seq.Items)
                {
                    var next = new HashSet<int>();
                    foreach (int p in at) next.UnionWith(Ends(g, item, p, s, memo));
                    at = next;
                }
                return at;
            }
            case Choice c:
            {
                var all = new HashSet<int>();
                foreach (var a in c.Alternatives) all.UnionWith(Ends(g, a, i, s, memo));
                return all;
            }
            case Repeat rep:
            {
                var result = new HashSet<int>();
                var frontier = new HashSet<int> { i };
                var everSeen = new HashSet<int>();
                for (int k = 0; frontier.Count > 0; k++)
                {
                    if (k >= rep.Min) result.UnionWith(frontier);
                    if (rep.Max != -1 && k == rep.Max) break;
                    var next = new HashSet<int>();
                    foreach (int p in frontier) next.UnionWith(Ends(g, rep.Item, p, s, memo));
                    // Past the minimum, a position already reached adds nothing new (the fixpoint of an unbounded repeat).
                    if (k >= rep.Min) next.ExceptWith(everSeen);
                    everSeen.UnionWith(frontier);
                    frontier = next;
                    if (k > rep.Min + s.Count + 1) break;
                }
                return result;
            }
        }
        throw new InvalidOperationException(n.GetType().Name);
    }
}
