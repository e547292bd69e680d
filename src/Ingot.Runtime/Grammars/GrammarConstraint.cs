namespace Ingot.Runtime.Grammars;

/// <summary>
/// A grammar applied to one generation: which tokens may come next (<see cref="Mask"/>), and the state after one
/// (<see cref="AcceptToken"/>). The work is in the shared <see cref="GrammarAutomaton"/>; this holds the position.
/// End-of-generation tokens are allowed exactly where the grammar accepts the text so far.
/// </summary>
public sealed class GrammarConstraint
{
    private readonly GrammarAutomaton _automaton;
    private int _state;

    public GrammarConstraint(GrammarAutomaton automaton)
    {
        _automaton = automaton;
        _state = automaton.Start;
    }

    /// <summary>A constraint with an automaton of its own (nothing shared with other generations).</summary>
    public GrammarConstraint(Grammar grammar, GrammarVocabulary vocabulary, Func<int, byte[]> tokenBytes, Func<int, bool> isEndOfGeneration)
        : this(new GrammarAutomaton(grammar, vocabulary, tokenBytes, isEndOfGeneration)) { }

    /// <summary>The text so far is a whole sentence of the grammar (and no code point is half-written).</summary>
    public bool IsComplete => _automaton.IsComplete(_state);

    /// <summary>Marks in <paramref name="allowed"/> (VocabSize) every token the grammar allows next; returns how many.</summary>
    public int Mask(Span<bool> allowed)
    {
        var bits = _automaton.Mask(_state, out int count, out bool complete);
        for (int i = 0; i < allowed.Length; i++) allowed[i] = (bits[i >> 6] >> i & 1) != 0;
        if (complete) foreach (int id in _automaton.EndOfGeneration) allowed[id] = true;
        return count;
    }

    /// <summary>
    /// Logits (VocabSize) of disallowed tokens become −∞, so sampling renormalizes over the allowed ones (before
    /// temperature, top-k, top-p). Returns how many are allowed. Words of 64 allowed tokens are skipped whole.
    /// </summary>
    public int Apply(Span<float> logits)
    {
        var bits = _automaton.Mask(_state, out int count, out bool complete);
        // End-of-generation ids are not among the bits: where the grammar is complete, their logits are kept aside
        // and put back, instead of looking each refused id up among them.
        var eog = _automaton.EndOfGeneration;
        Span<float> kept = !complete ? default : eog.Length <= 64 ? stackalloc float[eog.Length] : new float[eog.Length];
        for (int k = 0; k < kept.Length; k++) kept[k] = logits[eog[k]];
        for (int w = 0; w < bits.Length; w++)
        {
            ulong refused = ~bits[w];
            while (refused != 0)
            {
                int i = w * 64 + System.Numerics.BitOperations.TrailingZeroCount(refused);
                if (i >= logits.Length) break;
                refused &= refused - 1;
                logits[i] = float.NegativeInfinity;
            }
        }
        for (int k = 0; k < kept.Length; k++) logits[eog[k]] = kept[k];
        return count;
    }

    /// <summary>Advances past token <paramref name="id"/>; false when the grammar does not allow it (the state is then unchanged).</summary>
    public bool AcceptToken(int id)
    {
        int next = _automaton.Advance(_state, id);
        if (next < 0) return false;
        _state = next;
        return true;
    }
}
