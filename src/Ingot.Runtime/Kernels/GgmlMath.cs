using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// Float kernels that reproduce llama.cpp's x86 CPU backend (c392e50, GGML_NATIVE on an AVX-512 machine) bit for bit:
/// the same operations in the same order, so that a value which lands within an ulp of a rounding boundary of the next
/// activation quantization (Q8_0/Q8_K) rounds the same way as in llama.cpp. Every path (scalar, Vector128/256/512)
/// gives the same bits: the lane structure is fixed by the algorithm, not by the machine's vector width.
/// <list type="bullet">
/// <item><see cref="Exp"/>: ggml_v_expf, AVX-512 form (range reduction by 2^n with a 0x1.8p23 shift, degree-5
/// polynomial, scalef; ±inf/0 beyond |n| &gt; 192), maximum error about 1.5 ulp.</item>
/// <item><see cref="Silu"/>: ggml_v_silu, x / (1 + exp(0 − x)) with that exp.</item>
/// <item><see cref="DotF32"/>: ggml_vec_dot_f32 (AVX-512): 4 accumulators × 16 lanes over steps of 64 elements,
/// folded x0+x2, x1+x3, x0+x1, then <see cref="Reduce16"/>; elements past the last full step are added by
/// scalar FMA (GCC contracts that loop).</item>
/// <item><see cref="Reduce16"/>: GCC's _mm512_reduce_add_ps tree (256-bit halves, 128-bit halves, lanes 0+2 and 1+3,
/// then their sum); tinyBLAS' hsum of a 16-lane accumulator.</item>
/// </list>
/// Read from ggml/src/ggml-cpu/ggml-cpu.c (ggml_v_expf, ggml_v_silu, ggml_vec_dot_f32, GGML_F32x16_REDUCE) and
/// llamafile/sgemm.cpp (tinyBLAS, hsum); verified against llama.cpp's logits and activations in shared/golden.
/// </summary>
public static unsafe class GgmlMath
{
    private static readonly float L2E = Bits(0x3fb8aa3bu);     // 0x1.715476p+0
    private static readonly float Ln2Hi = Bits(0x3f317200u);   // 0x1.62e4p-1
    private static readonly float Ln2Lo = Bits(0x35bfbe8eu);   // 0x1.7f7d1cp-20
    private static readonly float P1 = Bits(0x3f7ffff6u);      // 0x1.ffffecp-1
    private static readonly float P2 = Bits(0x3efffedbu);      // 0x1.fffdb6p-2
    private static readonly float P3 = Bits(0x3e2aaf33u);      // 0x1.555e66p-3
    private static readonly float P4 = Bits(0x3d2b9f17u);      // 0x1.573e2ep-5
    private static readonly float P5 = Bits(0x3c072010u);      // 0x1.0e4020p-7
    private const float Shift = 12582912f;                      // 0x1.8p23

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Bits(uint u) => BitConverter.UInt32BitsToSingle(u);

    /// <summary>ggml_v_expf (AVX-512 form) for one value.</summary>
    public static float Exp(float x) => ExpScaled(x, generalScale: false);

    /// <summary><see cref="Exp"/> with every scaling through the general scalef (tests: the fast form must give its bits).</summary>
    internal static float ExpThroughScaleB(float x) => ExpScaled(x, generalScale: true);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ExpScaled(float x, bool generalScale)
    {
        float z = MathF.FusedMultiplyAdd(x, L2E, Shift);
        float n = z - Shift;
        float b = MathF.FusedMultiplyAdd(-n, Ln2Lo, MathF.FusedMultiplyAdd(-n, Ln2Hi, x));
        if (MathF.Abs(n) > 192f) return n <= 0 ? 0f : float.PositiveInfinity; // ordered compare: NaN stays NaN
        float u = b * b;
        float j = MathF.FusedMultiplyAdd(
            MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(P5, b, P4), u, MathF.FusedMultiplyAdd(P3, b, P2)),
            u, MathF.FusedMultiplyAdd(P1, b, 1.0f));
        // scalef(j, n) = j·2^n rounded once. j is within [0.7, 1.42], so for |n| <= 125 the product with the float 2^n
        // (made from its exponent bits) is a normal float and exact: the bits of the general form, which goes through
        // double (subnormal results included) and cost a call per element.
        if (!generalScale && MathF.Abs(n) <= 125f) return j * BitConverter.Int32BitsToSingle(((int)n + 127) << 23);
        return ScaleB(j, n);
    }

    /// <summary>j·2^n rounded once to float: exact in double, one rounding (subnormal results included).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float ScaleB(float j, float n) => (float)Math.ScaleB((double)j, (int)n);

    /// <summary>ggml_v_silu for one value: x / (1 + exp(0 − x)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Silu(float x) => x / (1.0f + Exp(0.0f - x));

    /// <summary>
    /// y = silu(gate) · up (ggml: the silu op, then the mul op). y may alias gate or up. 16 lanes at a time where
    /// 512-bit vectors are accelerated, then 8 where 256-bit are, with every lane's bits as the scalar form's. A group
    /// with a lane beyond the fast exp range goes element by element, so no vector is live across that call (with
    /// <see cref="Exp8"/>'s lane fallback inside the loop the JIT kept vectors on the stack every iteration).
    /// </summary>
    public static void SiluMul(float* gate, float* up, float* y, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                Vector512<float> g = Vector512.Load(gate + i);
                if (!TryExp16(Vector512<float>.Zero - g, out Vector512<float> e))
                {
                    SiluMulScalar(gate + i, up + i, y + i, 16);
                    continue;
                }
                (g / (Vector512<float>.One + e) * Vector512.Load(up + i)).Store(y + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                Vector256<float> g = Vector256.Load(gate + i);
                if (!TryExp8(Vector256<float>.Zero - g, out Vector256<float> e))
                {
                    SiluMulScalar(gate + i, up + i, y + i, 8);
                    continue;
                }
                (g / (Vector256<float>.One + e) * Vector256.Load(up + i)).Store(y + i);
            }
        }
        SiluMulScalar(gate + i, up + i, y + i, n - i);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SiluMulScalar(float* gate, float* up, float* y, int n)
    {
        for (int i = 0; i < n; i++) y[i] = Silu(gate[i]) * up[i];
    }

    /// <summary>
    /// <see cref="Exp(float)"/> of 8 lanes, each lane's bits as the scalar form's: the same operations lane-wise, the
    /// 2^n scaling by exponent bits when every |n| ≤ 125; otherwise (large |x|, NaN) lane by lane through the scalar form.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp8(Vector256<float> x) => TryExp8(x, out Vector256<float> e) ? e : ExpLanes(x);

    /// <summary>
    /// <see cref="Exp8"/>'s fast path: false (and <paramref name="e"/> unusable) when a lane's |n| exceeds 125, where
    /// that lane needs the scalar form's scaling.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryExp8(Vector256<float> x, out Vector256<float> e)
    {
        Vector256<float> shift = Vector256.Create(Shift);
        Vector256<float> n = Vector256.FusedMultiplyAdd(x, Vector256.Create(L2E), shift) - shift;
        Vector256<float> b = Vector256.FusedMultiplyAdd(-n, Vector256.Create(Ln2Lo), Vector256.FusedMultiplyAdd(-n, Vector256.Create(Ln2Hi), x));
        Vector256<float> u = b * b;
        Vector256<float> j = Vector256.FusedMultiplyAdd(
            Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(Vector256.Create(P5), b, Vector256.Create(P4)), u,
                                       Vector256.FusedMultiplyAdd(Vector256.Create(P3), b, Vector256.Create(P2))),
            u, Vector256.FusedMultiplyAdd(Vector256.Create(P1), b, Vector256<float>.One));
        e = j * Vector256.ShiftLeft(Vector256.ConvertToInt32Native(n) + Vector256.Create(127), 23).AsSingle();
        return Vector256.LessThanOrEqualAll(Vector256.Abs(n), Vector256.Create(125f));
    }

    /// <summary><see cref="Exp8"/>'s steps on 16 lanes (the same bits per lane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp16(Vector512<float> x) =>
        TryExp16(x, out Vector512<float> e) ? e : Vector512.Create(ExpLanes(x.GetLower()), ExpLanes(x.GetUpper()));

    /// <summary>
    /// <see cref="Exp16"/>'s fast path: false (and <paramref name="e"/> unusable) when a lane's |n| exceeds 125, where
    /// that lane needs the scalar form's scaling.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryExp16(Vector512<float> x, out Vector512<float> e)
    {
        Vector512<float> shift = Vector512.Create(Shift);
        Vector512<float> n = Vector512.FusedMultiplyAdd(x, Vector512.Create(L2E), shift) - shift;
        Vector512<float> b = Vector512.FusedMultiplyAdd(-n, Vector512.Create(Ln2Lo), Vector512.FusedMultiplyAdd(-n, Vector512.Create(Ln2Hi), x));
        Vector512<float> u = b * b;
        Vector512<float> j = Vector512.FusedMultiplyAdd(
            Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(Vector512.Create(P5), b, Vector512.Create(P4)), u,
                                       Vector512.FusedMultiplyAdd(Vector512.Create(P3), b, Vector512.Create(P2))),
            u, Vector512.FusedMultiplyAdd(Vector512.Create(P1), b, Vector512<float>.One));
        e = j * Vector512.ShiftLeft(Vector512.ConvertToInt32Native(n) + Vector512.Create(127), 23).AsSingle();
        return Vector512.LessThanOrEqualAll(Vector512.Abs(n), Vector512.Create(125f));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector256<float> ExpLanes(Vector256<float> x) =>
        Vector256.Create(Exp(x[0]), Exp(x[1]), Exp(x[2]), Exp(x[3]), Exp(x[4]), Exp(x[5]), Exp(x[6]), Exp(x[7]));

    /// <summary>GCC's _mm512_reduce_add_ps over 16 values: (v[i] + v[i+8]), then (a[i] + a[i+4]), then (b0 + b2) + (b1 + b3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Reduce16(float* v)
    {
        float a0 = v[8] + v[0], a1 = v[9] + v[1], a2 = v[10] + v[2], a3 = v[11] + v[3];
        float a4 = v[12] + v[4], a5 = v[13] + v[5], a6 = v[14] + v[6], a7 = v[15] + v[7];
        float b0 = a4 + a0, b1 = a5 + a1, b2 = a6 + a2, b3 = a7 + a3;
        return (b0 + b2) + (b1 + b3);
    }

    /// <summary>ggml_vec_dot_f32, AVX-512 order (see the class summary); the widest accelerated path.</summary>
    public static float DotF32(float* x, float* y, int n)
    {
        if (Vector512.IsHardwareAccelerated) return DotF32V512(x, y, n);
        if (Vector256.IsHardwareAccelerated) return DotF32V256(x, y, n);
        if (Vector128.IsHardwareAccelerated) return DotF32V128(x, y, n);
        return DotF32Scalar(x, y, n);
    }

    /// <summary>Scalar form of <see cref="DotF32"/> (same bits): the 64 accumulator lanes one by one.</summary>
    public static float DotF32Scalar(float* x, float* y, int n)
    {
        int np = n & ~63;
        float* r = stackalloc float[16];
        for (int e = 0; e < 16; e++)
        {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int i = e; i < np; i += 64)
            {
                s0 = MathF.FusedMultiplyAdd(x[i], y[i], s0);
                s1 = MathF.FusedMultiplyAdd(x[i + 16], y[i + 16], s1);
                s2 = MathF.FusedMultiplyAdd(x[i + 32], y[i + 32], s2);
                s3 = MathF.FusedMultiplyAdd(x[i + 48], y[i + 48], s3);
            }
            r[e] = (s0 + s2) + (s1 + s3);
        }
        return Tail(x, y, n, np, r);
    }

    /// <summary>Vector128 form of <see cref="DotF32"/> (same bits): each 16-lane accumulator as 4 vectors.</summary>
    public static float DotF32V128(float* x, float* y, int n)
    {
        int np = n & ~63;
        float* r = stackalloc float[16];
        for (int q = 0; q < 16; q += 4)
        {
            Vector128<float> s0 = Vector128<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
            for (int i = q; i < np; i += 64)
            {
                s0 = Vector128.FusedMultiplyAdd(Vector128.Load(x + i), Vector128.Load(y + i), s0);
                s1 = Vector128.FusedMultiplyAdd(Vector128.Load(x + i + 16), Vector128.Load(y + i + 16), s1);
                s2 = Vector128.FusedMultiplyAdd(Vector128.Load(x + i + 32), Vector128.Load(y + i + 32), s2);
                s3 = Vector128.FusedMultiplyAdd(Vector128.Load(x + i + 48), Vector128.Load(y + i + 48), s3);
            }
            ((s0 + s2) + (s1 + s3)).Store(r + q);
        }
        return Tail(x, y, n, np, r);
    }

    /// <summary>Vector256 form of <see cref="DotF32"/> (same bits): each 16-lane accumulator as 2 vectors.</summary>
    public static float DotF32V256(float* x, float* y, int n)
    {
        int np = n & ~63;
        // lanes 0..7 and 8..15 of the 16-lane accumulator, folded and reduced in registers (Reduce16's order)
        Vector256<float> lo = Fold256(x, y, 0, np), hi = Fold256(x, y, 8, np);
        return Tail(x, y, n, np, Reduce16InRegisters(lo, hi));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fold256(float* x, float* y, int q, int np)
    {
        Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
        for (int i = q; i < np; i += 64)
        {
            s0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), Vector256.Load(y + i), s0);
            s1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i + 16), Vector256.Load(y + i + 16), s1);
            s2 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i + 32), Vector256.Load(y + i + 32), s2);
            s3 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i + 48), Vector256.Load(y + i + 48), s3);
        }
        return (s0 + s2) + (s1 + s3);
    }

    /// <summary>Vector512 form of <see cref="DotF32"/> (same bits): ggml's own shape, 4 accumulators of 16 lanes.</summary>
    public static float DotF32V512(float* x, float* y, int n)
    {
        int np = n & ~63;
        Vector512<float> folded = Fold512(x, y, np);
        return Tail(x, y, n, np, Reduce16InRegisters(folded.GetLower(), folded.GetUpper()));
    }

    /// <summary>
    /// <see cref="DotF32V512"/>'s 16 lanes before the reduce: 4 accumulators over the first np (a multiple of 64)
    /// elements, folded (s0 + s2) + (s1 + s3).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Fold512(float* x, float* y, int np)
    {
        Vector512<float> s0 = Vector512<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
        for (int i = 0; i < np; i += 64)
        {
            s0 = Vector512.FusedMultiplyAdd(Vector512.Load(x + i), Vector512.Load(y + i), s0);
            s1 = Vector512.FusedMultiplyAdd(Vector512.Load(x + i + 16), Vector512.Load(y + i + 16), s1);
            s2 = Vector512.FusedMultiplyAdd(Vector512.Load(x + i + 32), Vector512.Load(y + i + 32), s2);
            s3 = Vector512.FusedMultiplyAdd(Vector512.Load(x + i + 48), Vector512.Load(y + i + 48), s3);
        }
        return (s0 + s2) + (s1 + s3);
    }

    /// <summary>The reduce of the folded accumulator r, then the elements past the last full step by scalar FMA.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Tail(float* x, float* y, int n, int np, float* r) => Tail(x, y, n, np, Reduce16(r));

    /// <summary>The elements past the last full step, by scalar FMA onto the reduced sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Tail(float* x, float* y, int n, int np, float sum)
    {
        for (int i = np; i < n; i++) sum = MathF.FusedMultiplyAdd(x[i], y[i], sum);
        return sum;
    }

    /// <summary>
    /// <see cref="Reduce16"/> of lanes 0..7 (lo) and 8..15 (hi) in registers, the same additions: a_i = v[i+8] + v[i],
    /// b_i = a[i+4] + a[i], then (b0 + b2) + (b1 + b3). Without it each dot stored its 16 lanes and read them back one by
    /// one, which cost as much as the FMAs of a 64-element attention dot.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Reduce16InRegisters(Vector256<float> lo, Vector256<float> hi)
    {
        Vector256<float> a = hi + lo;
        Vector128<float> b = a.GetUpper() + a.GetLower();
        return (b.GetElement(0) + b.GetElement(2)) + (b.GetElement(1) + b.GetElement(3));
    }
}
