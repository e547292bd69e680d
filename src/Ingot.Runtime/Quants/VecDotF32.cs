using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ingot.Runtime.Quants;

/// <summary>F32 · F32 over byte pointers (the F32 entry of the generic dispatch; Kernels.Dot.F32 is the float* one).</summary>
public static unsafe class VecDotF32
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(byte* w, byte* a, int n)
    {
        if (Vector512.IsHardwareAccelerated) return V512(w, a, n);
        if (Vector256.IsHardwareAccelerated) return V256(w, a, n);
        if (Vector128.IsHardwareAccelerated) return V128(w, a, n);
        return Scalar(w, a, n);
    }

    public static float Scalar(byte* w, byte* a, int n) => VecDotScalar.F32F32(w, a, n);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V128(byte* w, byte* a, int n)
    {
        float* x = (float*)w, y = (float*)a;
        Vector128<float> acc0 = Vector128<float>.Zero, acc1 = Vector128<float>.Zero;
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            acc0 = Vector128.FusedMultiplyAdd(Vector128.Load(x + i), Vector128.Load(y + i), acc0);
            acc1 = Vector128.FusedMultiplyAdd(Vector128.Load(x + i + 4), Vector128.Load(y + i + 4), acc1);
        }
        float s = Vector128.Sum(acc0 + acc1);
        for (; i < n; i++) s += x[i] * y[i];
        return s;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V256(byte* w, byte* a, int n)
    {
        float* x = (float*)w, y = (float*)a;
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), Vector256.Load(y + i), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i + 8), Vector256.Load(y + i + 8), acc1);
        }
        float s = Vector256.Sum(acc0 + acc1);
        for (; i < n; i++) s += x[i] * y[i];
        return s;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V512(byte* w, byte* a, int n)
    {
        float* x = (float*)w, y = (float*)a;
        Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(x + i), Vector512.Load(y + i), acc0);
            acc1 = Vector512.FusedMultiplyAdd(Vector512.Load(x + i + 16), Vector512.Load(y + i + 16), acc1);
        }
        float s = Vector512.Sum(acc0 + acc1);
        for (; i < n; i++) s += x[i] * y[i];
        return s;
    }
}
