using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Q4_0 weights · Q8_0 activations. Weight block: f16 d | 16 bytes, byte j = element j (low nibble) and j+16 (high);
/// code c in 0..15, value d*(c-8). Decoded to signed int8 (c-8) in registers, then the shared int8 dot.
/// Float order of llama.cpp's x86 build, which repacks Q4_0 weights (q4_0_8x8 gemm/gemv): per block the exact
/// integer dot, then acc = fma(dot, d_w·d_a, acc), blocks in order, on every path.
/// </summary>
public static unsafe class VecDotQ4_0Q8_0
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

    public static float Scalar(byte* w, byte* a, int n) => VecDotScalar.Q4_0Q8_0(w, a, n);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Decode32(byte* qs)
    {
        Vector128<byte> q = Vector128.Load(qs);
        Vector128<byte> lo = q & Vector128.Create((byte)0x0F);
        Vector128<byte> hi = Int8Dot.ShiftRightBytes(q, 4);
        return Vector256.Create(lo, hi).AsSByte() - Vector256.Create((sbyte)8);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V128(byte* w, byte* a, int n)
    {
        var x = (BlockQ4_0*)w; var y = (BlockQ8_0*)a;
        float acc = 0;
        Vector128<byte> mask = Vector128.Create((byte)0x0F);
        Vector128<sbyte> eight = Vector128.Create((sbyte)8);
        for (int i = 0; i < n / 32; i++)
        {
            Vector128<byte> q = Vector128.Load(x[i].Qs);
            Vector128<sbyte> lo = (q & mask).AsSByte() - eight;
            Vector128<sbyte> hi = Int8Dot.ShiftRightBytes(q, 4).AsSByte() - eight;
            Vector128<int> p = Int8Dot.Dot16S(lo, Vector128.Load(y[i].Qs)) + Int8Dot.Dot16S(hi, Vector128.Load(y[i].Qs + 16));
            acc = MathF.FusedMultiplyAdd(Vector128.Sum(p), Fp.F16ToF32(x[i].D) * Fp.F16ToF32(y[i].D), acc);
        }
        return acc;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V256(byte* w, byte* a, int n)
    {
        // Σ(c−8)·q = Σc·q − 8·Σq: the codes c stay unsigned (0..15), so maddubs takes them directly and the
        // abs/sign pair of the signed form disappears; the integer sums are identical.
        byte* wb = w, ab = a;
        float* f16 = Fp.F16Table;
        int nb = n / 32, i = 0;
        float acc = 0;
        for (; i < nb; i++, wb += 18, ab += 34)
        {
            Vector256<int> p0 = Int8Dot.Dot32UOffset8(Decode32U(wb + 2), Vector256.Load((sbyte*)ab + 2));
            acc = MathF.FusedMultiplyAdd(Vector256.Sum(p0), f16[*(ushort*)wb] * f16[*(ushort*)ab], acc);
        }
        return acc;
    }

    /// <summary>The 32 codes of a block, unsigned: low nibbles (elements 0..15), then high nibbles (16..31).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Decode32U(byte* qs)
    {
        Vector128<byte> q = Vector128.Load(qs);
        return Vector256.Create(q & Vector128.Create((byte)0x0F), Int8Dot.ShiftRightBytes(q, 4));
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V512(byte* w, byte* a, int n)
    {
        var x = (BlockQ4_0*)w; var y = (BlockQ8_0*)a;
        int nb = n / 32, i = 0;
        float acc = 0;
        for (; i + 1 < nb; i += 2)
        {
            Vector512<sbyte> w01 = Vector512.Create(Decode32(x[i].Qs), Decode32(x[i + 1].Qs));
            Vector512<sbyte> a01 = Vector512.Create(Vector256.Load(y[i].Qs), Vector256.Load(y[i + 1].Qs));
            Vector512<int> p = Int8Dot.Dot64S(w01, a01);
            acc = MathF.FusedMultiplyAdd(Vector256.Sum(p.GetLower()), Fp.F16ToF32(x[i].D) * Fp.F16ToF32(y[i].D), acc);
            acc = MathF.FusedMultiplyAdd(Vector256.Sum(p.GetUpper()), Fp.F16ToF32(x[i + 1].D) * Fp.F16ToF32(y[i + 1].D), acc);
        }
        if (i < nb)
        {
            Vector256<int> p0 = Int8Dot.Dot32S(Decode32(x[i].Qs), Vector256.Load(y[i].Qs));
            acc = MathF.FusedMultiplyAdd(Vector256.Sum(p0), Fp.F16ToF32(x[i].D) * Fp.F16ToF32(y[i].D), acc);
        }
        return acc;
    }
}
