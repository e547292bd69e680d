using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Ingot.Runtime.Quants;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// One query head over cached keys and values, computed as llama.cpp's CPU graph computes it without flash attention
/// (kq = mul_mat(k, q), the soft-cap ops, soft_max_ext, kqv = mul_mat(v, kq)), bit for bit (see <see cref="GgmlMath"/>):
/// <list type="number">
/// <item>s_c = <see cref="Score"/>(<see cref="GgmlMath.DotF32"/>(k_c, q)) for every visible position c: soft-capped on the raw
/// score when softCap &gt; 0 (tanh(s · (1/cap)) · cap, ggml's scale/tanh/scale), then times scale;</item>
/// <item>max over s; p_c = <see cref="GgmlMath.Exp"/>(s_c − max) in chunks of 16 positions (masked lanes are 0), each chunk
/// reduced by <see cref="GgmlMath.Reduce16"/> and added to a double sum; p_c ·= (float)(1 / sum);</item>
/// <item>out_d = tinyBLAS over positions: 16 lane accumulators (lane = c mod 16, one FMA v_c,d · p_c per position in
/// order), then <see cref="GgmlMath.Reduce16"/>.</item>
/// </list>
/// Visible: c ≤ queryPos (causal) and, with a sliding window, queryPos − c &lt; window; masked positions carry p = 0, as
/// llama.cpp's −inf mask gives. The result does not depend on how many positions llama.cpp pads the cache view to, so
/// decode and prefill agree. q: (headDim); position c of this KV head at kCache/vCache + c·kvStride. Scratch: one
/// per-thread buffer of 64 floats plus, per query head, nKv rounded up to 16 and 16·headDim, grown on demand (not per
/// token). With AVX-512 the dots and the
/// value FMAs run 16 positions at a time (<see cref="AttentionDots"/>), with the same bits.
/// </summary>
public static unsafe class Attention
{
    [ThreadStatic] private static float* t_scratch;
    [ThreadStatic] private static nint t_scratchFloats;

    private static float* Scratch(nint floats)
    {
        if (t_scratchFloats < floats)
        {
            if (t_scratch != null) NativeMemory.AlignedFree(t_scratch);
            floats = Math.Max(floats, 2 * t_scratchFloats);
            t_scratch = (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
            t_scratchFloats = floats;
        }
        return t_scratch;
    }

    /// <summary>Full causal attention of a query at position nKv − 1.</summary>
    public static void Head(float* q, float* kCache, float* vCache, int kvStride, int nKv, int headDim, float scale, float* outHead)
        => Head(q, kCache, vCache, kvStride, nKv, headDim, scale, outHead, 0.0f, 0, nKv - 1);

    /// <summary>With a soft-cap (0 = off) and a sliding window (0 = none) for a query at queryPos.</summary>
    public static void Head(float* q, float* kCache, float* vCache, int kvStride, int nKv, int headDim, float scale, float* outHead,
        float softCap, int window, int queryPos) => Head(q, kCache, vCache, kvStride, nKv, headDim, scale, outHead, softCap, window, queryPos, null);

    /// <summary>
    /// And a bias per key added to the raw dot product before the soft-cap and the scale (ggml adds T5's relative position
    /// bias to kq, then soft_max_ext scales): <paramref name="keyBias"/>[c] for key c, null for none.
    /// </summary>
    public static void Head(float* q, float* kCache, float* vCache, int kvStride, int nKv, int headDim, float scale, float* outHead,
        float softCap, int window, int queryPos, float* keyBias) =>
        Queries(q, 1, kCache, vCache, kvStride, nKv, headDim, scale, outHead, softCap, window, queryPos, keyBias, null, null);

    /// <summary>
    /// <paramref name="count"/> query heads that share these keys and values (GQA: the query heads of one KV head), q and
    /// the outputs headDim apart: each head's result is <c>Head</c>'s, bit for bit, but every key and value row is
    /// read once from memory for all of them (each group of 16 keys meets every query while it is in L1, each run of
    /// <see cref="ValueChunk"/> value rows every query's accumulators).
    /// </summary>
    public static void Heads(float* q, int count, float* kCache, float* vCache, int kvStride, int nKv, int headDim, float scale, float* outHeads,
        float softCap, int window, int queryPos) =>
        Queries(q, count, kCache, vCache, kvStride, nKv, headDim, scale, outHeads, softCap, window, queryPos, null, null, null);

    /// <summary>
    /// <see cref="Heads(float*, int, float*, float*, int, int, int, float, float*, float, int, int)"/> over an F16 cache,
    /// as llama.cpp's F16 cache computes it without flash attention: ggml rounds each query to F16 for kq = mul_mat(k, q)
    /// and the attention weights to F16 for kqv = mul_mat(v, kq), and a product of two halves is exact in F32. Keys and
    /// values are widened to F32 (exactly) in blocks that stay in L1; the dots run in the order ggml's F16 kq takes
    /// (<see cref="AttentionDots.DotLanes"/>), the softmax and the value FMAs as the F32 form's, with the same bits on
    /// every ISA path.
    /// </summary>
    public static void Heads(float* q, int count, Half* kCache, Half* vCache, int kvStride, int nKv, int headDim, float scale, float* outHeads,
        float softCap, int window, int queryPos) =>
        Queries(q, count, kCache, vCache, kvStride, nKv, headDim, scale, outHeads, softCap, window, queryPos, null, null, null);

    /// <summary>One query head over an F16 cache (see the F16 <c>Heads</c>), with an optional bias per key (T5).</summary>
    public static void Head(float* q, Half* kCache, Half* vCache, int kvStride, int nKv, int headDim, float scale, float* outHead,
        float softCap, int window, int queryPos, float* keyBias = null) =>
        Queries(q, 1, kCache, vCache, kvStride, nKv, headDim, scale, outHead, softCap, window, queryPos, keyBias, null, null);

    /// <summary>
    /// <paramref name="queries"/> consecutive queries of one sequence over an F16 cache (a prefill's tokens for one KV
    /// head): query j at position firstPos + j, its <paramref name="count"/> query heads (GQA) at q + j · qStride, headDim
    /// apart, its results at outHeads + j · outStride. Each query's results are <c>Heads</c>' bits; the keys and values
    /// they share are widened to F32 once for the run (where they fit <see cref="WidenedBytes"/>) instead of once per
    /// query: a 512-token prefill of the 110M shape spent 15 % of its time widening the same rows again.
    /// </summary>
    public static void HeadsRun(float* q, int qStride, int queries, int count, Half* kCache, Half* vCache, int kvStride, int headDim, float scale,
        float* outHeads, int outStride, float softCap, int window, int firstPos)
    {
        int lo = window > 0 ? Math.Max(0, firstPos - window + 1) : 0, hi = firstPos + queries - 1;
        nint floats = (nint)(hi - lo + 1) * headDim;
        WidenedRows kw = default, vw = default;
        bool widen = queries > 1 && floats * 2 * sizeof(float) <= WidenedBytes;
        if (widen)
        {
            kw.Rows = (float*)t_widened.Get(2 * floats * sizeof(float));
            vw.Rows = kw.Rows + floats;
            kw.First = kw.End = vw.First = vw.End = lo;
        }
        for (int j = 0; j < queries; j++)
            Queries(q + (nint)j * qStride, count, kCache, vCache, kvStride, firstPos + j + 1, headDim, scale, outHeads + (nint)j * outStride, softCap, window,
                firstPos + j, null, widen ? &kw : null, widen ? &vw : null);
    }

    /// <summary>The most bytes of F32 keys and values a run keeps widened (<see cref="HeadsRun"/>): what stays in a 1 MB L2.</summary>
    private const int WidenedBytes = 1 << 20;

    /// <summary>An F16 cache's rows [First, End) of one head, widened to F32 at Rows (headDim apart) for a run of queries.</summary>
    private struct WidenedRows
    {
        public float* Rows;
        public int First, End;
    }

    [ThreadStatic] private static ThreadBuffer t_widened;

    /// <summary>
    /// Rows [c, c + rows) of a cache as F32 rows: an F32 cache's own (stride kvStride), or an F16 cache's widened into
    /// <paramref name="buf"/> (stride headDim), or, in a run (<paramref name="widened"/> not null), the run's widened
    /// rows, widening those it does not hold yet (a query asks for rows in increasing order, none before the run's first).
    /// </summary>
    private static float* F32Rows<T>(T* cache, int kvStride, int c, int rows, int headDim, float* buf, WidenedRows* widened, out int stride) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            stride = kvStride;
            return (float*)cache + (nint)c * kvStride;
        }
        stride = headDim;
        if (widened != null)
        {
            if (c + rows > widened->End)
            {
                Widen((Half*)cache, kvStride, widened->End, c + rows - widened->End, headDim, widened->Rows + (nint)(widened->End - widened->First) * headDim);
                widened->End = c + rows;
            }
            return widened->Rows + (nint)(c - widened->First) * headDim;
        }
        Widen((Half*)cache, kvStride, c, rows, headDim, buf);
        return buf;
    }

    /// <summary>Rows [c, c + rows) of an F16 cache widened (exactly) to F32 rows headDim apart at dst.</summary>
    private static void Widen(Half* cache, int kvStride, int c, int rows, int headDim, float* dst)
    {
        if (kvStride == headDim) Vec.Convert.F16ToF32(cache + (nint)c * kvStride, dst, rows * headDim); // a head-major cache: one run
        else for (int r = 0; r < rows; r++) Vec.Convert.F16ToF32(cache + (nint)(c + r) * kvStride, dst + (nint)r * headDim, headDim);
    }

    private static void Queries<T>(float* q, int count, T* kCache, T* vCache, int kvStride, int nKv, int headDim, float scale, float* outHeads,
        float softCap, int window, int queryPos, float* keyBias, WidenedRows* kw, WidenedRows* vw) where T : unmanaged
    {
        int last = Math.Min(nKv - 1, queryPos);
        int first = window > 0 ? Math.Max(0, queryPos - window + 1) : 0;
        if (last < first)
        {
            new Span<float>(outHeads, count * headDim).Clear(); // no visible key
            return;
        }
        bool half = typeof(T) == typeof(Half);
        // prefetch from the first position the previous call on this thread did not read, if what it read fits in L2
        // (prefill: the same head's rows for the next query, all in cache but the newest)
        bool hot = kCache == t_kvRead && t_kvReadFirst <= first && (long)(t_kvReadLast - t_kvReadFirst + 1) * headDim * 2 * sizeof(T) <= HotKvBytes;
        int cold = hot ? Math.Max(first, t_kvReadLast + 1) : first;
        t_kvRead = kCache;
        t_kvReadFirst = first;
        t_kvReadLast = last;
        PrefetchKv(kCache, vCache, kvStride, cold, Math.Min(last, cold + KvAhead - 1), headDim);
        // scratch: 64 floats, then per query its nPad probabilities, then per query its 16 lane rows of headDim; an F16
        // cache also widened blocks of 16 keys and ValueChunk values, its queries rounded to F16 and the halves of a rounding
        int nPad = (last + 1 + 15) & ~15;
        int roundHalves = Math.Max(count * headDim, nPad);
        nint halfFloats = half ? (count + 16 + ValueChunk) * (nint)headDim + roundHalves / 2 + 16 : 0;
        float* tmp = Scratch(64 + count * (nPad + 16 * (nint)headDim) + halfFloats);
        float* p0 = tmp + 64, acc0 = p0 + count * (nint)nPad;
        float* kBuf = acc0 + count * 16 * (nint)headDim, vBuf = kBuf + 16 * (nint)headDim, qs = q;
        if (half)
        {
            qs = vBuf + ValueChunk * (nint)headDim;
            Vec.Convert.RoundToF16(q, qs, count * headDim, (Half*)(qs + count * (nint)headDim));
        }

        // the raw dots into each query's p: 16 keys at a time with AVX-512 (their reduction shared, GgmlMath.DotF32's bits,
        // or DotLanes' for an F16 cache), every query while those keys are in L1; the rest one by one
        int c1 = first;
        bool lanes = half && headDim % 16 == 0; // an F16 cache's dots in DotLanes' order
        if (Vector512.IsHardwareAccelerated && (lanes || !half))
            for (; c1 + 16 <= last + 1; c1 += 16)
            {
                PrefetchKv(kCache, vCache, kvStride, Math.Max(cold, c1) + KvAhead, Math.Min(last, c1 + KvAhead + 15), headDim);
                float* k = F32Rows(kCache, kvStride, c1, 16, headDim, kBuf, kw, out int ks);
                for (int j = 0; j < count; j++)
                    AttentionDots.Dots16(k, ks, qs + (nint)j * headDim, headDim, p0 + (nint)j * nPad + c1, tmp, lanes);
            }
        for (int c = c1; c <= last; c++)
        {
            if (((c - first) & 15) == 0) PrefetchKv(kCache, vCache, kvStride, Math.Max(cold, c) + KvAhead, Math.Min(last, c + KvAhead + 15), headDim);
            float* k = F32Rows(kCache, kvStride, c, 1, headDim, kBuf, kw, out _);
            for (int j = 0; j < count; j++)
                p0[(nint)j * nPad + c] = half ? AttentionDots.DotLanes(k, qs + (nint)j * headDim, headDim) : GgmlMath.DotF32(k, qs + (nint)j * headDim, headDim);
        }
        for (int j = 0; j < count; j++)
        {
            float* p = p0 + (nint)j * nPad;
            Softmax(p, first, last, nPad, scale, softCap, keyBias);
            if (half) Vec.Convert.RoundToF16(p + (first & ~15), p + (first & ~15), nPad - (first & ~15), (Half*)(qs + count * (nint)headDim)); // the masked lanes are 0
        }

        // per lane (c mod 16) the FMAs in position order: the partial group before the whole groups of 16 positions, those
        // 16 columns at a time with the 16 lane rows in registers (AVX-512), the partial group after; without whole
        // groups (or AVX-512) every position takes the first loop. The lane rows start at +0: cleared, or (whole groups
        // first) the groups' registers start from zero and their stores write every row. The whole groups run in chunks
        // of ValueChunk positions, every query per chunk (a lane row's FMAs stay in position order)
        int g0 = (first + 15) & ~15, g1 = (last + 1) & ~15;
        if (!(Vector512.IsHardwareAccelerated && headDim % 16 == 0 && g1 > g0)) g0 = g1 = last + 1;
        bool fresh = g1 > g0 && first == g0;
        // the partial groups take each value row once for every query (an F16 row widened once)
        if (!fresh) new Span<float>(acc0, count * 16 * headDim).Clear();
        for (int c = first; c < g0; c++)
        {
            float* v = F32Rows(vCache, kvStride, c, 1, headDim, vBuf, vw, out _);
            for (int j = 0; j < count; j++) FmaRow(acc0 + (j * 16 + (c & 15)) * (nint)headDim, v, p0[(nint)j * nPad + c], headDim);
        }
        for (int cs = g0; cs < g1; cs += ValueChunk)
        {
            int ce = Math.Min(g1, cs + ValueChunk);
            // FmaGroups reads value c at v + c · stride: the chunk's rows placed so that cs lands on their first
            float* v = F32Rows(vCache, kvStride, cs, ce - cs, headDim, vBuf, vw, out int vs) - (nint)cs * vs;
            for (int j = 0; j < count; j++)
                for (int d = 0; d < headDim; d += 16)
                    AttentionDots.FmaGroups(acc0 + j * 16 * (nint)headDim + d, headDim, v + d, vs, p0 + (nint)j * nPad, cs, ce, fresh && cs == g0);
        }
        for (int c = g1; c <= last; c++)
        {
            float* v = F32Rows(vCache, kvStride, c, 1, headDim, vBuf, vw, out _);
            for (int j = 0; j < count; j++) FmaRow(acc0 + (j * 16 + (c & 15)) * (nint)headDim, v, p0[(nint)j * nPad + c], headDim);
        }
        for (int j = 0; j < count; j++) ReduceRows(acc0 + j * 16 * (nint)headDim, headDim, outHeads + (nint)j * headDim);
    }

    /// <summary>
    /// Positions per chunk of the value pass (a multiple of 16): 64 rows of head size 64 are 16 KB, which stay in L1 while
    /// every query's 4 column blocks pass over them. AttentionBenchmarks, 1b shape: 1109 µs per layer at 2048 positions
    /// against 1385 µs with chunks of 256 (one pass per column block from L2), 268 against 303 µs at 512.
    /// </summary>
    private const int ValueChunk = 64;

    /// <summary>
    /// One query's raw dots at p[first..last] → its probabilities: the scores (soft-cap, scale; keyBias added first), their
    /// maximum, exp(s − max) in chunks of 16 positions (p[first &amp; ~15 .. nPad) written; masked lanes 0) summed in double,
    /// then times (float)(1 / sum).
    /// </summary>
    private static void Softmax(float* p, int first, int last, int nPad, float scale, float softCap, float* keyBias)
    {
        // the scores and their maximum
        float max = float.NegativeInfinity;
        int cs = first;
        if (Vector512.IsHardwareAccelerated && keyBias == null && softCap == 0f)
        {
            // the score is dot · scale; lane l keeps the largest of its positions by the scalar loop's test (s > max:
            // NaN never wins), then the lanes in turn (only a ±0 maximum could differ in sign, and s − max, hence exp,
            // is the same for either)
            Vector512<float> vs = Vector512.Create(scale), vm = Vector512.Create(float.NegativeInfinity);
            for (; cs + 16 <= last + 1; cs += 16)
            {
                Vector512<float> sc = Vector512.Load(p + cs) * vs;
                sc.Store(p + cs);
                vm = Vector512.ConditionalSelect(Vector512.GreaterThan(sc, vm), sc, vm);
            }
            for (int l = 0; l < 16; l++) if (vm.GetElement(l) > max) max = vm.GetElement(l);
        }
        for (int c = cs; c <= last; c++)
        {
            float sc = Score(keyBias == null ? p[c] : p[c] + keyBias[c], scale, softCap);
            p[c] = sc;
            if (sc > max) max = sc;
        }
        // Lanes follow absolute positions (c mod 16): the masked ones before the window are zeros in the sum.
        // Masked positions hold −inf, whose exp is 0 (the scalar form's n ≤ 0 branch): 16 or 8 lanes at a time where
        // 512- or 256-bit vectors are accelerated, each lane the scalar exp's bits (GgmlMath.Exp16, Exp8).
        double sum = 0;
        for (int c = first & ~15; c < first; c++) p[c] = float.NegativeInfinity;
        for (int c = last + 1; c < nPad; c++) p[c] = float.NegativeInfinity;
        Vector256<float> m = Vector256.Create(max);
        Vector512<float> m16 = Vector512.Create(max);
        for (int c0 = first & ~15; c0 < nPad; c0 += 16)
        {
            if (Vector512.IsHardwareAccelerated)
                GgmlMath.Exp16(Vector512.Load(p + c0) - m16).Store(p + c0);
            else if (Vector256.IsHardwareAccelerated)
            {
                GgmlMath.Exp8(Vector256.Load(p + c0) - m).Store(p + c0);
                GgmlMath.Exp8(Vector256.Load(p + c0 + 8) - m).Store(p + c0 + 8);
            }
            else
            {
                for (int c = c0; c < c0 + 16; c++) p[c] = GgmlMath.Exp(p[c] - max);
            }
            sum += GgmlMath.Reduce16(p + c0);
        }
        float inv = (float)(1.0 / sum);
        int cn = first;
        if (Vector512.IsHardwareAccelerated)
            for (Vector512<float> vi = Vector512.Create(inv); cn + 16 <= last + 1; cn += 16) (Vector512.Load(p + cn) * vi).Store(p + cn);
        for (int c = cn; c <= last; c++) p[c] *= inv;
    }

    /// <summary>
    /// How many positions ahead of the dots the keys' and values' rows are prefetched (into L2). A decode step reaches
    /// this head's rows (a few lines per position) after its weights have pushed them out of the caches, and a load at a
    /// time waits on memory: prefetching the first 32 positions at once and then 32 ahead of each group of 16 measured
    /// 1.5–1.9× faster heads at 32 to 2048 positions out of cache (110M shape, one thread, rows strided by the
    /// token-major cache row). In a decoder's head-major cache, where a head's rows are one stream, they still gain
    /// 1.15–1.2× (AttentionBenchmarks at 8 × 512 positions, 110m and 1b).
    /// Rows that the thread's previous call read (prefill's next query) are not prefetched again
    /// while they fit in L2 (<see cref="HotKvBytes"/>): prefetches of cached lines cost time too.
    /// </summary>
    private const int KvAhead = 32;

    /// <summary>How many bytes of keys and values the last call read may still be taken to be in cache (L2: 1-2 MB).</summary>
    private const int HotKvBytes = 256 << 10;

    // the keys this thread's last call read (its kCache, first and last positions)
    [ThreadStatic] private static void* t_kvRead;
    [ThreadStatic] private static int t_kvReadFirst, t_kvReadLast;

    /// <summary>Prefetches the key and value rows of positions [c0, c1] (none when c1 &lt; c0) into L2.</summary>
    private static void PrefetchKv<T>(T* k, T* v, int kvStride, int c0, int c1, int headDim) where T : unmanaged
    {
        if (c1 < c0) return;
        Prefetch.RowsL2((byte*)(k + (nint)c0 * kvStride), (nint)kvStride * sizeof(T), c1 - c0 + 1, headDim * sizeof(T));
        Prefetch.RowsL2((byte*)(v + (nint)c0 * kvStride), (nint)kvStride * sizeof(T), c1 - c0 + 1, headDim * sizeof(T));
    }

    /// <summary>The score of one key as ggml computes it: soft-cap on the raw dot product, then the softmax scale.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static float Score(float dot, float scale, float softCap)
    {
        if (softCap > 0.0f) dot = MathF.Tanh(dot * (1.0f / softCap)) * softCap;
        return dot * scale;
    }

    /// <summary>a[d] = fma(v[d], p, a[d]).</summary>
    private static void FmaRow(float* a, float* v, float p, int n)
    {
        int d = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vp = Vector512.Create(p);
            for (; d + 16 <= n; d += 16) Vector512.FusedMultiplyAdd(Vector512.Load(v + d), vp, Vector512.Load(a + d)).Store(a + d);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var vp = Vector256.Create(p);
            for (; d + 8 <= n; d += 8) Vector256.FusedMultiplyAdd(Vector256.Load(v + d), vp, Vector256.Load(a + d)).Store(a + d);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var vp = Vector128.Create(p);
            for (; d + 4 <= n; d += 4) Vector128.FusedMultiplyAdd(Vector128.Load(v + d), vp, Vector128.Load(a + d)).Store(a + d);
        }
        for (; d < n; d++) a[d] = MathF.FusedMultiplyAdd(v[d], p, a[d]);
    }

    private static Vector128<float> Row(float* c0, int n, int i) => Vector128.Load(c0 + (nint)i * n);

    private static Vector512<float> Row16(float* c0, int n, int i) => Vector512.Load(c0 + (nint)i * n);

    /// <summary>out[d] = <see cref="GgmlMath.Reduce16"/> of column d of the 16 rows (n floats each) at acc.</summary>
    private static void ReduceRows(float* acc, int n, float* outp)
    {
        int d = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            // the same additions 16 columns at a time
            for (; d + 16 <= n; d += 16)
            {
                float* c0 = acc + d;
                Vector512<float> a0 = Row16(c0, n, 8) + Row16(c0, n, 0), a1 = Row16(c0, n, 9) + Row16(c0, n, 1), a2 = Row16(c0, n, 10) + Row16(c0, n, 2), a3 = Row16(c0, n, 11) + Row16(c0, n, 3);
                Vector512<float> a4 = Row16(c0, n, 12) + Row16(c0, n, 4), a5 = Row16(c0, n, 13) + Row16(c0, n, 5), a6 = Row16(c0, n, 14) + Row16(c0, n, 6), a7 = Row16(c0, n, 15) + Row16(c0, n, 7);
                Vector512<float> b0 = a4 + a0, b1 = a5 + a1, b2 = a6 + a2, b3 = a7 + a3;
                ((b0 + b2) + (b1 + b3)).Store(outp + d);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; d + 4 <= n; d += 4)
            {
                float* c0 = acc + d;
                Vector128<float> a0 = Row(c0, n, 8) + Row(c0, n, 0), a1 = Row(c0, n, 9) + Row(c0, n, 1), a2 = Row(c0, n, 10) + Row(c0, n, 2), a3 = Row(c0, n, 11) + Row(c0, n, 3);
                Vector128<float> a4 = Row(c0, n, 12) + Row(c0, n, 4), a5 = Row(c0, n, 13) + Row(c0, n, 5), a6 = Row(c0, n, 14) + Row(c0, n, 6), a7 = Row(c0, n, 15) + Row(c0, n, 7);
                Vector128<float> b0 = a4 + a0, b1 = a5 + a1, b2 = a6 + a2, b3 = a7 + a3;
                ((b0 + b2) + (b1 + b3)).Store(outp + d);
            }
        }
        float* col = stackalloc float[16];
        for (; d < n; d++)
        {
            for (int i = 0; i < 16; i++) col[i] = acc[(nint)i * n + d];
            outp[d] = GgmlMath.Reduce16(col);
        }
    }
}
