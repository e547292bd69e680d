namespace Ingot.Runtime.Grammars;

/// <summary>
/// The token vocabulary as the grammar sees it: every token's bytes (BPE's Ġ and SentencePiece's ▁ and &lt;0xNN&gt; undone,
/// special tokens empty) in a byte trie, so a mask walks each shared prefix once. Built once per tokenizer.
/// </summary>
public sealed class GrammarVocabulary
{
    internal readonly List<(byte Byte, int Node)>[] Children;  // per trie node: its edges
    internal readonly List<int>[] Ends;                          // per trie node: the tokens whose bytes end there

    public int VocabSize { get; }

    /// <param name="tokenBytes">The bytes of token id (empty for special and control tokens: never allowed by a grammar).</param>
    public GrammarVocabulary(int vocabSize, Func<int, byte[]> tokenBytes)
    {
        VocabSize = vocabSize;
        var children = new List<List<(byte, int)>> { new() };
        var ends = new List<List<int>> { new() };
        for (int id = 0; id < vocabSize; id++)
        {
            byte[] b = tokenBytes(id);
            if (b.Length == 0) continue;
            int node = 0;
            foreach (byte x in b)
            {
                int next = -1;
                foreach (var (edge, child) in children[node]) if (edge == x) { next = child; break; }
                if (next < 0)
                {
                    next = children.Count;
                    children.Add(new());
                    ends.Add(new());
                    children[node].Add((x, next));
                }
                node = next;
            }
            ends[node].Add(id);
        }
        Children = [.. children];
        Ends = [.. ends];
    }
}

/// <summary>
/// A grammar applied to generation: which tokens may come next (<see cref="Mask"/>), and the state after one
/// (<see cref="AcceptToken"/>). Tokens are byte strings; a code point may span tokens, so the state carries an
/// incomplete UTF-8 sequence from one token to the next, and a prefix of one is allowed only when some code point it can
/// still become is. End-of-generation tokens are allowed exactly where the grammar accepts the text so far.
/// </summary>
public sealed class GrammarConstraint
{
    private readonly GrammarMatcher _matcher;
    private readonly GrammarVocabulary _vocab;
    private readonly Func<int, bool> _isEndOfGeneration;
    private readonly Func<int, byte[]> _tokenBytes;
    private Utf8 _pending; // an incomplete code point left by the last token
    // state → mask without EOS and its count. The matcher gives equal stack sets one list object (GrammarMatcher's
    // canonical sets), so the list's identity keys the cache with no key to build per token.
    private readonly Dictionary<(object Leaves, bool Accepting, Utf8 Pending), (bool[] Mask, int Count)> _masks = new();
    private readonly int[] _endOfGeneration; // the vocabulary's end-of-generation ids

    public GrammarConstraint(Grammar grammar, GrammarVocabulary vocabulary, Func<int, byte[]> tokenBytes, Func<int, bool> isEndOfGeneration)
    {
        _matcher = new GrammarMatcher(grammar);
        (_vocab, _tokenBytes, _isEndOfGeneration) = (vocabulary, tokenBytes, isEndOfGeneration);
        _endOfGeneration = [.. Enumerable.Range(0, vocabulary.VocabSize).Where(isEndOfGeneration)];
    }

    /// <summary>The text so far is a whole sentence of the grammar (and no code point is half-written).</summary>
    public bool IsComplete => _matcher.IsComplete && _pending.Remaining == 0;

    /// <summary>Marks in <paramref name="allowed"/> (VocabSize) every token the grammar allows next; returns how many.</summary>
    public int Mask(Span<bool> allowed)
    {
        // The mask depends only on the state: inside a string the same states come back token after token.
        var start = _matcher.Save();
        var key = (start.Leaves, start.Accepting, _pending);
        if (!_masks.TryGetValue(key, out var cached))
        {
            var mask = new bool[allowed.Length];
            int n = 0;
            Walk(0, _pending, mask, ref n);
            _matcher.Restore(start);
            _masks[key] = cached = (mask, n);
        }
        cached.Mask.CopyTo(allowed);
        int count = cached.Count;
        if (IsComplete)
            foreach (int id in _endOfGeneration) { allowed[id] = true; count++; }
        return count;
    }

    /// <summary>Logits of disallowed tokens become −∞, so sampling renormalizes over the allowed ones (before temperature, top-k, top-p).</summary>
    public void Apply(Span<float> logits, Span<bool> scratch)
    {
        Mask(scratch);
        for (int i = 0; i < logits.Length; i++) if (!scratch[i]) logits[i] = float.NegativeInfinity;
    }

    /// <summary>Advances past token <paramref name="id"/>; false when the grammar does not allow it (the state is then unchanged).</summary>
    public bool AcceptToken(int id)
    {
        if (_isEndOfGeneration(id)) return IsComplete;
        var start = _matcher.Save();
        var pending = _pending;
        foreach (byte b in _tokenBytes(id))
        {
            if (!Step(ref pending, b)) { _matcher.Restore(start); return false; }
        }
        _pending = pending;
        return true;
    }

    /// <summary>Depth-first over the trie from node <paramref name="node"/>: a child is taken when its byte keeps a parse alive.</summary>
    private void Walk(int node, Utf8 pending, Span<bool> allowed, ref int count)
    {
        foreach (int id in _vocab.Ends[node])
        {
            if (node == 0) continue;
            allowed[id] = true;
            count++;
        }
        foreach (var (b, child) in _vocab.Children[node])
        {
            var state = _matcher.Save();
            var p = pending;
            if (Step(ref p, b)) Walk(child, p, allowed, ref count);
            _matcher.Restore(state);
        }
    }

    /// <summary>One byte: completes a code point (which the matcher must accept) or extends an incomplete one (which must still be possible).</summary>
    private bool Step(ref Utf8 p, byte b)
    {
        if (p.Remaining == 0)
        {
            if (b < 0x80) return _matcher.Allows(b) && _matcher.Accept(b);
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
            return _matcher.Allows(cp) && _matcher.Accept(cp);
        }
        // The code points this prefix can still become: its bits, then any continuation bits; never an overlong form.
        int shift = 6 * p.Remaining;
        int lo = p.Value << shift, hi = Math.Min(lo | ((1 << shift) - 1), 0x10FFFF);
        lo = Math.Max(lo, p.Length == 2 ? 0x80 : p.Length == 3 ? 0x800 : 0x10000);
        return lo <= hi && _matcher.AllowsAny(lo, hi);
    }

    /// <summary>An incomplete UTF-8 sequence: the bits so far, the continuation bytes still due, the sequence's length.</summary>
    private readonly record struct Utf8(int Value, int Remaining, int Length);
}
