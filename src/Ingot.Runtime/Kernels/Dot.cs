using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// Row dot products: a weight row (F32 / F16 / BF16) times an activation (F32 or F16), f32 accumulation.
/// Each kind has a Scalar reference (double accumulation, the oracle for tests) and V128 / V256 / V512 paths,
/// all public so tests can call each directly (V512 runs emulated on AVX2 machines). The dispatchers pick the
/// widest accelerated width; the JIT / NativeAOT fold IsHardwareAccelerated to a constant.
/// SIMD paths keep 4 independent accumulators (hides the 4-cycle FMA latency) and use MultiplyAddEstimate
/// (one FMA where the ISA has it, multiply+add otherwise — FusedMultiplyAdd would be emulated slowly without FMA).
/// </summary>
public static unsafe class Dot
{
    // ---------------- F32 · F32 ----------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float F32(float* a, float* b, int n)
    {
        if (Vector512.IsHardwareAccelerated) return F32V512(a, b, n);
        if (Vector256.IsHardwareAccelerated) return F32V256(a, b, n);
        if (Vector128.IsHardwareAccelerated) return F32V128(a, b, n);
        return F32Scalar(a, b, n);
    }

    public static float F32Scalar(float* a, float* b, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double)(a[i] * b[i]);
        return (float)s;
    }

    public static float F32V128(float* a, float* b, int n)
    {
        Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            s0 = Vector128.MultiplyAddEstimate(Vector128.Load(a + i), Vector128.Load(b + i), s0);
            s1 = Vector128.MultiplyAddEstimate(Vector128.Load(a + i + 4), Vector128.Load(b + i + 4), s1);
            s2 = Vector128.MultiplyAddEstimate(Vector128.Load(a + i + 8), Vector128.Load(b + i + 8), s2);
            s3 = Vector128.MultiplyAddEstimate(Vector128.Load(a + i + 12), Vector128.Load(b + i + 12), s3);
        }
        for (; i <= n - 4; i += 4) s0 = Vector128.MultiplyAddEstimate(Vector128.Load(a + i), Vector128.Load(b + i), s0);
        float s = Vector128.Sum((s0 + s1) + (s2 + s3));
        for (; i < n; i++) s += a[i] * b[i];
        return s;
    }

    public static float F32V256(float* a, float* b, int n) => n >= StreamedElements ? F32V256(a, b, n, streamed: true) : F32V256(a, b, n, streamed: false);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float F32V256(float* a, float* b, int n, bool streamed)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            if (streamed) Quants.Prefetch.Step((byte*)(a + i), 128);
            s0 = Vector256.MultiplyAddEstimate(Vector256.Load(a + i), Vector256.Load(b + i), s0);
            s1 = Vector256.MultiplyAddEstimate(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8), s1);
            s2 = Vector256.MultiplyAddEstimate(Vector256.Load(a + i + 16), Vector256.Load(b + i + 16), s2);
            s3 = Vector256.MultiplyAddEstimate(Vector256.Load(a + i + 24), Vector256.Load(b + i + 24), s3);
        }
        for (; i <= n - 8; i += 8) s0 = Vector256.MultiplyAddEstimate(Vector256.Load(a + i), Vector256.Load(b + i), s0);
        float s = Vector256.Sum((s0 + s1) + (s2 + s3));
        for (; i < n; i++) s += a[i] * b[i];
        return s;
    }

    public static float F32V512(float* a, float* b, int n) => n >= StreamedElements ? F32V512(a, b, n, streamed: true) : F32V512(a, b, n, streamed: false);

    /// <summary>
    /// From this length (a weight row of decode, not a head's q·k) the F32 loops prefetch the a side ahead
    /// (<see cref="Quants.Prefetch.Step"/>): 2-thread decode of 1B-shape F32 weights streams 8 KB rows.
    /// </summary>
    public const int StreamedElements = 1024;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float F32V512(float* a, float* b, int n, bool streamed)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int i = 0;
        for (; i <= n - 64; i += 64)
        {
            if (streamed) Quants.Prefetch.Step((byte*)(a + i), 256);
            s0 = Vector512.MultiplyAddEstimate(Vector512.Load(a + i), Vector512.Load(b + i), s0);
            s1 = Vector512.MultiplyAddEstimate(Vector512.Load(a + i + 16), Vector512.Load(b + i + 16), s1);
            s2 = Vector512.MultiplyAddEstimate(Vector512.Load(a + i + 32), Vector512.Load(b + i + 32), s2);
            s3 = Vector512.MultiplyAddEstimate(Vector512.Load(a + i + 48), Vector512.Load(b + i + 48), s3);
        }
        return F32V512Tail(a, b, n, i, s0, s1, s2, s3);
    }

    /// <summary>
    /// <see cref="F32V512(float*, float*, int)"/> from element i after its 64-element loop (its accumulators s0..s3):
    /// 16-element steps into s0, the sum, the scalar tail. Also the end of the tiled prefill form (<see cref="F32Rows"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float F32V512Tail(float* a, float* b, int n, int i, Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3)
    {
        for (; i <= n - 16; i += 16) s0 = Vector512.MultiplyAddEstimate(Vector512.Load(a + i), Vector512.Load(b + i), s0);
        float s = Vector512.Sum((s0 + s1) + (s2 + s3));
        for (; i < n; i++) s += a[i] * b[i];
        return s;
    }

    // ---------------- F16 weights · F32 activation ----------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float F16F32(Half* w, float* x, int n)
    {
        if (Vector512.IsHardwareAccelerated) return F16F32V512(w, x, n);
        if (Vector256.IsHardwareAccelerated) return F16F32V256(w, x, n);
        if (Vector128.IsHardwareAccelerated) return F16F32V128(w, x, n);
        return F16F32Scalar(w, x, n);
    }

    public static float F16F32Scalar(Half* w, float* x, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double)((float)w[i] * x[i]);
        return (float)s;
    }

    public static float F16F32V128(Half* w, float* x, int n)
    {
        ushort* h = (ushort*)w;
        Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            var (a0, a1) = HalfBits.Load8(h + i);
            var (a2, a3) = HalfBits.Load8(h + i + 8);
            s0 = Vector128.MultiplyAddEstimate(a0, Vector128.Load(x + i), s0);
            s1 = Vector128.MultiplyAddEstimate(a1, Vector128.Load(x + i + 4), s1);
            s2 = Vector128.MultiplyAddEstimate(a2, Vector128.Load(x + i + 8), s2);
            s3 = Vector128.MultiplyAddEstimate(a3, Vector128.Load(x + i + 12), s3);
        }
        float s = Vector128.Sum((s0 + s1) + (s2 + s3));
        for (; i < n; i++) s += (float)w[i] * x[i];
        return s;
    }

    public static float F16F32V256(Half* w, float* x, int n)
    {
        ushort* h = (ushort*)w;
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            Quants.Prefetch.Step((byte*)(h + i), 64);
            s0 = Vector256.MultiplyAddEstimate(HalfBits.Load8x256(h + i), Vector256.Load(x + i), s0);
            s1 = Vector256.MultiplyAddEstimate(HalfBits.Load8x256(h + i + 8), Vector256.Load(x + i + 8), s1);
            s2 = Vector256.MultiplyAddEstimate(HalfBits.Load8x256(h + i + 16), Vector256.Load(x + i + 16), s2);
            s3 = Vector256.MultiplyAddEstimate(HalfBits.Load8x256(h + i + 24), Vector256.Load(x + i + 24), s3);
        }
        return F16F32V256Tail(w, x, n, i, s0, s1, s2, s3);
    }

    /// <summary>
    /// <see cref="F16F32V256"/> from element i after its 32-element loop (its accumulators s0..s3): 8-element steps into
    /// s0, the sum, the scalar tail. Also the end of the machine-code form of that loop (<see cref="F16Rows"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float F16F32V256Tail(Half* w, float* x, int n, int i, Vector256<float> s0, Vector256<float> s1, Vector256<float> s2, Vector256<float> s3)
    {
        ushort* h = (ushort*)w;
        for (; i <= n - 8; i += 8) s0 = Vector256.MultiplyAddEstimate(HalfBits.Load8x256(h + i), Vector256.Load(x + i), s0);
        float s = Vector256.Sum((s0 + s1) + (s2 + s3));
        for (; i < n; i++) s += (float)w[i] * x[i];
        return s;
    }

    public static float F16F32V512(Half* w, float* x, int n)
    {
        ushort* h = (ushort*)w;
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int i = 0;
        for (; i <= n - 64; i += 64)
        {
            s0 = Vector512.MultiplyAddEstimate(HalfBits.Load16x512(h + i), Vector512.Load(x + i), s0);
            s1 = Vector512.MultiplyAddEstimate(HalfBits.Load16x512(h + i + 16), Vector512.Load(x + i + 16), s1);
            s2 = Vector512.MultiplyAddEstimate(HalfBits.Load16x512(h + i + 32), Vector512.Load(x + i + 32), s2);
            s3 = Vector512.MultiplyAddEstimate(HalfBits.Load16x512(h + i + 48), Vector512.Load(x + i + 48), s3);
        }
        for (; i <= n - 16; i += 16) s0 = Vector512.MultiplyAddEstimate(HalfBits.Load16x512(h + i), Vector512.Load(x + i), s0);
        float s = Vector512.Sum((s0 + s1) + (s2 + s3));
        for (; i < n; i++) s += (float)w[i] * x[i];
        return s;
    }

    // ---------------- F16 weights · F16 activation (ggml's F16 matmul: x rounded to f16 first) ----------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float F16F16(Half* w, Half* x, int n)
    {
        if (Vector512.IsHardwareAccelerated) return F16F16V512(w, x, n);
        if (Vector256.IsHardwareAccelerated) return F16F16V256(w, x, n);
        if (Vector128.IsHardwareAccelerated) return F16F16V128(w, x, n);
        return F16F16Scalar(w, x, n);
    }

    public static float F16F16Scalar(Half* w, Half* x, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double)((float)w[i] * (float)x[i]);
        return (float)s;
    }

    public static float F16F16V128(Half* w, Half* x, int n)
    {
        ushort* h = (ushort*)w, g = (ushort*)x;
        Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            var (a0, a1) = HalfBits.Load8(h + i);
            var (a2, a3) = HalfBits.Load8(h + i + 8);
            var (b0, b1) = HalfBits.Load8(g + i);
            var (b2, b3) = HalfBits.Load8(g + i + 8);
            s0 = Vector128.MultiplyAddEstimate(a0, b0, s0);
            s1 = Vector128.MultiplyAddEstimate(a1, b1, s1);
            s2 = Vector128.MultiplyAddEstimate(a2, b2, s2);
            s3 = Vector128.MultiplyAddEstimate(a3, b3, s3);
        }
        float s = Vector128.Sum((s0 + s1) + (s2 + s3));
        for (; i < n; i++) s += (float)w[i] * (float)x[i];
        return s;
    }

    public static float F16F16V256(Half* w, Half* x, int n)
    {
        ushort* h = (ushort*)w, g = (ushort*)x;
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            s0 = Vector256.MultiplyAddEstimate(HalfBits.Load8x256(h + i), HalfBits.Load8x256(g + i), s0);
            s1 = Vector256.MultiplyAddEstimate(HalfBits.Load8x256(h + i + 8), HalfBits.Load8x256(g + i + 8), s1);
            s2 = Vector256.MultiplyAddEstimate(HalfBits.Load8x256(h + i + 16), HalfBits.Load8x256(g + i + 16), s2);
            s3 = Vector256.MultiplyAddEstimate(HalfBits.Load8x256(h + i + 24), HalfBits.Load8x256(g + i + 24), s3);
        }
        for (; i <= n - 8; i += 8) s0 = Vector256.MultiplyAddEstimate(HalfBits.Load8x256(h + i), HalfBits.Load8x256(g + i), s0);
        float s = Vector256.Sum((s0 + s1) + (s2 + s3));
        for (; i < n; i++) s += (float)w[i] * (float)x[i];
        return s;
    }

    public static float F16F16V512(Half* w, Half* x, int n)
    {
        ushort* h = (ushort*)w, g = (ushort*)x;
        Vector512<float> s0 = default, s1 = default;
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            s0 = Vector512.MultiplyAddEstimate(HalfBits.Load16x512(h + i), HalfBits.Load16x512(g + i), s0);
            s1 = Vector512.MultiplyAddEstimate(HalfBits.Load16x512(h + i + 16), HalfBits.Load16x512(g + i + 16), s1);
        }
        for (; i <= n - 16; i += 16) s0 = Vector512.MultiplyAddEstimate(HalfBits.Load16x512(h + i), HalfBits.Load16x512(g + i), s0);
        float s = Vector512.Sum(s0 + s1);
        for (; i < n; i++) s += (float)w[i] * (float)x[i];
        return s;
    }

    // ---------------- F16 weights · an F16 activation widened to f32 once (the rows kernel's form) ----------------

    /// <summary>
    /// <see cref="F16F16"/> with the activation already widened to f32 (exact): the same accumulators and order, so the
    /// same bits, with one conversion per weight element instead of two (.NET 10 has no F16C: each conversion is an
    /// integer bit trick of about 9 instructions per vector). Below 512 bits F16F16's order is <see cref="F16F32"/>'s.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float F16F16Widened(Half* w, float* xw, int n)
    {
        if (Vector512.IsHardwareAccelerated) return F16F16WidenedV512(w, xw, n);
        if (Vector256.IsHardwareAccelerated) return F16F32V256(w, xw, n);
        if (Vector128.IsHardwareAccelerated) return F16F32V128(w, xw, n);
        return F16F32Scalar(w, xw, n);
    }

    /// <summary>
    /// F16F16V512's two accumulators over 32 elements (F16F32V512 keeps four over 64). The weights widen by
    /// <see cref="HalfBits.F16ToF32Finite"/>, three instructions shorter than the exact trick (decode of F16 weights is bound
    /// by these conversions once the loads are prefetched); a row holding an infinity or a NaN shows as a widened magnitude
    /// of 2^16 or more (f16's largest finite value is 65504) and is summed again with the exact conversion, so every row
    /// gets <see cref="F16F16V512"/>'s bits.
    /// </summary>
    public static float F16F16WidenedV512(Half* w, float* xw, int n)
    {
        float s = F16F16WidenedV512(w, xw, n, finite: true, out bool special);
        return special ? F16F16WidenedV512(w, xw, n, finite: false, out _) : s;
    }

    /// <summary>
    /// The loop of <see cref="F16F16WidenedV512(Half*, float*, int)"/>, widening by the finite-value form (special: the
    /// row holds an infinity or a NaN, result void) or the exact one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float F16F16WidenedV512(Half* w, float* xw, int n, bool finite, out bool special)
    {
        ushort* h = (ushort*)w;
        Vector512<float> s0 = default, s1 = default, big = default;
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            Quants.Prefetch.Step((byte*)(h + i), 64); // decode streams 4 KB rows of a 2048-column matrix: the loads stalled without it
            s0 = Vector512.MultiplyAddEstimate(finite ? HalfBits.F16ToF32Finite(h + i, ref big) : HalfBits.Load16x512(h + i), Vector512.Load(xw + i), s0);
            s1 = Vector512.MultiplyAddEstimate(finite ? HalfBits.F16ToF32Finite(h + i + 16, ref big) : HalfBits.Load16x512(h + i + 16), Vector512.Load(xw + i + 16), s1);
        }
        special = finite && Vector512.GreaterThanOrEqualAny(big, Vector512.Create(65536f));
        return F16F16WidenedV512Tail(w, xw, n, i, s0, s1);
    }

    /// <summary>
    /// <see cref="F16F16WidenedV512(Half*, float*, int)"/> from element i after its 32-element loop (its accumulators
    /// s0, s1): 16-element steps into s0 with the exact widening, the sum, the scalar tail. Also the end of the
    /// machine-code form of that loop (<see cref="F16Rows"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float F16F16WidenedV512Tail(Half* w, float* xw, int n, int i, Vector512<float> s0, Vector512<float> s1)
    {
        ushort* h = (ushort*)w;
        for (; i <= n - 16; i += 16) s0 = Vector512.MultiplyAddEstimate(HalfBits.Load16x512(h + i), Vector512.Load(xw + i), s0);
        float s = Vector512.Sum(s0 + s1);
        for (; i < n; i++) s += (float)w[i] * xw[i];
        return s;
    }

    // ---------------- BF16 weights · F32 activation ----------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BF16F32(ushort* w, float* x, int n)
    {
        if (Vector512.IsHardwareAccelerated) return BF16F32V512(w, x, n);
        if (Vector256.IsHardwareAccelerated) return BF16F32V256(w, x, n);
        if (Vector128.IsHardwareAccelerated) return BF16F32V128(w, x, n);
        return BF16F32Scalar(w, x, n);
    }

    public static float BF16F32Scalar(ushort* w, float* x, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double)(HalfBits.BF16ToF32(w[i]) * x[i]);
        return (float)s;
    }

    public static float BF16F32V128(ushort* w, float* x, int n)
    {
        Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            var (a0, a1) = HalfBits.LoadBF16x8(w + i);
            var (a2, a3) = HalfBits.LoadBF16x8(w + i + 8);
            s0 = Vector128.MultiplyAddEstimate(a0, Vector128.Load(x + i), s0);
            s1 = Vector128.MultiplyAddEstimate(a1, Vector128.Load(x + i + 4), s1);
            s2 = Vector128.MultiplyAddEstimate(a2, Vector128.Load(x + i + 8), s2);
            s3 = Vector128.MultiplyAddEstimate(a3, Vector128.Load(x + i + 12), s3);
        }
        float s = Vector128.Sum((s0 + s1) + (s2 + s3));
        for (; i < n; i++) s += HalfBits.BF16ToF32(w[i]) * x[i];
        return s;
    }

    public static float BF16F32V256(ushort* w, float* x, int n)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            s0 = Vector256.MultiplyAddEstimate(HalfBits.LoadBF16x256(w + i), Vector256.Load(x + i), s0);
            s1 = Vector256.MultiplyAddEstimate(HalfBits.LoadBF16x256(w + i + 8), Vector256.Load(x + i + 8), s1);
            s2 = Vector256.MultiplyAddEstimate(HalfBits.LoadBF16x256(w + i + 16), Vector256.Load(x + i + 16), s2);
            s3 = Vector256.MultiplyAddEstimate(HalfBits.LoadBF16x256(w + i + 24), Vector256.Load(x + i + 24), s3);
        }
        for (; i <= n - 8; i += 8) s0 = Vector256.MultiplyAddEstimate(HalfBits.LoadBF16x256(w + i), Vector256.Load(x + i), s0);
        float s = Vector256.Sum((s0 + s1) + (s2 + s3));
        for (; i < n; i++) s += HalfBits.BF16ToF32(w[i]) * x[i];
        return s;
    }

    public static float BF16F32V512(ushort* w, float* x, int n)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int i = 0;
        for (; i <= n - 64; i += 64)
        {
            s0 = Vector512.MultiplyAddEstimate(HalfBits.LoadBF16x512(w + i), Vector512.Load(x + i), s0);
            s1 = Vector512.MultiplyAddEstimate(HalfBits.LoadBF16x512(w + i + 16), Vector512.Load(x + i + 16), s1);
            s2 = Vector512.MultiplyAddEstimate(HalfBits.LoadBF16x512(w + i + 32), Vector512.Load(x + i + 32), s2);
            s3 = Vector512.MultiplyAddEstimate(HalfBits.LoadBF16x512(w + i + 48), Vector512.Load(x + i + 48), s3);
        }
        for (; i <= n - 16; i += 16) s0 = Vector512.MultiplyAddEstimate(HalfBits.LoadBF16x512(w + i), Vector512.Load(x + i), s0);
        float s = Vector512.Sum((s0 + s1) + (s2 + s3));
        for (; i < n; i++) s += HalfBits.BF16ToF32(w[i]) * x[i];
        return s;
    }
}
