using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ingot.Runtime.Quants;

/// <summary>Q8_0 weights · Q8_0 activations. Block: f16 d | int8 q[32]; result = Σ_blocks d_w*d_a*Σ q_w*q_a.</summary>
public static unsafe class VecDotQ8_0Q8_0
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(byte* w, byte* a, int n)
    {
        // V256 first: on the AVX-512 machine measured here the 512-bit form (two blocks with separate scales per
        // vector) was 15-25 % slower; V512 stays as the path for a CPU where it wins (tested either way).
        if (Vector256.IsHardwareAccelerated) return V256(w, a, n);
        if (Vector512.IsHardwareAccelerated) return V512(w, a, n);
        if (Vector128.IsHardwareAccelerated) return V128(w, a, n);
        return Scalar(w, a, n);
    }

    public static float Scalar(byte* w, byte* a, int n) => VecDotScalar.Q8_0Q8_0(w, a, n);

    /// <summary>16 bytes at a time: one block = two Dot16 → 4 int lanes → float, scaled, accumulated in a vector.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V128(byte* w, byte* a, int n)
    {
        var x = (BlockQ8_0*)w; var y = (BlockQ8_0*)a;
        int nb = n / 32;
        Vector128<float> acc = Vector128<float>.Zero;
        for (int i = 0; i < nb; i++)
        {
            Vector128<int> p = Int8Dot.Dot16S(Vector128.Load(x[i].Qs), Vector128.Load(y[i].Qs))
                             + Int8Dot.Dot16S(Vector128.Load(x[i].Qs + 16), Vector128.Load(y[i].Qs + 16));
            acc += Vector128.ConvertToSingle(p) * Vector128.Create(Fp.F16ToF32(x[i].D) * Fp.F16ToF32(y[i].D));
        }
        return Vector128.Sum(acc);
    }

    /// <summary>
    /// One block per Vector256, four blocks per iteration (scales widened together, two accumulators), one
    /// horizontal sum at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V256(byte* w, byte* a, int n)
    {
        var x = (BlockQ8_0*)w; var y = (BlockQ8_0*)a;
        int nb = n / 32, i = 0;
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        for (; i + 3 < nb; i += 4)
        {
            Prefetch.Step((byte*)&x[i], 4 * 34);
            Vector128<float> d = BlockScales.Products4((byte*)&x[i], 34, (byte*)&y[i], 34);
            Vector256<int> p0 = Int8Dot.Dot32S(Vector256.Load(x[i].Qs), Vector256.Load(y[i].Qs));
            Vector256<int> p1 = Int8Dot.Dot32S(Vector256.Load(x[i + 1].Qs), Vector256.Load(y[i + 1].Qs));
            Vector256<int> p2 = Int8Dot.Dot32S(Vector256.Load(x[i + 2].Qs), Vector256.Load(y[i + 2].Qs));
            Vector256<int> p3 = Int8Dot.Dot32S(Vector256.Load(x[i + 3].Qs), Vector256.Load(y[i + 3].Qs));
            acc0 = Fma(Vector256.ConvertToSingle(p0), Vector256.Create(d.GetElement(0)), acc0);
            acc1 = Fma(Vector256.ConvertToSingle(p1), Vector256.Create(d.GetElement(1)), acc1);
            acc0 = Fma(Vector256.ConvertToSingle(p2), Vector256.Create(d.GetElement(2)), acc0);
            acc1 = Fma(Vector256.ConvertToSingle(p3), Vector256.Create(d.GetElement(3)), acc1);
        }
        for (; i < nb; i++)
        {
            Vector256<int> p0 = Int8Dot.Dot32S(Vector256.Load(x[i].Qs), Vector256.Load(y[i].Qs));
            acc0 = Fma(Vector256.ConvertToSingle(p0), Vector256.Create(Fp.F16ToF32(x[i].D) * Fp.F16ToF32(y[i].D)), acc0);
        }
        return Vector256.Sum(acc0 + acc1);
    }

    /// <summary>Two blocks per Vector512 (low half block i, high half block i+1), four blocks per iteration.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V512(byte* w, byte* a, int n)
    {
        var x = (BlockQ8_0*)w; var y = (BlockQ8_0*)a;
        int nb = n / 32, i = 0;
        Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
        for (; i + 3 < nb; i += 4)
        {
            Vector128<float> d = BlockScales.Products4((byte*)&x[i], 34, (byte*)&y[i], 34);
            Vector512<sbyte> w01 = Vector512.Create(Vector256.Load(x[i].Qs), Vector256.Load(x[i + 1].Qs));
            Vector512<sbyte> a01 = Vector512.Create(Vector256.Load(y[i].Qs), Vector256.Load(y[i + 1].Qs));
            Vector512<sbyte> w23 = Vector512.Create(Vector256.Load(x[i + 2].Qs), Vector256.Load(x[i + 3].Qs));
            Vector512<sbyte> a23 = Vector512.Create(Vector256.Load(y[i + 2].Qs), Vector256.Load(y[i + 3].Qs));
            Vector512<float> d01 = Vector512.Create(Vector256.Create(d.GetElement(0)), Vector256.Create(d.GetElement(1)));
            Vector512<float> d23 = Vector512.Create(Vector256.Create(d.GetElement(2)), Vector256.Create(d.GetElement(3)));
            acc0 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Int8Dot.Dot64S(w01, a01)), d01, acc0);
            acc1 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Int8Dot.Dot64S(w23, a23)), d23, acc1);
        }
        float s = Vector512.Sum(acc0 + acc1);
        if (i < nb) s += V256((byte*)&x[i], (byte*)&y[i], 32 * (nb - i));
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
}
