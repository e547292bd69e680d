using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ingot.Formats;

namespace Ingot.Runtime.Quants;

/// <summary>
/// A tile of a quantized matmul: y[t * yStride + i] = W[i, :] · A[t, :] for rows i &lt; rows and tokens t &lt; tokens,
/// W row i at w + i * rowBytes, activation row t (already in the weight type's partner form) at a + t * aStride,
/// cols elements per row. The generated decode and prefill bodies call one of these per tile of rows; each weight
/// row is read from memory once and reused from L1 for every token of the tile. Every row's result is computed by the
/// same sequence of operations whatever the tile size or token count, so decode, prefill and any thread split agree
/// bit for bit.
/// Types without a dedicated kernel loop over <see cref="VecDot"/>; Q4_0 has a restructured AVX2 kernel (below).
/// </summary>
public static unsafe class VecDotRows
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Loop(delegate*<byte*, byte*, int, float> dot, byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        for (int i = 0; i < rows; i++, w += rowBytes)
            for (int t = 0; t < tokens; t++)
                y[t * yStride + i] = dot(w, a + t * aStride, cols);
    }

    public static void Q8_0Q8_0(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Loop(&VecDot.Q8_0Q8_0, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    public static void Q4_1Q8_1(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Loop(&VecDot.Q4_1Q8_1, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    public static void Q5_0Q8_0(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Loop(&VecDot.Q5_0Q8_0, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    public static void Q5_1Q8_1(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Loop(&VecDot.Q5_1Q8_1, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    public static void IQ4_NLQ8_0(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Loop(&VecDot.IQ4_NLQ8_0, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    public static void Q2_KQ8_K(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Loop(&VecDot.Q2_KQ8_K, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    public static void Q3_KQ8_K(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Loop(&VecDot.Q3_KQ8_K, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    public static void Q4_KQ8_K(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Loop(&VecDot.Q4_KQ8_K, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    public static void Q5_KQ8_K(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Loop(&VecDot.Q5_KQ8_K, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    public static void Q6_KQ8_K(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Loop(&VecDot.Q6_KQ8_K, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    public static void IQ4_XSQ8_K(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Loop(&VecDot.IQ4_XSQ8_K, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    public static void BF16BF16(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Loop(&VecDot.BF16BF16, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);

    /// <summary>Q4_0 weights · Q8_0 activations: the grouped AVX2 kernel when cols is a multiple of 256, else per-row dots.</summary>
    public static void Q4_0Q8_0(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        if (Avx2.IsSupported && cols % Q4_0Groups.Elements == 0) Q4_0Groups.Rows(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
        else Loop(&VecDot.Q4_0Q8_0, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    }

    /// <summary>The rows kernel for a weight type (tests and benchmarks; generated code names the method directly).</summary>
    public static delegate*<byte*, nint, int, byte*, nint, int, int, float*, nint, void> For(GgmlType type) => type switch
    {
        GgmlType.Q8_0 => &Q8_0Q8_0,
        GgmlType.Q4_0 => &Q4_0Q8_0,
        GgmlType.Q4_1 => &Q4_1Q8_1,
        GgmlType.Q5_0 => &Q5_0Q8_0,
        GgmlType.Q5_1 => &Q5_1Q8_1,
        GgmlType.IQ4_NL => &IQ4_NLQ8_0,
        GgmlType.Q2_K => &Q2_KQ8_K,
        GgmlType.Q3_K => &Q3_KQ8_K,
        GgmlType.Q4_K => &Q4_KQ8_K,
        GgmlType.Q5_K => &Q5_KQ8_K,
        GgmlType.Q6_K => &Q6_KQ8_K,
        GgmlType.IQ4_XS => &IQ4_XSQ8_K,
        GgmlType.BF16 => &BF16BF16,
        _ => throw new NotSupportedException($"no rows kernel for weight type {type}"),
    };
}

/// <summary>
/// Q4_0 · Q8_0 over groups of 8 blocks (256 elements), AVX2. The per-block float work of the plain vec-dot
/// (convert, scale lookups, broadcast, FMA: about half its instructions) is done once per 8 blocks instead:
/// <list type="bullet">
/// <item>the activation is rearranged once per call (<see cref="Prepare"/>): for block pair (2p, 2p+1) one 32-byte vector
/// of both blocks' elements 0..15 and one of 16..31, so a 256-bit load of the weight codes [block 2p | block 2p+1]
/// pairs with it directly; plus per block 8·Σq (the −8 code offset) and the f32 scale;</item>
/// <item>per pair: low/high nibbles, two maddubs, one add (16-bit lanes ≤ 2·15·128·2 = 7680); three phaddw levels and a
/// pmaddwd reduce the 4 pairs to one int32 per block (≤ 30720 before the last widening step: no overflow), in lane
/// order b0 b2 b4 b6 | b1 b3 b5 b7;</item>
/// <item>the 8 block sums minus the offsets (exact integers, as ggml's sumi), converted once, and the 8 products of
/// weight and activation scales; then one scalar FMA per block in block order, as llama.cpp's repacked Q4_0 kernels
/// accumulate (the float order decides near-ties of the next activation quantization).</item>
/// </list>
/// Measured (NativeAOT, x86-x64-v3, Zen 4, one thread): 26 GB/s from L2 and 22-25 GB/s from DRAM, against 18 / 17 for
/// the per-block vec-dot. The rows stream sequentially (an 8-row interleave was tried: 27 GB/s hot but 8-13 from DRAM,
/// the interleaved streams defeat the prefetchers).
/// </summary>
internal static unsafe class Q4_0Groups
{
    public const int Elements = 256;          // 8 blocks
    public const int WeightBytes = 8 * 18;    // one group of weights
    public const int PreparedBytes = 320;     // 4 pairs × (32 + 32) codes' partners, int off[8], float d[8]

    [ThreadStatic] private static byte* t_scratch;
    [ThreadStatic] private static nint t_scratchBytes;

    /// <summary>A per-thread buffer of at least <paramref name="bytes"/>, 64-byte aligned; grows, never shrinks (no allocation per token).</summary>
    private static byte* Scratch(nint bytes)
    {
        if (t_scratchBytes < bytes)
        {
            if (t_scratch != null) NativeMemory.AlignedFree(t_scratch);
            t_scratch = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
            t_scratchBytes = bytes;
        }
        return t_scratch;
    }

    /// <summary>Rearranges one Q8_0 activation row (cols / 32 blocks of 34 bytes) into groups of <see cref="PreparedBytes"/>.</summary>
    public static void Prepare(byte* a, int cols, byte* s)
    {
        float* f16 = Fp.F16Table;
        Vector256<byte> eight = Vector256.Create((byte)8);
        for (int g = 0; g < cols / Elements; g++, s += PreparedBytes, a += 8 * 34)
        {
            // per pair p: [block 2p elements 0..15 | block 2p+1 elements 0..15], then the same for elements 16..31;
            // 8·Σq per block through the same reduction as Row (16-bit lanes ≤ 8·128·2·2·8 = 32768 in magnitude: the
            // extreme −32768 still fits), landing in Row's lane order b0 b2 b4 b6 | b1 b3 b5 b7
            Vector256<short> v0 = PreparePair(a, s, 0, eight), v1 = PreparePair(a, s, 1, eight);
            Vector256<short> v2 = PreparePair(a, s, 2, eight), v3 = PreparePair(a, s, 3, eight);
            Vector256<short> h = Avx2.HorizontalAdd(Avx2.HorizontalAdd(v0, v1), Avx2.HorizontalAdd(v2, v3));
            Avx2.MultiplyAddAdjacent(h, Vector256<short>.One).Store((int*)(s + 256));
            Vector256.Create(f16[*(ushort*)a], f16[*(ushort*)(a + 68)], f16[*(ushort*)(a + 136)], f16[*(ushort*)(a + 204)],
                             f16[*(ushort*)(a + 34)], f16[*(ushort*)(a + 102)], f16[*(ushort*)(a + 170)], f16[*(ushort*)(a + 238)]).Store((float*)(s + 288));
        }
    }

    /// <summary>Stores pair p's two rearranged vectors; returns 8·(q[2k] + q[2k+1]) summed over both halves, 16-bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> PreparePair(byte* a, byte* s, int p, Vector256<byte> eight)
    {
        byte* b0 = a + 68 * p + 2, b1 = b0 + 34;
        Vector256<sbyte> lo = Vector256.Create(Vector128.Load(b0), Vector128.Load(b1)).AsSByte();
        Vector256<sbyte> hi = Vector256.Create(Vector128.Load(b0 + 16), Vector128.Load(b1 + 16)).AsSByte();
        lo.Store((sbyte*)s + 64 * p);
        hi.Store((sbyte*)s + 64 * p + 32);
        return Avx2.MultiplyAddAdjacent(eight, lo) + Avx2.MultiplyAddAdjacent(eight, hi);
    }

    public static void Rows(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        int groups = cols / Elements;
        nint prepared = (nint)groups * PreparedBytes;
        byte* s = Scratch(prepared * tokens + (nint)groups * 2 * 8 * 64);
        for (int t = 0; t < tokens; t++) Prepare(a + t * aStride, cols, s + t * prepared);
        // 8 rows per batch, their FMA chains (one FMA per block, in block order) side by side in the lanes of one vector;
        // every output gets exactly Row's operations (bit-identical), see Batch8Core.
        float* chains = (float*)(s + prepared * tokens);
        int i = 0;
        for (; i + 7 < rows; i += 8, w += 8 * rowBytes)
        {
            int t = 0;
            for (; t + 1 < tokens; t += 2) Batch8(w, rowBytes, s + t * prepared, s + (t + 1) * prepared, groups, y + t * yStride + i, y + (t + 1) * yStride + i, chains);
            if (t < tokens) Batch8(w, rowBytes, s + t * prepared, null, groups, y + t * yStride + i, null, chains);
        }
        for (; i < rows; i++, w += rowBytes)
        {
            int t = 0;
            for (; t + 1 < tokens; t += 2)
                y[t * yStride + i] = Row2(w, s + t * prepared, s + (t + 1) * prepared, groups, out y[(t + 1) * yStride + i]);
            if (t < tokens) y[t * yStride + i] = Row(w, s + t * prepared, groups);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Batch8(byte* w, nint rowBytes, byte* s0, byte* s1, int groups, float* y0, float* y1, float* chains)
    {
        if (AvxVnni.IsSupported) Batch8Core(w, rowBytes, s0, s1, groups, y0, y1, chains, vnni: true);
        else Batch8Core(w, rowBytes, s0, s1, groups, y0, y1, chains, vnni: false);
    }

    /// <summary>
    /// 8 rows against one or two prepared activations (s1 may be null). Pass 1 streams the rows one after the other
    /// (one memory stream; codes decoded once for both tokens) and keeps each group's 8 block sums and 8 scale
    /// products in <paramref name="chains"/> (groups × 16 floats per row and token); pass 2 runs the rows' FMA chains
    /// side by side, one lane per row: per group an 8×8 transpose, then one vector FMA per block in block order.
    /// Each lane does exactly <see cref="Row"/>'s operations. y0[r], y1[r] = row r.
    /// (Measured against the former 8-block-lane kernel, which did not follow llama.cpp's order: about 80 % of its
    /// decode throughput; one chain per row, or several rows interleaved, reached 45-60 %.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Batch8Core(byte* w, nint rowBytes, byte* s0, byte* s1, int groups, float* y0, float* y1, float* chains, bool vnni)
    {
        nint rs = (nint)groups * 16, ts = 8 * rs; // floats per row, per token
        for (int r = 0; r < 8; r++)
        {
            byte* wr = w + r * rowBytes, a0 = s0, a1 = s1;
            float* o = chains + r * rs;
            for (int g = 0; g < groups; g++, a0 += PreparedBytes, a1 += PreparedBytes, wr += WeightBytes, o += 16)
            {
                Prefetch.Step(wr, WeightBytes);
                var codes = new Codes(wr);
                Vector256<float> dw = WeightScales(wr);
                Vector256.ConvertToSingle(codes.Sums(a0, vnni)).Store(o);
                (dw * Vector256.Load((float*)(a0 + 288))).Store(o + 8);
                if (s1 != null)
                {
                    Vector256.ConvertToSingle(codes.Sums(a1, vnni)).Store(o + ts);
                    (dw * Vector256.Load((float*)(a1 + 288))).Store(o + ts + 8);
                }
            }
        }
        Chains8(chains, rs, groups, y0);
        if (s1 != null) Chains8(chains + ts, rs, groups, y1);
    }

    /// <summary>Pass 2 for 8 rows (rs floats apart): y[r] = the block-order FMA chain of row r's sums and scale products.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Chains8(float* c, nint rs, int groups, float* y)
    {
        Vector256<float> acc = Vector256<float>.Zero;
        for (int g = 0; g < groups; g++)
        {
            float* o = c + g * 16;
            Transpose8(Vector256.Load(o), Vector256.Load(o + rs), Vector256.Load(o + 2 * rs), Vector256.Load(o + 3 * rs),
                       Vector256.Load(o + 4 * rs), Vector256.Load(o + 5 * rs), Vector256.Load(o + 6 * rs), Vector256.Load(o + 7 * rs),
                       out var v0, out var v1, out var v2, out var v3, out var v4, out var v5, out var v6, out var v7);
            Transpose8(Vector256.Load(o + 8), Vector256.Load(o + rs + 8), Vector256.Load(o + 2 * rs + 8), Vector256.Load(o + 3 * rs + 8),
                       Vector256.Load(o + 4 * rs + 8), Vector256.Load(o + 5 * rs + 8), Vector256.Load(o + 6 * rs + 8), Vector256.Load(o + 7 * rs + 8),
                       out var d0, out var d1, out var d2, out var d3, out var d4, out var d5, out var d6, out var d7);
            // lane k of the stored vectors is block b0 b2 b4 b6 b1 b3 b5 b7: blocks in order are k = 0, 4, 1, 5, 2, 6, 3, 7
            acc = Vector256.FusedMultiplyAdd(v0, d0, acc);
            acc = Vector256.FusedMultiplyAdd(v4, d4, acc);
            acc = Vector256.FusedMultiplyAdd(v1, d1, acc);
            acc = Vector256.FusedMultiplyAdd(v5, d5, acc);
            acc = Vector256.FusedMultiplyAdd(v2, d2, acc);
            acc = Vector256.FusedMultiplyAdd(v6, d6, acc);
            acc = Vector256.FusedMultiplyAdd(v3, d3, acc);
            acc = Vector256.FusedMultiplyAdd(v7, d7, acc);
        }
        acc.Store(y);
    }

    /// <summary>8×8 float transpose: output k, lane r = input r, lane k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
                                   Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
                                   out Vector256<float> o0, out Vector256<float> o1, out Vector256<float> o2, out Vector256<float> o3,
                                   out Vector256<float> o4, out Vector256<float> o5, out Vector256<float> o6, out Vector256<float> o7)
    {
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        o0 = Avx.Permute2x128(u0, u4, 0x20); o1 = Avx.Permute2x128(u1, u5, 0x20); o2 = Avx.Permute2x128(u2, u6, 0x20); o3 = Avx.Permute2x128(u3, u7, 0x20);
        o4 = Avx.Permute2x128(u0, u4, 0x31); o5 = Avx.Permute2x128(u1, u5, 0x31); o6 = Avx.Permute2x128(u2, u6, 0x31); o7 = Avx.Permute2x128(u3, u7, 0x31);
    }

    /// <summary>Stores the 8 block sums and the 8 scale products in block order (from lanes b0 b2 b4 b6 | b1 b3 b5 b7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BlockOrder(Vector256<float> sums, Vector256<float> d, float* t)
    {
        Vector256<int> order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
        Vector256.Shuffle(sums, order).Store(t);
        Vector256.Shuffle(d, order).Store(t + 8);
    }

    /// <summary>One weight row against one prepared activation row. Both variants compute the same exact integer sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Row(byte* w, byte* s, int groups) => AvxVnni.IsSupported ? RowVnni(w, s, groups) : RowAvx2(w, s, groups);

    /// <summary>
    /// One weight row against two prepared activation rows (the prefill register tile): the codes and the weight scales
    /// are decoded once per group for both tokens. Each token's result is bit-identical to <see cref="Row"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Row2(byte* w, byte* s0, byte* s1, int groups, out float y1) =>
        AvxVnni.IsSupported ? Row2Vnni(w, s0, s1, groups, out y1) : Row2Avx2(w, s0, s1, groups, out y1);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float RowAvx2(byte* w, byte* s, int groups) => RowCore(w, s, groups, vnni: false);

    /// <summary>AVX-VNNI: vpdpbusd replaces maddubs + add, and the reduction runs on 32-bit lanes (3 phaddd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float RowVnni(byte* w, byte* s, int groups) => RowCore(w, s, groups, vnni: true);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Row2Avx2(byte* w, byte* s0, byte* s1, int groups, out float y1) => Row2Core(w, s0, s1, groups, vnni: false, out y1);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Row2Vnni(byte* w, byte* s0, byte* s1, int groups, out float y1) => Row2Core(w, s0, s1, groups, vnni: true, out y1);

    /// <summary>The row loop; <paramref name="vnni"/> is a constant at both call sites, so each keeps one pair-dot form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float RowCore(byte* w, byte* s, int groups, bool vnni)
    {
        float acc = 0;
        float* t = stackalloc float[16];
        for (int g = 0; g < groups; g++, s += PreparedBytes, w += WeightBytes)
        {
            Prefetch.Step(w, WeightBytes);
            var codes = new Codes(w);
            acc = Chain8(Vector256.ConvertToSingle(codes.Sums(s, vnni)), WeightScales(w) * Vector256.Load((float*)(s + 288)), acc, t);
        }
        return acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Row2Core(byte* w, byte* s0, byte* s1, int groups, bool vnni, out float y1)
    {
        float acc0 = 0, acc1 = 0;
        float* t = stackalloc float[32];
        for (int g = 0; g < groups; g++, s0 += PreparedBytes, s1 += PreparedBytes, w += WeightBytes)
        {
            Prefetch.Step(w, WeightBytes);
            var codes = new Codes(w);
            Vector256<float> dw = WeightScales(w);
            Vector256<float> v0 = Vector256.ConvertToSingle(codes.Sums(s0, vnni)), d0 = dw * Vector256.Load((float*)(s0 + 288));
            Vector256<float> v1 = Vector256.ConvertToSingle(codes.Sums(s1, vnni)), d1 = dw * Vector256.Load((float*)(s1 + 288));
            BlockOrder(v0, d0, t);
            BlockOrder(v1, d1, t + 16);
            for (int b = 0; b < 8; b++)
            {
                acc0 = MathF.FusedMultiplyAdd(t[b], t[8 + b], acc0);
                acc1 = MathF.FusedMultiplyAdd(t[16 + b], t[24 + b], acc1);
            }
        }
        y1 = acc1;
        return acc0;
    }

    /// <summary>
    /// llama.cpp's repacked Q4_0 order: acc = fma(block dot, d_w·d_a, acc) for the group's 8 blocks in block order
    /// (the vectors hold lanes b0 b2 b4 b6 | b1 b3 b5 b7). t: 16 floats of scratch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Chain8(Vector256<float> sums, Vector256<float> d, float acc, float* t)
    {
        BlockOrder(sums, d, t);
        for (int b = 0; b < 8; b++) acc = MathF.FusedMultiplyAdd(t[b], t[8 + b], acc);
        return acc;
    }

    /// <summary>The 8 blocks' f16 scales as floats, in the reduced lane order b0 b2 b4 b6 | b1 b3 b5 b7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> WeightScales(byte* w)
    {
        float* f16 = Fp.F16Table;
        return Vector256.Create(f16[*(ushort*)w], f16[*(ushort*)(w + 36)], f16[*(ushort*)(w + 72)], f16[*(ushort*)(w + 108)],
                                f16[*(ushort*)(w + 18)], f16[*(ushort*)(w + 54)], f16[*(ushort*)(w + 90)], f16[*(ushort*)(w + 126)]);
    }

    /// <summary>
    /// One group's codes, decoded once: per pair p (blocks 2p, 2p+1) the low nibbles [block 2p elements 0..15 | block
    /// 2p+1 elements 0..15] and the high nibbles (elements 16..31).
    /// </summary>
    private readonly struct Codes
    {
        private readonly Vector256<byte> _lo0, _hi0, _lo1, _hi1, _lo2, _hi2, _lo3, _hi3;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Codes(byte* w)
        {
            Vector256<byte> m4 = Vector256.Create((byte)0x0F);
            Vector256<byte> q0 = Vector256.Create(Vector128.Load(w + 2), Vector128.Load(w + 20));
            Vector256<byte> q1 = Vector256.Create(Vector128.Load(w + 38), Vector128.Load(w + 56));
            Vector256<byte> q2 = Vector256.Create(Vector128.Load(w + 74), Vector128.Load(w + 92));
            Vector256<byte> q3 = Vector256.Create(Vector128.Load(w + 110), Vector128.Load(w + 128));
            _lo0 = q0 & m4; _hi0 = Int8Dot.ShiftRightBytes(q0, 4);
            _lo1 = q1 & m4; _hi1 = Int8Dot.ShiftRightBytes(q1, 4);
            _lo2 = q2 & m4; _hi2 = Int8Dot.ShiftRightBytes(q2, 4);
            _lo3 = q3 & m4; _hi3 = Int8Dot.ShiftRightBytes(q3, 4);
        }

        /// <summary>The 8 blocks' exact Σ(c − 8)·q against prepared activation s, lanes b0 b2 b4 b6 | b1 b3 b5 b7.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<int> Sums(byte* s, bool vnni)
        {
            Vector256<int> sums = vnni
                ? Avx2.HorizontalAdd(Avx2.HorizontalAdd(PairVnni(_lo0, _hi0, s), PairVnni(_lo1, _hi1, s + 64)),
                                     Avx2.HorizontalAdd(PairVnni(_lo2, _hi2, s + 128), PairVnni(_lo3, _hi3, s + 192)))
                : Avx2.MultiplyAddAdjacent(Avx2.HorizontalAdd(Avx2.HorizontalAdd(PairAvx2(_lo0, _hi0, s), PairAvx2(_lo1, _hi1, s + 64)),
                                                              Avx2.HorizontalAdd(PairAvx2(_lo2, _hi2, s + 128), PairAvx2(_lo3, _hi3, s + 192))), Vector256<short>.One);
            return sums - Vector256.Load((int*)(s + 256));
        }

        /// <summary>maddubs of both nibble halves against the prepared pair, added: 16-bit lanes [block 2p: 8 | block 2p+1: 8].</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<short> PairAvx2(Vector256<byte> lo, Vector256<byte> hi, byte* s) =>
            Avx2.MultiplyAddAdjacent(lo, Vector256.Load((sbyte*)s)) + Avx2.MultiplyAddAdjacent(hi, Vector256.Load((sbyte*)s + 32));

        /// <summary>vpdpbusd of both nibble halves: 32-bit lanes [block 2p: 4 | block 2p+1: 4].</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<int> PairVnni(Vector256<byte> lo, Vector256<byte> hi, byte* s) =>
            AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, lo, Vector256.Load((sbyte*)s)), hi, Vector256.Load((sbyte*)s + 32));
    }
}
