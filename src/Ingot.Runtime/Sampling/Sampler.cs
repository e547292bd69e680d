using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ingot.Runtime.Sampling;

/// <summary>
/// Picks the next token from a row of logits. Greedy (argmax, lowest id on ties) when
/// <see cref="SamplerOptions.Temperature"/> &lt;= 0; otherwise llama.cpp's chain in its order:
/// penalties (repeat, frequency, presence) → top-k → top-p → min-p → temperature → softmax → draw, with our own seeded
/// <see cref="Xoshiro256"/> so a seed reproduces the same stream everywhere.
/// <para>
/// Every buffer is sized for the vocabulary once, here; <see cref="Sample"/> and <see cref="Accept"/> allocate
/// nothing. The caller's logits are never modified (the penalty works on a private copy).
/// Candidate order is always (logit descending, id ascending), so ties are deterministic.
/// </para>
/// </summary>
public sealed class Sampler
{
    private readonly float[] _work;   // (vocab) logits after the penalty; NaN replaced by -inf
    private readonly int[] _ids;      // (vocab) candidate token ids; [0, count) are alive
    private readonly double[] _probs; // (vocab) unnormalized probabilities of the candidates, in _ids order
    private readonly int[] _stamp;    // (vocab) "penalized in call #stamp" marks: each distinct recent token is penalized once
    private readonly int[] _counts;   // (vocab) a token's count among the recent ones, during one penalty pass (zero otherwise)
    private readonly int[] _history;  // (RepeatLastN) ring of the most recent accepted tokens
    private int _historyCount, _historyNext, _stampValue;
    private readonly ulong _seed;
    private Xoshiro256 _rng;

    public Sampler(SamplerOptions options, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabSize);
        Options = options;
        VocabSize = vocabSize;
        _work = new float[vocabSize];
        _ids = new int[vocabSize];
        _probs = new double[vocabSize];
        _stamp = new int[vocabSize];
        _counts = new int[vocabSize];
        _history = new int[Math.Max(0, options.RepeatLastN)];
        // An unseeded run draws its seed from Random.Shared (seeded by the OS): sampling needs no secrecy, and the
        // cryptographic generator would load OpenSSL, which a machine running only the executable may not have.
        _seed = options.Seed ?? (ulong)Random.Shared.NextInt64() ^ ((ulong)Random.Shared.Next() << 63);
        _rng = new Xoshiro256(_seed);
    }

    public SamplerOptions Options { get; }
    public int VocabSize { get; }

    /// <summary>The seed in use (the drawn one when <see cref="SamplerOptions.Seed"/> is null), so a run can be repeated.</summary>
    public ulong Seed => _seed;

    /// <summary>Forgets the recent tokens and restarts the PRNG from <see cref="Seed"/>: the next generation repeats the last one.</summary>
    public void Reset()
    {
        _historyCount = 0;
        _historyNext = 0;
        _rng = new Xoshiro256(_seed);
    }

    /// <summary>Records a token (prompt or generated) for the repetition penalty window.</summary>
    public void Accept(int token)
    {
        if (_history.Length == 0) return;
        _history[_historyNext] = token;
        _historyNext = _historyNext + 1 == _history.Length ? 0 : _historyNext + 1;
        if (_historyCount < _history.Length) _historyCount++;
    }

    /// <summary>Index of the largest logit; the lowest index wins ties; NaN never wins (all NaN → 0).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        // The largest value first, then its first index: vector passes where 512-bit vectors are accelerated (a greedy
        // step of 8 batched streams sampled 8 × 32000 logits one by one while the pool's other threads waited). v > max
        // is false for NaN, so NaN never becomes the maximum; ±0 compare equal, so the first of them is found, as the
        // one-pass loop below finds it.
        int n = logits.Length, i = 0;
        if (!Vector512.IsHardwareAccelerated || n < 64) return ArgMaxScalar(logits);
        ref float l0 = ref MemoryMarshal.GetReference(logits);
        var vm = Vector512.Create(float.NegativeInfinity);
        for (; i + 16 <= n; i += 16)
        {
            var v = Vector512.LoadUnsafe(ref l0, (nuint)i);
            vm = Vector512.ConditionalSelect(Vector512.GreaterThan(v, vm), v, vm);
        }
        float max = float.NegativeInfinity;
        for (int l = 0; l < 16; l++) if (vm.GetElement(l) > max) max = vm.GetElement(l);
        for (; i < n; i++) if (logits[i] > max) max = logits[i];
        var target = Vector512.Create(max);
        for (i = 0; i + 16 <= n; i += 16)
        {
            ulong eq = Vector512.Equals(Vector512.LoadUnsafe(ref l0, (nuint)i), target).ExtractMostSignificantBits();
            if (eq != 0) return i + BitOperations.TrailingZeroCount(eq);
        }
        for (; i < n; i++) if (logits[i] == max) return i;
        return 0; // every logit NaN
    }

    private static int ArgMaxScalar(ReadOnlySpan<float> logits)
    {
        int best = 0;
        float bestValue = float.NegativeInfinity;
        bool found = false;
        for (int i = 0; i < logits.Length; i++)
        {
            float v = logits[i];
            if (float.IsNaN(v)) continue;
            if (!found || v > bestValue) { best = i; bestValue = v; found = true; }
        }
        return best;
    }

    /// <summary>Chooses the next token. Does not <see cref="Accept"/> it: the caller does, once it keeps it.</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        if (logits.Length != VocabSize)
            throw new ArgumentException($"logits has {logits.Length} entries, the sampler was made for a vocabulary of {VocabSize}", nameof(logits));
        var o = Options;
        if (o.IsGreedy) return ArgMax(logits);

        float[] work = _work;
        for (int i = 0; i < work.Length; i++) { float v = logits[i]; work[i] = float.IsNaN(v) ? float.NegativeInfinity : v; }

        ApplyRepeatPenalty(work);

        int count = VocabSize;
        bool sorted = false;
        if (o.TopK > 0 && o.TopK < VocabSize)
        {
            count = SelectTopK(work, _ids, o.TopK);
            SortBestFirst(work, _ids.AsSpan(0, count));
            sorted = true;
        }
        else
        {
            for (int i = 0; i < count; i++) _ids[i] = i;
            if (o.TopP < 1f)
            {
                SortBestFirst(work, _ids.AsSpan(0, count));
                sorted = true;
            }
        }

        if (o.TopP < 1f && count > 1) count = CutTopP(work, _ids, count, o.TopP); // needs sorted (it is, see above)
        if (o.MinP > 0f && count > 1) count = FilterMinP(work, _ids, count, o.MinP, sorted);

        // Temperature, then softmax over the survivors (in double: the sums of many small terms stay exact enough).
        double invT = 1.0 / o.Temperature;
        float max = float.NegativeInfinity;
        for (int i = 0; i < count; i++) max = MathF.Max(max, work[_ids[i]]);
        if (float.IsNegativeInfinity(max)) return _ids[0]; // every logit is -inf: nothing to weigh
        double sum = 0;
        for (int i = 0; i < count; i++)
        {
            double p = Math.Exp((work[_ids[i]] - (double)max) * invT);
            _probs[i] = p;
            sum += p;
        }

        double r = _rng.NextDouble() * sum;
        double cumulative = 0;
        for (int i = 0; i < count; i++)
        {
            cumulative += _probs[i];
            if (r < cumulative) return _ids[i];
        }
        // Rounding left r at or beyond the total: the last candidate with non-zero weight.
        for (int i = count - 1; i >= 0; i--) if (_probs[i] > 0) return _ids[i];
        return _ids[0];
    }

    /// <summary>
    /// llama.cpp's penalties sampler: each distinct token among the last N, with its count c there, is penalized once:
    /// its logit divided by the repeat penalty (multiplied when negative), then c × FrequencyPenalty + PresencePenalty
    /// subtracted.
    /// </summary>
    private void ApplyRepeatPenalty(float[] work)
    {
        var o = Options;
        float penalty = o.RepeatPenalty, frequency = o.FrequencyPenalty, presence = o.PresencePenalty;
        if ((penalty == 1f && frequency == 0f && presence == 0f) || _historyCount == 0) return;
        bool counts = frequency != 0f; // only the frequency penalty needs the counts: the default chain skips both passes
        if (counts)
        {
            for (int i = 0; i < _historyCount; i++)
            {
                int t = _history[i];
                if ((uint)t < (uint)work.Length) _counts[t]++;
            }
        }
        int stamp = ++_stampValue;
        if (stamp == int.MaxValue) { Array.Clear(_stamp); _stampValue = stamp = 1; }
        for (int i = 0; i < _historyCount; i++)
        {
            int t = _history[i];
            if ((uint)t >= (uint)work.Length || _stamp[t] == stamp) continue;
            _stamp[t] = stamp;
            if (penalty != 1f) work[t] = work[t] <= 0 ? work[t] * penalty : work[t] / penalty;
            work[t] -= (counts ? _counts[t] * frequency : 0f) + presence;
        }
        if (!counts) return;
        for (int i = 0; i < _historyCount; i++)
        {
            int t = _history[i];
            if ((uint)t < (uint)work.Length) _counts[t] = 0;
        }
    }

    /// <summary>
    /// The k best ids into ids[0..k) (unordered) with a binary min-heap whose root is the worst kept candidate:
    /// O(vocab · log k), no allocation.
    /// </summary>
    private static int SelectTopK(float[] work, int[] ids, int k)
    {
        var heap = ids.AsSpan(0, k);
        for (int i = 0; i < k; i++) heap[i] = i;
        for (int i = k / 2 - 1; i >= 0; i--) SiftDown(work, heap, i);
        for (int id = k; id < work.Length; id++)
        {
            if (!Better(work, id, heap[0])) continue;
            heap[0] = id;
            SiftDown(work, heap, 0);
        }
        return k;
    }

    private static void SiftDown(float[] work, Span<int> heap, int i)
    {
        while (true)
        {
            int worst = i, l = 2 * i + 1, r = l + 1;
            if (l < heap.Length && Better(work, heap[worst], heap[l])) worst = l;
            if (r < heap.Length && Better(work, heap[worst], heap[r])) worst = r;
            if (worst == i) return;
            (heap[i], heap[worst]) = (heap[worst], heap[i]);
            i = worst;
        }
    }

    /// <summary>True if token a ranks before token b: higher logit, then lower id.</summary>
    private static bool Better(float[] work, int a, int b) => work[a] > work[b] || (work[a] == work[b] && a < b);

    /// <summary>Keeps the shortest sorted prefix whose softmax mass (at temperature 1) reaches p; at least one.</summary>
    private int CutTopP(float[] work, int[] ids, int count, float p)
    {
        float max = work[ids[0]];
        if (float.IsNegativeInfinity(max)) return count;
        double sum = 0;
        for (int i = 0; i < count; i++) sum += _probs[i] = Math.Exp(work[ids[i]] - (double)max);
        double target = p * sum, cumulative = 0;
        for (int i = 0; i < count; i++)
        {
            cumulative += _probs[i];
            if (cumulative >= target) return i + 1;
        }
        return count;
    }

    /// <summary>Keeps tokens with p ≥ minP · p_max, i.e. logit ≥ max + ln(minP); at least the best one.</summary>
    private static int FilterMinP(float[] work, int[] ids, int count, float minP, bool sorted)
    {
        float max = float.NegativeInfinity;
        int bestAt = 0;
        for (int i = 0; i < count; i++) if (work[ids[i]] > max) { max = work[ids[i]]; bestAt = i; }
        if (float.IsNegativeInfinity(max)) return count;
        double threshold = max + Math.Log(minP);
        if (sorted)
        {
            int n = 1;
            while (n < count && work[ids[n]] >= threshold) n++;
            return n;
        }
        int kept = 0;
        for (int i = 0; i < count; i++)
            if (work[ids[i]] >= threshold || i == bestAt) ids[kept++] = ids[i];
        return kept;
    }

    /// <summary>
    /// Heapsort, best first: a heap with the worst candidate at the root, whose root is swapped to the back.
    /// (MemoryExtensions.Sort with a comparer allocates a delegate per call; this allocates nothing.)
    /// </summary>
    private static void SortBestFirst(float[] work, Span<int> ids)
    {
        for (int i = ids.Length / 2 - 1; i >= 0; i--) SiftDown(work, ids, i);
        for (int end = ids.Length - 1; end > 0; end--)
        {
            (ids[0], ids[end]) = (ids[end], ids[0]);
            SiftDown(work, ids[..end], 0);
        }
    }
}
