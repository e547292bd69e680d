using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Q4_K weights · Q8_K activations. Super-block of 256 = 4 chunks of 64: chunk k's 32 qs bytes hold sub-block 2k in
/// the low nibbles and 2k+1 in the high nibbles; 6-bit scale sc and min m per sub-block of 32.
/// result = Σ_sb d_a*(d_w*Σ_j sc_j*Σ c*q8 − dmin_w*Σ_j m_j*bsum_j). The scale is applied inside the int16→int32 madd;
/// the min part pairs Q8_K's bsums with the mins in one vector multiply per super-block.
/// </summary>
public static unsafe class VecDotQ4_KQ8_K
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(byte* w, byte* a, int n)
    {
        // V256 first: on the AVX-512 machine measured here the 512-bit form (two 256-bit activation halves per vector,
        // emulated byte shifts) was 10-25 % slower; V512 stays as the path for a CPU where it wins (tested either way).
        if (Vector256.IsHardwareAccelerated) return V256(w, a, n);
        if (Vector512.IsHardwareAccelerated) return V512(w, a, n);
        if (Vector128.IsHardwareAccelerated) return V128(w, a, n);
        return Scalar(w, a, n);
    }

    public static float Scalar(byte* w, byte* a, int n) => VecDotScalar.Q4_KQ8_K(w, a, n);

    /// <summary>Σ_j m_j * (bsums[2j] + bsums[2j+1]) as 8 int lanes (one per sub-block of 32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> MinTerms(ulong mins, short* bsums)
    {
        Vector256<int> m = Vector256.WidenLower(Vector128.WidenLower(Vector128.CreateScalar(mins).AsByte()).ToVector256()).AsInt32();
        return Int8Dot.PairSums(Vector256.Load(bsums)) * m;
    }

    /// <summary>
    /// One super-block: d_a*(d_w*Σ sc*dot − dmin_w*Σ m*bsum). The two parts are large and nearly cancel, so the exact
    /// int sums are combined in double (scale products rounded to float first, as ggml does).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double Combine(Half d, Half dmin, float da, int isum, int minSum) =>
        (double)(da * Fp.F16ToF32(d)) * isum - (double)(da * Fp.F16ToF32(dmin)) * minSum;

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V128(byte* w, byte* a, int n)
    {
        var x = (BlockQ4_K*)w; var y = (BlockQ8_K*)a;
        double acc = 0;
        Vector128<byte> mask = Vector128.Create((byte)0x0F);
        for (int i = 0; i < n / 256; i++)
        {
            KScales.Unpack(x[i].Scales, out ulong sc, out ulong mn);
            byte* q = x[i].Qs; sbyte* q8 = y[i].Qs;
            Vector128<int> isum = Vector128<int>.Zero;
            for (int k = 0; k < 4; k++, q += 32, q8 += 64)
            {
                Vector128<short> s1 = Vector128.Create(KScales.Byte(sc, 2 * k)), s2 = Vector128.Create(KScales.Byte(sc, 2 * k + 1));
                Vector128<byte> q0 = Vector128.Load(q), q1 = Vector128.Load(q + 16);
                isum += Int8Dot.Dot16UScaled(q0 & mask, Vector128.Load(q8), s1) + Int8Dot.Dot16UScaled(q1 & mask, Vector128.Load(q8 + 16), s1)
                      + Int8Dot.Dot16UScaled(Int8Dot.ShiftRightBytes(q0, 4), Vector128.Load(q8 + 32), s2)
                      + Int8Dot.Dot16UScaled(Int8Dot.ShiftRightBytes(q1, 4), Vector128.Load(q8 + 48), s2);
            }
            acc += VecDotQ4_KQ8_K.Combine(x[i].D, x[i].DMin, y[i].D, Vector128.Sum(isum), Vector256.Sum(VecDotQ4_KQ8_K.MinTerms(mn, y[i].BSums)));
        }
        return (float)acc;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V256(byte* w, byte* a, int n)
    {
        var x = (BlockQ4_K*)w; var y = (BlockQ8_K*)a;
        float* f16 = Fp.F16Table;
        Vector256<float> acc = Vector256<float>.Zero, accMin = Vector256<float>.Zero;
        Vector256<byte> mask = Vector256.Create((byte)0x0F);
        // vpshufb patterns broadcasting 16-bit word j of a 128-bit lane to all 8 words (literal constants: building
        // them in a helper at run time costs more than the dot of a short row)
        Vector256<byte> w0 = Vector256.Create((ushort)0x0100).AsByte(), w1 = Vector256.Create((ushort)0x0302).AsByte();
        Vector256<byte> w2 = Vector256.Create((ushort)0x0504).AsByte(), w3 = Vector256.Create((ushort)0x0706).AsByte();
        Vector256<byte> w4 = Vector256.Create((ushort)0x0908).AsByte(), w5 = Vector256.Create((ushort)0x0B0A).AsByte();
        Vector256<byte> w6 = Vector256.Create((ushort)0x0D0C).AsByte(), w7 = Vector256.Create((ushort)0x0F0E).AsByte();
        for (int i = 0; i < n / 256; i++)
        {
            Prefetch.Step((byte*)&x[i], 144);
            KScales.Unpack(x[i].Scales, out ulong sc, out ulong mn);
            byte* q = x[i].Qs; sbyte* q8 = y[i].Qs;
            // the 8 scales as int16 words, in both 128-bit lanes
            Vector256<byte> s = Vector256.Create(Vector128.WidenLower(Vector128.CreateScalar(sc).AsByte())).AsByte();
            Vector256<byte> q0 = Vector256.Load(q), q1 = Vector256.Load(q + 32), q2 = Vector256.Load(q + 64), q3 = Vector256.Load(q + 96);
            Vector256<int> isum =
                  Int8Dot.Dot32UScaled(q0 & mask, Vector256.Load(q8), Int8Dot.ShuffleBytes(s, w0).AsInt16())
                + Int8Dot.Dot32UScaled(Int8Dot.ShiftRightBytes(q0, 4), Vector256.Load(q8 + 32), Int8Dot.ShuffleBytes(s, w1).AsInt16())
                + Int8Dot.Dot32UScaled(q1 & mask, Vector256.Load(q8 + 64), Int8Dot.ShuffleBytes(s, w2).AsInt16())
                + Int8Dot.Dot32UScaled(Int8Dot.ShiftRightBytes(q1, 4), Vector256.Load(q8 + 96), Int8Dot.ShuffleBytes(s, w3).AsInt16())
                + Int8Dot.Dot32UScaled(q2 & mask, Vector256.Load(q8 + 128), Int8Dot.ShuffleBytes(s, w4).AsInt16())
                + Int8Dot.Dot32UScaled(Int8Dot.ShiftRightBytes(q2, 4), Vector256.Load(q8 + 160), Int8Dot.ShuffleBytes(s, w5).AsInt16())
                + Int8Dot.Dot32UScaled(q3 & mask, Vector256.Load(q8 + 192), Int8Dot.ShuffleBytes(s, w6).AsInt16())
                + Int8Dot.Dot32UScaled(Int8Dot.ShiftRightBytes(q3, 4), Vector256.Load(q8 + 224), Int8Dot.ShuffleBytes(s, w7).AsInt16());
            // d_a·d_w and d_a·dmin_w rounded to float per super-block (as ggml), exact int sums converted once each
            float da = y[i].D;
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(isum), Vector256.Create(da * f16[*(ushort*)&x[i].D]), acc);
            accMin = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(MinTerms(mn, y[i].BSums)), Vector256.Create(da * f16[*(ushort*)&x[i].DMin]), accMin);
        }
        return Vector256.Sum(acc) - Vector256.Sum(accMin);
    }

    /// <summary>Two chunks (64 qs bytes) per step: low halves sub-blocks 2k,2k+2; high halves 2k+1,2k+3.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V512(byte* w, byte* a, int n)
    {
        var x = (BlockQ4_K*)w; var y = (BlockQ8_K*)a;
        double acc = 0;
        Vector512<byte> mask = Vector512.Create((byte)0x0F);
        for (int i = 0; i < n / 256; i++)
        {
            KScales.Unpack(x[i].Scales, out ulong sc, out ulong mn);
            byte* q = x[i].Qs; sbyte* q8 = y[i].Qs;
            Vector512<int> isum = Vector512<int>.Zero;
            for (int k = 0; k < 4; k += 2, q += 64, q8 += 128)
            {
                Vector512<byte> qv = Vector512.Load(q);
                Vector512<sbyte> aLo = Vector512.Create(Vector256.Load(q8), Vector256.Load(q8 + 64));
                Vector512<sbyte> aHi = Vector512.Create(Vector256.Load(q8 + 32), Vector256.Load(q8 + 96));
                Vector512<short> sLo = Vector512.Create(Vector256.Create(KScales.Byte(sc, 2 * k)), Vector256.Create(KScales.Byte(sc, 2 * k + 2)));
                Vector512<short> sHi = Vector512.Create(Vector256.Create(KScales.Byte(sc, 2 * k + 1)), Vector256.Create(KScales.Byte(sc, 2 * k + 3)));
                isum += Int8Dot.Dot64UScaled(qv & mask, aLo, sLo) + Int8Dot.Dot64UScaled(Int8Dot.ShiftRightBytes(qv, 4), aHi, sHi);
            }
            acc += VecDotQ4_KQ8_K.Combine(x[i].D, x[i].DMin, y[i].D, Vector512.Sum(isum), Vector256.Sum(VecDotQ4_KQ8_K.MinTerms(mn, y[i].BSums)));
        }
        return (float)acc;
    }
}
