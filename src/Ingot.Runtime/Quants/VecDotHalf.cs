using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ingot.Runtime.Kernels;

namespace Ingot.Runtime.Quants;

/// <summary>Block scales four at a time: the f16 d of 4 consecutive weight and activation blocks (d at offset 0).</summary>
internal static unsafe class BlockScales
{
    /// <summary>d_w[k] * d_a[k] for blocks k = 0..3 (f16 widened in one vector op instead of 8 scalar conversions).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Products4(byte* w, int wStride, byte* a, int aStride)
    {
        float* t = Fp.F16Table;
        return Vector128.Create(t[*(ushort*)w], t[*(ushort*)(w + wStride)], t[*(ushort*)(w + 2 * wStride)], t[*(ushort*)(w + 3 * wStride)])
             * Vector128.Create(t[*(ushort*)a], t[*(ushort*)(a + aStride)], t[*(ushort*)(a + 2 * aStride)], t[*(ushort*)(a + 3 * aStride)]);
    }
}

/// <summary>
/// BF16 weights · BF16 activations (activation rounded to bf16 first, as ggml), f32 accumulation. The F32 and F16
/// rows are <see cref="Kernels.Dot"/>'s kernels; this one has no counterpart there (Dot.BF16F32 keeps the activation in f32).
/// bf16 → f32 is a 16-bit left shift (<see cref="HalfBits"/>' LoadBF16 helpers).
/// </summary>
public static unsafe class VecDotBF16BF16
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(byte* w, byte* a, int n)
    {
        if (Vector512.IsHardwareAccelerated) return V512(w, a, n);
        if (Vector256.IsHardwareAccelerated) return V256(w, a, n);
        if (Vector128.IsHardwareAccelerated) return V128(w, a, n);
        return Scalar(w, a, n);
    }

    public static float Scalar(byte* w, byte* a, int n) => VecDotScalar.BF16BF16(w, a, n);

    // Two accumulators over 2 vectors of bf16 per step: 8 / 16 / 32 elements for V128 / V256 / V512.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V128(byte* w, byte* a, int n)
    {
        ushort* x = (ushort*)w, y = (ushort*)a;
        Vector128<float> acc0 = Vector128<float>.Zero, acc1 = Vector128<float>.Zero;
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var (x0, x1) = HalfBits.LoadBF16x8(x + i);
            var (y0, y1) = HalfBits.LoadBF16x8(y + i);
            acc0 = Vector128.FusedMultiplyAdd(x0, y0, acc0);
            acc1 = Vector128.FusedMultiplyAdd(x1, y1, acc1);
        }
        float s = Vector128.Sum(acc0 + acc1);
        for (; i < n; i++) s += HalfBits.BF16ToF32(x[i]) * HalfBits.BF16ToF32(y[i]);
        return s;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V256(byte* w, byte* a, int n)
    {
        ushort* x = (ushort*)w, y = (ushort*)a;
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            acc0 = Vector256.FusedMultiplyAdd(HalfBits.LoadBF16x256(x + i), HalfBits.LoadBF16x256(y + i), acc0);
            acc1 = Vector256.FusedMultiplyAdd(HalfBits.LoadBF16x256(x + i + 8), HalfBits.LoadBF16x256(y + i + 8), acc1);
        }
        float s = Vector256.Sum(acc0 + acc1);
        for (; i < n; i++) s += HalfBits.BF16ToF32(x[i]) * HalfBits.BF16ToF32(y[i]);
        return s;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V512(byte* w, byte* a, int n)
    {
        ushort* x = (ushort*)w, y = (ushort*)a;
        Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            acc0 = Vector512.FusedMultiplyAdd(HalfBits.LoadBF16x512(x + i), HalfBits.LoadBF16x512(y + i), acc0);
            acc1 = Vector512.FusedMultiplyAdd(HalfBits.LoadBF16x512(x + i + 16), HalfBits.LoadBF16x512(y + i + 16), acc1);
        }
        float s = Vector512.Sum(acc0 + acc1);
        for (; i < n; i++) s += HalfBits.BF16ToF32(x[i]) * HalfBits.BF16ToF32(y[i]);
        return s;
    }
}
