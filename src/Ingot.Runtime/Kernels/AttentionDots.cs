using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// <see cref="Attention"/>'s inner loops 16 positions at a time, AVX-512, each result the bits of the one-position form:
/// <list type="bullet">
/// <item><see cref="Dots16"/>: 16 keys' <see cref="GgmlMath.DotF32"/> with the q vector: each key's 16-lane fold as
/// DotF32V512 forms it, then the 16 folds reduced together by <see cref="GgmlMath.Reduce16"/>'s additions (a_i =
/// v[i+8] + v[i], b_i = a[i+4] + a[i], (b0 + b2) + (b1 + b3)) with shuffles that keep each key's lanes apart;</item>
/// <item><see cref="FmaGroups"/>: the value rows' FMAs for whole groups of 16 positions, 16 columns at a time with the 16
/// lane accumulators in registers instead of a load and a store per position.</item>
/// </list>
/// Measured in prefill (stories110M shape, 128 tokens): the one-position forms with their call per key were 17-21 %
/// of the time.
/// </summary>
internal static unsafe class AttentionDots
{
    /// <summary>
    /// dots[j] = DotF32(k + j·kvStride, q, n) for j &lt; 16, or with <paramref name="lanes"/> (n a multiple of 16)
    /// <see cref="DotLanes"/>; tmp: 64 floats of scratch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dots16(float* k, int kvStride, float* q, int n, float* dots, float* tmp, bool lanes = false)
    {
        int np = lanes ? n : n & ~63;
        Vector512<float> f0 = Fold(k + 0 * (nint)kvStride, q, np, lanes);
        Vector512<float> f1 = Fold(k + 1 * (nint)kvStride, q, np, lanes);
        Vector512<float> f2 = Fold(k + 2 * (nint)kvStride, q, np, lanes);
        Vector512<float> f3 = Fold(k + 3 * (nint)kvStride, q, np, lanes);
        Vector512<float> f4 = Fold(k + 4 * (nint)kvStride, q, np, lanes);
        Vector512<float> f5 = Fold(k + 5 * (nint)kvStride, q, np, lanes);
        Vector512<float> f6 = Fold(k + 6 * (nint)kvStride, q, np, lanes);
        Vector512<float> f7 = Fold(k + 7 * (nint)kvStride, q, np, lanes);
        Vector512<float> f8 = Fold(k + 8 * (nint)kvStride, q, np, lanes);
        Vector512<float> f9 = Fold(k + 9 * (nint)kvStride, q, np, lanes);
        Vector512<float> f10 = Fold(k + 10 * (nint)kvStride, q, np, lanes);
        Vector512<float> f11 = Fold(k + 11 * (nint)kvStride, q, np, lanes);
        Vector512<float> f12 = Fold(k + 12 * (nint)kvStride, q, np, lanes);
        Vector512<float> f13 = Fold(k + 13 * (nint)kvStride, q, np, lanes);
        Vector512<float> f14 = Fold(k + 14 * (nint)kvStride, q, np, lanes);
        Vector512<float> f15 = Fold(k + 15 * (nint)kvStride, q, np, lanes);
        // level 1: keys 2i, 2i+1 → lanes [a of 2i | a of 2i+1]; level 2: 4 keys per vector, [b] per 128-bit lane
        Vector512<float> h0 = Level2(Level1(f0, f1), Level1(f2, f3)), h1 = Level2(Level1(f4, f5), Level1(f6, f7));
        Vector512<float> h2 = Level2(Level1(f8, f9), Level1(f10, f11)), h3 = Level2(Level1(f12, f13), Level1(f14, f15));
        Level3(h0).Store(tmp); Level3(h1).Store(tmp + 16); Level3(h2).Store(tmp + 32); Level3(h3).Store(tmp + 48);
        // lane 0 of each 128-bit lane holds a key's reduced dot; gather them, then the elements past the last 64
        for (int j = 0; j < 16; j++) dots[j] = tmp[4 * j];
        if (np < n)
            for (int j = 0; j < 16; j++)
            {
                float* x = k + j * (nint)kvStride;
                float sum = dots[j];
                for (int i = np; i < n; i++) sum = MathF.FusedMultiplyAdd(x[i], q[i], sum);
                dots[j] = sum;
            }
    }

    /// <summary>Either fold of one key's products into 16 lanes: DotF32's (4 accumulators), or DotLanes' (one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fold(float* x, float* y, int np, bool lanes)
    {
        if (!lanes) return GgmlMath.Fold512(x, y, np);
        Vector512<float> acc = Vector512<float>.Zero;
        for (int i = 0; i < np; i += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(x + i), Vector512.Load(y + i), acc);
        return acc;
    }

    /// <summary>
    /// The dot product of a key and a query in the order ggml forms kq over an F16 cache: q is converted to F16 and the
    /// product goes through llamafile's tinyBLAS when n is a multiple of 16 (one 16-lane accumulator, the 16-element
    /// chunks' FMAs in order, then <see cref="GgmlMath.Reduce16"/>'s additions); else ggml_vec_dot_f16 (DotF32's fold
    /// over the first n &amp; ~63 elements, the rest added in double). The same bits on every ISA path.
    /// </summary>
    public static float DotLanes(float* k, float* q, int n)
    {
        if (n % 16 != 0)
        {
            int np = n & ~63;
            double sum = np > 0 ? GgmlMath.DotF32(k, q, np) : 0.0;
            for (int i = np; i < n; i++) sum += k[i] * q[i]; // a product of two halves is exact in float
            return (float)sum;
        }
        float* acc = stackalloc float[16];
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> lo = Vector256<float>.Zero, hi = lo;
            for (int i = 0; i < n; i += 16)
            {
                lo = Vector256.FusedMultiplyAdd(Vector256.Load(k + i), Vector256.Load(q + i), lo);
                hi = Vector256.FusedMultiplyAdd(Vector256.Load(k + i + 8), Vector256.Load(q + i + 8), hi);
            }
            lo.Store(acc);
            hi.Store(acc + 8);
        }
        else
        {
            for (int l = 0; l < 16; l++)
            {
                float a = 0f;
                for (int i = l; i < n; i += 16) a = MathF.FusedMultiplyAdd(k[i], q[i], a);
                acc[l] = a;
            }
        }
        return GgmlMath.Reduce16(acc);
    }

    /// <summary>A lane row's 16 columns at the start of <see cref="FmaGroups"/>: +0 when fresh, else as stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Start(float* row, bool fresh) => fresh ? Vector512<float>.Zero : Vector512.Load(row);

    /// <summary>[a's lanes 8..15 + 0..7 | b's]: Reduce16's first level for two keys.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Level1(Vector512<float> a, Vector512<float> b) =>
        Avx512F.Shuffle4x128(a, b, 0b11_10_11_10) + Avx512F.Shuffle4x128(a, b, 0b01_00_01_00);

    /// <summary>Per 128-bit lane one key's b_i = a[i+4] + a[i] (keys in the order of x's two, then y's two).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Level2(Vector512<float> x, Vector512<float> y) =>
        Avx512F.Shuffle4x128(x, y, 0b11_01_11_01) + Avx512F.Shuffle4x128(x, y, 0b10_00_10_00);

    /// <summary>Per 128-bit lane [b0 b1 b2 b3] → lane 0 = (b0 + b2) + (b1 + b3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Level3(Vector512<float> h)
    {
        Vector512<float> u = h + Avx512F.Permute4x32(h, 0b01_00_11_10);
        return u + Avx512F.Permute4x32(u, 0b10_11_00_01);
    }

    /// <summary>
    /// Columns [0, 16) at acc (lane L's row at acc + L·headDim) += v_c · p_c for c in [g0, g1) (whole groups of 16,
    /// lane = c mod 16, in order); v_c at v + c·vStride. fresh: the rows start from +0 instead of acc (not read).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FmaGroups(float* acc, int headDim, float* v, int vStride, float* p, int g0, int g1, bool fresh)
    {
        Vector512<float> r0 = Start(acc + 0 * (nint)headDim, fresh);
        Vector512<float> r1 = Start(acc + 1 * (nint)headDim, fresh);
        Vector512<float> r2 = Start(acc + 2 * (nint)headDim, fresh);
        Vector512<float> r3 = Start(acc + 3 * (nint)headDim, fresh);
        Vector512<float> r4 = Start(acc + 4 * (nint)headDim, fresh);
        Vector512<float> r5 = Start(acc + 5 * (nint)headDim, fresh);
        Vector512<float> r6 = Start(acc + 6 * (nint)headDim, fresh);
        Vector512<float> r7 = Start(acc + 7 * (nint)headDim, fresh);
        Vector512<float> r8 = Start(acc + 8 * (nint)headDim, fresh);
        Vector512<float> r9 = Start(acc + 9 * (nint)headDim, fresh);
        Vector512<float> r10 = Start(acc + 10 * (nint)headDim, fresh);
        Vector512<float> r11 = Start(acc + 11 * (nint)headDim, fresh);
        Vector512<float> r12 = Start(acc + 12 * (nint)headDim, fresh);
        Vector512<float> r13 = Start(acc + 13 * (nint)headDim, fresh);
        Vector512<float> r14 = Start(acc + 14 * (nint)headDim, fresh);
        Vector512<float> r15 = Start(acc + 15 * (nint)headDim, fresh);
        for (int c = g0; c < g1; c += 16)
        {
            float* vc = v + (nint)c * vStride;
            r0 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + 0 * (nint)vStride), Vector512.Create(p[c + 0]), r0);
            r1 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + 1 * (nint)vStride), Vector512.Create(p[c + 1]), r1);
            r2 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + 2 * (nint)vStride), Vector512.Create(p[c + 2]), r2);
            r3 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + 3 * (nint)vStride), Vector512.Create(p[c + 3]), r3);
            r4 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + 4 * (nint)vStride), Vector512.Create(p[c + 4]), r4);
            r5 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + 5 * (nint)vStride), Vector512.Create(p[c + 5]), r5);
            r6 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + 6 * (nint)vStride), Vector512.Create(p[c + 6]), r6);
            r7 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + 7 * (nint)vStride), Vector512.Create(p[c + 7]), r7);
            r8 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + 8 * (nint)vStride), Vector512.Create(p[c + 8]), r8);
            r9 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + 9 * (nint)vStride), Vector512.Create(p[c + 9]), r9);
            r10 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + 10 * (nint)vStride), Vector512.Create(p[c + 10]), r10);
            r11 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + 11 * (nint)vStride), Vector512.Create(p[c + 11]), r11);
            r12 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + 12 * (nint)vStride), Vector512.Create(p[c + 12]), r12);
            r13 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + 13 * (nint)vStride), Vector512.Create(p[c + 13]), r13);
            r14 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + 14 * (nint)vStride), Vector512.Create(p[c + 14]), r14);
            r15 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + 15 * (nint)vStride), Vector512.Create(p[c + 15]), r15);
        }
        r0.Store(acc + 0 * (nint)headDim);
        r1.Store(acc + 1 * (nint)headDim);
        r2.Store(acc + 2 * (nint)headDim);
        r3.Store(acc + 3 * (nint)headDim);
        r4.Store(acc + 4 * (nint)headDim);
        r5.Store(acc + 5 * (nint)headDim);
        r6.Store(acc + 6 * (nint)headDim);
        r7.Store(acc + 7 * (nint)headDim);
        r8.Store(acc + 8 * (nint)headDim);
        r9.Store(acc + 9 * (nint)headDim);
        r10.Store(acc + 10 * (nint)headDim);
        r11.Store(acc + 11 * (nint)headDim);
        r12.Store(acc + 12 * (nint)headDim);
        r13.Store(acc + 13 * (nint)headDim);
        r14.Store(acc + 14 * (nint)headDim);
        r15.Store(acc + 15 * (nint)headDim);
    }
}
