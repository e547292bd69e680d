namespace Ingot.Runtime.Kernels;

/// <summary>
/// The sequences a causal model's KV cache holds and the per-token tables a batch of them reads. Sequence s owns cache
/// cells [s · Context, (s + 1) · Context): its token at position p has its key and value in cell s · Context + p, so
/// its attention reads one contiguous range, as with a single sequence.
/// <para>
/// A call runs several <em>runs</em> as one batch: run i is lengths[i] tokens of sequence sequences[i] at its next
/// positions (a prompt's chunk, or one fed-back token). Each weight row is read once per chunk for all of them. A
/// token's math depends only on its own sequence's cache, so a run gives the same logits in any batch.
/// </para>
/// </summary>
public sealed unsafe class SequenceRuns
{
    private readonly int[] _positions;

    public SequenceRuns(int sequences, int context)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sequences);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(context);
        if ((long)sequences * context > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(sequences), sequences, $"{sequences} sequences × {context} context exceed {int.MaxValue} cache cells");
        _positions = new int[sequences];
        Context = context;
    }

    /// <summary>Sequences the cache holds.</summary>
    public int Count => _positions.Length;

    /// <summary>Cells per sequence (the loaded context).</summary>
    public int Context { get; }

    /// <summary>Tokens sequence <paramref name="sequence"/> holds (the position of its next token).</summary>
    public int PositionOf(int sequence) => _positions[CheckSequence(sequence)];

    public void Reset(int sequence) => _positions[CheckSequence(sequence)] = 0;

    public void ResetAll() => Array.Clear(_positions);

    private int CheckSequence(int sequence)
    {
        if ((uint)sequence >= (uint)_positions.Length)
            throw new ArgumentOutOfRangeException(nameof(sequence), sequence, $"sequence outside [0, {_positions.Length}) (the model was loaded with InferenceOptions.Sequences = {_positions.Length})");
        return sequence;
    }

    /// <summary>
    /// Checks a call before anything runs: one length and one distinct sequence per run, lengths ≥ 1 adding up to the
    /// tokens, every sequence with room for its run, every token in the vocabulary, and logits of runs × vocab (each
    /// run's last row) or, for a single run, its last row or all its rows. Returns whether every row is wanted.
    /// </summary>
    public bool Check(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, ReadOnlySpan<int> sequences, int logitsLength, int vocab)
    {
        if (tokens.IsEmpty) throw new ArgumentException("no tokens", nameof(tokens));
        if (lengths.Length == 0 || lengths.Length != sequences.Length)
            throw new ArgumentException($"one length and one sequence per run: {lengths.Length} lengths, {sequences.Length} sequences", nameof(lengths));
        long total = 0;
        for (int i = 0; i < lengths.Length; i++)
        {
            if (lengths[i] <= 0) throw new ArgumentException($"run {i} has {lengths[i]} tokens; every run needs at least 1", nameof(lengths));
            int s = CheckSequence(sequences[i]);
            for (int j = 0; j < i; j++)
                if (sequences[j] == s) throw new ArgumentException($"sequence {s} appears in runs {j} and {i}; a call takes each sequence once", nameof(sequences));
            if ((long)_positions[s] + lengths[i] > Context)
            {
                string which = _positions.Length == 1 ? "" : $"sequence {s}: ";
                throw new ContextOverflowException($"context full: {which}{_positions[s]} tokens in the KV cache + {lengths[i]} new exceed its capacity of {Context} (load with a larger ContextSize, --ctx)");
            }
            total += lengths[i];
        }
        if (total != tokens.Length) throw new ArgumentException($"the lengths add up to {total}, not to the {tokens.Length} tokens", nameof(lengths));
        foreach (int token in tokens)
            if ((uint)token >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(tokens), token, $"token id outside [0, {vocab})");
        bool allRows = lengths.Length == 1 && logitsLength == (long)tokens.Length * vocab && tokens.Length > 1;
        if (!allRows && logitsLength != (long)lengths.Length * vocab)
        {
            throw new ArgumentException(lengths.Length == 1
                ? $"logits must have length VocabSize ({vocab}) or tokens × VocabSize ({(long)tokens.Length * vocab}), not {logitsLength}"
                : $"logits must have length runs × VocabSize ({(long)lengths.Length * vocab}): each run's last row, not {logitsLength}", "logits");
        }
        return allRows;
    }

    /// <summary>Where a call has got to: the run and the tokens of it already in earlier chunks.</summary>
    public struct Cursor
    {
        public int Run;
        public int Done;
    }

    /// <summary>
    /// The tables of the next chunk of <paramref name="n"/> tokens: <paramref name="tok"/> (n, 2) holds each token's
    /// first cell of its sequence and its position; <paramref name="wanted"/> the chunk rows whose logits are wanted
    /// (a run's last token, or every token with <paramref name="allRows"/>), increasing. Returns how many rows are
    /// wanted; <paramref name="inOrder"/> says whether the chunk's tokens fill consecutive cells (keys and values can
    /// then be written straight into the cache).
    /// </summary>
    public int Fill(ref Cursor cursor, ReadOnlySpan<int> lengths, ReadOnlySpan<int> sequences, int n, bool allRows, int* tok, int* wanted, out bool inOrder)
    {
        int count = 0;
        inOrder = true;
        long previous = -1;
        for (int t = 0; t < n; t++)
        {
            int s = sequences[cursor.Run];
            int pos = _positions[s] + cursor.Done;
            int first = s * Context;
            tok[2 * t] = first;
            tok[2 * t + 1] = pos;
            if (t > 0 && first + pos != previous + 1) inOrder = false;
            previous = first + pos;
            if (++cursor.Done == lengths[cursor.Run])
            {
                wanted[count++] = t;
                cursor.Run++;
                cursor.Done = 0;
            }
            else if (allRows) wanted[count++] = t;
        }
        return count;
    }

    /// <summary>After every chunk of a call: each run's sequence now holds its tokens.</summary>
    public void Advance(ReadOnlySpan<int> lengths, ReadOnlySpan<int> sequences)
    {
        for (int i = 0; i < lengths.Length; i++) _positions[sequences[i]] += lengths[i];
    }
}
