using System.Runtime.CompilerServices;

namespace Ingot.Runtime.Grammars;

/// <summary>
/// An incremental recognizer for a <see cref="Grammar"/>, one code point at a time: the set of parse stacks still alive
/// (a pushdown automaton run breadth-first, as llama.cpp's grammar sampler runs it). The grammar is first flattened
/// into rules of alternatives of elements, each a character set or a rule reference; groups and repetitions become
/// generated rules (x{2,4} → x x x? x? nested, x{1,} → x x*). Stacks are interned frames, so equal stacks are the same
/// object and a step never holds a stack twice. Left recursion is refused by the parser, and a repetition of something
/// that can match nothing is cut when it comes back to itself, so every step ends.
/// </summary>
public sealed class GrammarMatcher
{
    private readonly Flat _flat;
    private StackSet _current;
    private readonly Dictionary<(int, int, int, Frame?), Frame> _frames = new();

    // A lazily built DFA over the stack sets: equal stack sets are one StackSet object (canonical by Key), which keeps
    // its own steps. Inside a string the same sets come back, so a mask walk over the token trie mostly follows cached steps.
    private readonly Dictionary<string, StackSet> _canonical = new(StringComparer.Ordinal);

    public GrammarMatcher(Grammar grammar)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        _flat = Flat.From(grammar);
        var leaves = new List<Frame>();
        bool accepting = false;
        var seen = new HashSet<Frame>(ReferenceEqualityComparer.Instance);
        for (int a = 0; a < _flat.Rules[_flat.Root].Length; a++) Expand(Intern(_flat.Root, a, 0, null), leaves, seen, ref accepting);
        _current = Initial = Canonical(leaves, accepting);
    }

    private StackSet Initial { get; }

    /// <summary>Back to the start of the root rule.</summary>
    public void Reset() => _current = Initial;

    /// <summary>The text so far is a whole sentence of the grammar (generation may end here).</summary>
    public bool IsComplete => _current.Accepting;

    /// <summary>No continuation can ever be accepted (every stack died).</summary>
    public bool IsDead => _current.Leaves.Length == 0 && !_current.Accepting;

    /// <summary>Whether <paramref name="codePoint"/> can come next.</summary>
    public bool Allows(int codePoint)
    {
        foreach (var set in _current.Sets)
            if (set.Contains(codePoint)) return true;
        return false;
    }

    /// <summary>Consumes one code point; false (and the state unchanged) when the grammar does not allow it.</summary>
    public bool Accept(int codePoint)
    {
        // The step depends only on which live stacks take the code point: with up to 64 stacks, that bit set keys the
        // cache, so every letter of a string's character class shares one entry (it is -1 - codePoint past 64 stacks).
        var from = _current;
        long which = 0;
        if (from.Sets.Length <= 64)
        {
            for (int i = 0; i < from.Sets.Length; i++)
                if (from.Sets[i].Contains(codePoint)) which |= 1L << i;
            if (which == 0) return false;
        }
        else which = -1L - codePoint;
        if (from.Steps.TryGetValue(which, out var cached))
        {
            if (cached is null) return false;
            _current = cached;
            return true;
        }
        var next = new List<Frame>();
        var seen = new HashSet<Frame>(ReferenceEqualityComparer.Instance);
        bool accepting = false;
        for (int i = 0; i < from.Leaves.Length; i++)
        {
            var f = from.Leaves[i];
            if (from.Sets[i].Contains(codePoint)) Expand(Intern(f.Rule, f.Alt, f.Index + 1, f.Parent), next, seen, ref accepting);
        }
        if (next.Count == 0 && !accepting)
        {
            from.Steps[which] = null;
            return false;
        }
        from.Steps[which] = _current = Canonical(next, accepting);
        return true;
    }

    /// <summary>The matcher's position: the live stacks and whether the text so far is complete. Cheap to keep and restore (a step never mutates a state it replaced).</summary>
    public readonly struct State
    {
        internal readonly StackSet Set;

        internal State(StackSet set) => Set = set;

        internal bool Accepting => Set.Accepting;
    }

    public State Save() => new(_current);

    public void Restore(State state) => _current = state.Set;

    /// <summary>The one StackSet of these stacks (equal sets, equal key: the interned frames' ids sorted, and completeness).</summary>
    private StackSet Canonical(List<Frame> leaves, bool accepting)
    {
        var ids = new int[leaves.Count];
        for (int i = 0; i < ids.Length; i++) ids[i] = leaves[i].Id;
        Array.Sort(ids);
        string key = (accepting ? "A" : "") + string.Join(',', ids);
        if (!_canonical.TryGetValue(key, out var set))
            _canonical[key] = set = new StackSet([.. leaves], [.. leaves.Select(SetOf)], accepting, _canonical.Count);
        return set;
    }

    /// <summary>Whether some code point in [<paramref name="lo"/>, <paramref name="hi"/>] can come next (an incomplete UTF-8 sequence's candidates).</summary>
    public bool AllowsAny(int lo, int hi)
    {
        foreach (var set in _current.Sets)
            if (set.Intersects(lo, hi)) return true;
        return false;
    }

    /// <summary>Every live stack's next set holds all or none of the non-ASCII code points (a JSON string's characters, digits, literals): which one comes next then changes nothing.</summary>
    public bool TreatsNonAsciiAlike => _current.NonAsciiAlike ??= _current.Sets.All(set => !set.Intersects(0x80, 0x10FFFF) || set.ContainsAll(0x80, 0x10FFFF));

    /// <summary>
    /// A set of live stacks, one object per distinct set: its leaves (each a stack whose top is a character set), those
    /// sets, whether a stack emptied (the text is complete), and the steps taken from it so far (by which leaves take
    /// the code point; null: none survive).
    /// </summary>
    internal sealed class StackSet(Frame[] leaves, CodePoints[] sets, bool accepting, int id)
    {
        public readonly Frame[] Leaves = leaves;
        public readonly CodePoints[] Sets = sets;
        public readonly bool Accepting = accepting;
        public readonly int Id = id;
        public readonly Dictionary<long, StackSet?> Steps = new();
        public bool? NonAsciiAlike;
    }

    /// <summary>Consumes <paramref name="text"/> code point by code point; false at the first one refused (the state then holds what came before it).</summary>
    public bool Accept(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            int c = char.IsHighSurrogate(text[i]) && i + 1 < text.Length ? char.ConvertToUtf32(text[i], text[++i]) : text[i];
            if (!Accept(c)) return false;
        }
        return true;
    }

    /// <summary>Whether the whole of <paramref name="text"/> is a sentence of the grammar (from a fresh start).</summary>
    public bool Matches(string text)
    {
        Reset();
        return Accept(text) && IsComplete;
    }

    /// <summary>Follows frame f until every stack's top is a character set (a leaf) or a stack empties (accepting).</summary>
    private void Expand(Frame f, List<Frame> leaves, HashSet<Frame> seen, ref bool accepting)
    {
        var work = new Stack<Frame?>();
        work.Push(f);
        while (work.Count > 0)
        {
            var frame = work.Pop();
            if (frame is null) { accepting = true; continue; }
            if (!seen.Add(frame)) continue;
            var alt = _flat.Rules[frame.Rule][frame.Alt];
            if (frame.Index == alt.Length) { work.Push(frame.Parent); continue; }
            var e = alt[frame.Index];
            if (e.Set is not null) { leaves.Add(frame); continue; }
            // A reference in last place continues straight into the parent (a tail call): right recursion such as
            // star ::= item star | ε then comes back to the very frame it started from, and the seen set ends it.
            var after = frame.Index + 1 == alt.Length ? frame.Parent : Intern(frame.Rule, frame.Alt, frame.Index + 1, frame.Parent);
            for (int a = 0; a < _flat.Rules[e.Rule].Length; a++) work.Push(Intern(e.Rule, a, 0, after));
        }
    }

    private CodePoints SetOf(Frame leaf) => _flat.Rules[leaf.Rule][leaf.Alt][leaf.Index].Set!;

    private Frame Intern(int rule, int alt, int index, Frame? parent)
    {
        var key = (rule, alt, index, parent);
        if (!_frames.TryGetValue(key, out var f)) _frames[key] = f = new Frame(rule, alt, index, parent, _frames.Count);
        return f;
    }

    /// <summary>A position in an alternative, and the stack below it (where to continue when the alternative ends).</summary>
    internal sealed class Frame(int rule, int alt, int index, Frame? parent, int id)
    {
        public readonly int Rule = rule, Alt = alt, Index = index, Id = id;
        public readonly Frame? Parent = parent;

        public override int GetHashCode() => RuntimeHelpers.GetHashCode(this);

        public override bool Equals(object? obj) => ReferenceEquals(this, obj);
    }

    /// <summary>An element of a flat alternative: a character set, or (Set null) a reference to rule <see cref="Rule"/>.</summary>
    internal readonly record struct Element(CodePoints? Set, int Rule);

    /// <summary>
    /// A <see cref="CharSet"/> as the matcher tests it many times per token: its ranges sorted and merged in an array,
    /// and negation folded in, so a test is a loop over an array with no enumerator.
    /// </summary>
    internal sealed class CodePoints
    {
        private readonly int[] _first, _last; // the code points inside, as sorted disjoint ranges

        public CodePoints(CharSet set)
        {
            var ranges = set.Ranges.OrderBy(r => r.First).ToList();
            var merged = new List<(int First, int Last)>();
            foreach (var (first, last) in ranges)
            {
                if (merged.Count > 0 && first <= merged[^1].Last + 1) merged[^1] = (merged[^1].First, Math.Max(merged[^1].Last, last));
                else merged.Add((first, last));
            }
            if (set.Negated)
            {
                var inside = new List<(int, int)>();
                int next = 0;
                foreach (var (first, last) in merged)
                {
                    if (first > next) inside.Add((next, first - 1));
                    next = Math.Max(next, last + 1);
                }
                if (next <= 0x10FFFF) inside.Add((next, 0x10FFFF));
                merged = inside;
            }
            _first = [.. merged.Select(r => r.First)];
            _last = [.. merged.Select(r => r.Last)];
        }

        public bool Contains(int c)
        {
            for (int i = 0; i < _first.Length; i++)
            {
                if (c < _first[i]) return false;
                if (c <= _last[i]) return true;
            }
            return false;
        }

        /// <summary>Whether some code point in [<paramref name="lo"/>, <paramref name="hi"/>] is inside.</summary>
        public bool Intersects(int lo, int hi)
        {
            for (int i = 0; i < _first.Length; i++)
                if (_first[i] <= hi && _last[i] >= lo) return true;
            return false;
        }

        /// <summary>Whether every code point in [<paramref name="lo"/>, <paramref name="hi"/>] is inside (one range covers it: ranges are merged).</summary>
        public bool ContainsAll(int lo, int hi)
        {
            for (int i = 0; i < _first.Length; i++)
                if (_first[i] <= lo && _last[i] >= hi) return true;
            return false;
        }
    }

    /// <summary>The grammar as rules of alternatives of elements; groups and repetitions as generated rules.</summary>
    internal sealed class Flat
    {
        public readonly List<Element[][]> Rules = [];
        public int Root;

        public static Flat From(Grammar g)
        {
            var flat = new Flat();
            foreach (var _ in g.Rules) flat.Rules.Add([]);
            for (int r = 0; r < g.Rules.Count; r++) flat.Rules[r] = flat.Alternatives(g.Rules[r].Body);
            flat.Root = g.Root;
            return flat;
        }

        private Element[][] Alternatives(Node n) => n is Choice c ? [.. c.Alternatives.Select(Items)] : [Items(n)];

        private Element[] Items(Node n)
        {
            var list = new List<Element>();
            if (n is Sequence s) foreach (var item in s.Items) Add(item, list);
            else Add(n, list);
            return [.. list];
        }

        private void Add(Node n, List<Element> into)
        {
            switch (n)
            {
                case CharSet set: into.Add(new Element(new CodePoints(set), -1)); break;
                case RuleRef r: into.Add(new Element(null, r.Index)); break;
                case Sequence s: foreach (var item in s.Items) Add(item, into); break;
                case Choice c: into.Add(new Element(null, NewRule(Alternatives(c)))); break;
                case Repeat rep:
                {
                    for (int i = 0; i < rep.Min; i++) Add(rep.Item, into);
                    if (rep.Max == -1)
                    {
                        // star ::= item star | ε
                        int star = NewRule([]);
                        var first = new List<Element>();
                        Add(rep.Item, first);
                        first.Add(new Element(null, star));
                        Rules[star] = [[.. first], []];
                        into.Add(new Element(null, star));
                    }
                    else if (rep.Max > rep.Min)
                    {
                        // opt_k ::= item opt_{k-1} | ε, nested Max − Min deep
                        int inner = -1;
                        for (int k = 0; k < rep.Max - rep.Min; k++)
                        {
                            var seq = new List<Element>();
                            Add(rep.Item, seq);
                            if (inner >= 0) seq.Add(new Element(null, inner));
                            inner = NewRule([[.. seq], []]);
                        }
                        into.Add(new Element(null, inner));
                    }
                    break;
                }
            }
        }

        private int NewRule(Element[][] alternatives)
        {
            Rules.Add(alternatives);
            return Rules.Count - 1;
        }
    }
}
