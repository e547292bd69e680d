namespace Ingot.Runtime.Grammars;

/// <summary>
/// A grammar compiled against a vocabulary, lazily: a byte-level DFA over (matcher state, incomplete code point) and the
/// token mask of every state a generation has asked about. Shared by every generation with the same grammar on the same
/// tokenizer (<see cref="Generation.TokenizerCodec.CreateConstraint"/>), so the second request with a schema finds its
/// states and masks already built, as a table built ahead of time would be. Thread-safe: one lock, held per token.
/// Tokens are byte strings; a code point may span tokens, so a state carries an incomplete UTF-8 sequence, and a prefix
/// of one is allowed only when some code point it can still become is.
/// </summary>
public sealed class GrammarAutomaton
{
    private const long MaskBytesLimit = 64L << 20; // cached masks past this are dropped and rebuilt on demand

    private readonly GrammarMatcher _matcher;
    private readonly GrammarVocabulary _vocab;
    private readonly Func<int, byte[]> _tokenBytes;
    private readonly Func<int, bool> _isEndOfGeneration;
    private readonly int[] _endOfGeneration; // the vocabulary's end-of-generation ids

    // State ids index _states; _next[state][byte] is 0 while unknown, -1 when the byte kills every parse, else the
    // next state + 1. The matcher's canonical stack sets make equal states one id, so a walk costs an array read per node.
    private readonly List<(GrammarMatcher.State Matcher, Utf8 Pending)> _states = [];
    private readonly Dictionary<long, int> _stateIds = new(); // (stack set id, pending) packed → state
    private int[][] _next = new int[64][]; // rows of 1 KB, so no row lands on the large-object heap
    private readonly List<(ulong[] Bits, int Count)?> _masks = []; // per state: allowed tokens (EOS aside) as bits
    private long _maskBytes;
    private readonly int[] _walk; // [MaxDepth + 1] the state after each depth of the trie path being walked
    private readonly object _lock = new();

    public GrammarAutomaton(Grammar grammar, GrammarVocabulary vocabulary, Func<int, byte[]> tokenBytes, Func<int, bool> isEndOfGeneration)
    {
        _matcher = new GrammarMatcher(grammar);
        (_vocab, _tokenBytes, _isEndOfGeneration) = (vocabulary, tokenBytes, isEndOfGeneration);
        _endOfGeneration = [.. Enumerable.Range(0, vocabulary.VocabSize).Where(isEndOfGeneration)];
        _walk = new int[vocabulary.MaxDepth + 1];
        Start = StateOf(_matcher.Save(), default);
    }

    /// <summary>The state before any text.</summary>
    public int Start { get; }

    /// <summary>The text that led to <paramref name="state"/> is a whole sentence of the grammar, with no code point half-written.</summary>
    public bool IsComplete(int state)
    {
        lock (_lock) return _states[state].Matcher.Accepting && _states[state].Pending.Remaining == 0;
    }

    /// <summary>
    /// The tokens allowed in <paramref name="state"/> as bits (bit id of word id / 64; end-of-generation ids not among
    /// them) and how many; <paramref name="complete"/>: whether end-of-generation is allowed too. The bits are the
    /// automaton's cached copy: read them, never write.
    /// </summary>
    public ulong[] Mask(int state, out int count, out bool complete)
    {
        lock (_lock)
        {
            while (_masks.Count <= state) _masks.Add(null);
            if (_masks[state] is not { } cached)
            {
                cached = Walk(state);
                _maskBytes += cached.Bits.Length * sizeof(ulong);
                if (_maskBytes > MaskBytesLimit)
                {
                    _masks.Clear();
                    _maskBytes = cached.Bits.Length * sizeof(ulong);
                    while (_masks.Count <= state) _masks.Add(null);
                }
                _masks[state] = cached;
            }
            complete = _states[state].Matcher.Accepting && _states[state].Pending.Remaining == 0;
            count = cached.Count + (complete ? _endOfGeneration.Length : 0);
            return cached.Bits;
        }
    }

    /// <summary>The vocabulary's end-of-generation ids (allowed where the grammar is complete).</summary>
    public ReadOnlySpan<int> EndOfGeneration => _endOfGeneration;

    /// <summary>The state after token <paramref name="id"/>, or -1 when the grammar does not allow it there.</summary>
    public int Advance(int state, int id)
    {
        if (_isEndOfGeneration(id)) return IsComplete(state) ? state : -1;
        lock (_lock)
        {
            foreach (byte b in _tokenBytes(id))
                if ((state = Next(state, b)) < 0) return -1;
            return state;
        }
    }

    /// <summary>
    /// One forward scan over the preorder trie from state <paramref name="start"/>: node i's state is the DFA step from
    /// its parent's (the walk entry one depth up); a dead node skips its subtree.
    /// </summary>
    private (ulong[] Bits, int Count) Walk(int start)
    {
        var v = _vocab;
        var bits = new ulong[(v.VocabSize + 63) / 64];
        int count = 0;
        int[] walk = _walk;
        walk[0] = start;
        for (int i = 1; i < v.Bytes.Length;)
        {
            int d = v.Depth[i];
            int s = walk[d - 1];
            byte b = v.Bytes[i];
            int t = _next[s][b];
            t = t > 0 ? t - 1 : t < 0 ? -1 : Next(s, b);
            if (t < 0) { i = v.Skip[i]; continue; }
            walk[d] = t;
            for (int e = v.EndStart[i]; e < v.EndStart[i + 1]; e++)
            {
                int id = v.EndIds[e];
                bits[id >> 6] |= 1UL << id;
                count++;
            }
            i++;
        }
        return (bits, count);
    }

    /// <summary>The DFA step from state <paramref name="s"/> on byte <paramref name="b"/>: the next state, or -1 when no parse survives.</summary>
    private int Next(int s, byte b)
    {
        int known = _next[s][b];
        if (known != 0) return known > 0 ? known - 1 : -1;
        var (matcher, pending) = _states[s];
        _matcher.Restore(matcher);
        int t = Step(ref pending, b) ? StateOf(_matcher.Save(), pending) : -1;
        _next[s][b] = t >= 0 ? t + 1 : -1;
        return t;
    }

    private int StateOf(GrammarMatcher.State matcher, Utf8 pending)
    {
        // Value < 2^21, Remaining < 4, Length < 8.
        long key = (long)matcher.Set.Id << 32 | (long)pending.Value << 5 | (long)pending.Remaining << 3 | (long)pending.Length;
        if (_stateIds.TryGetValue(key, out int id)) return id;
        id = _states.Count;
        _states.Add((matcher, pending));
        _stateIds[key] = id;
        if (_next.Length < _states.Count) Array.Resize(ref _next, _next.Length * 2);
        _next[id] = new int[256];
        return id;
    }

    /// <summary>One byte: completes a code point (which the matcher must accept) or extends an incomplete one (which must still be possible).</summary>
    private bool Step(ref Utf8 p, byte b)
    {
        if (p.Remaining == 0)
        {
            if (b < 0x80) return _matcher.Accept(b);
            int length = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 && b < 0xF0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 0;
            if (length == 0) return false; // a continuation byte or an invalid lead
            p = new Utf8(b & (0xFF >> (length + 1)), length - 1, length);
        }
        else
        {
            if ((b & 0xC0) != 0x80) return false;
            p = new Utf8((p.Value << 6) | (b & 0x3F), p.Remaining - 1, p.Length);
        }
        if (p.Remaining == 0)
        {
            int cp = p.Value;
            if (p.Length == 3 && cp < 0x800 || p.Length == 4 && (cp < 0x10000 || cp > 0x10FFFF) || cp is >= 0xD800 and <= 0xDFFF) return false;
            return _matcher.Accept(cp);
        }
        // The code points this prefix can still become: its bits, then any continuation bits; never an overlong form or a
        // surrogate.
        int shift = 6 * p.Remaining;
        int lo = p.Value << shift, hi = Math.Min(lo | ((1 << shift) - 1), 0x10FFFF);
        int least = p.Length == 2 ? 0x80 : p.Length == 3 ? 0x800 : 0x10000;
        if (Math.Max(lo, least) > hi || lo >= 0xD800 && hi <= 0xDFFF || !_matcher.AllowsAny(Math.Max(lo, least), hi)) return false;
        // Where the grammar treats every non-ASCII code point alike (inside a JSON string, say), prefixes whose every
        // completion is valid are all one state: keep one representative per length and bytes due, or each CJK lead
        // and continuation would be a DFA state of its own.
        if (lo >= least && (lo | ((1 << shift) - 1)) <= 0x10FFFF && (hi < 0xD800 || lo > 0xDFFF) && _matcher.TreatsNonAsciiAlike)
            p = p with { Value = (p.Length == 2 ? 0x80 : p.Length == 3 ? 0x1000 : 0x40000) >> shift };
        return true;
    }

    /// <summary>An incomplete UTF-8 sequence: the bits so far, the continuation bytes still due, the sequence's length.</summary>
    private readonly record struct Utf8(int Value, int Remaining, int Length);
}
