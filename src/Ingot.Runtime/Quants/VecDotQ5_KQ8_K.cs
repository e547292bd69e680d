using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Q5_K weights · Q8_K activations: Q4_K plus a fifth bit per element (qh[r] bit 2k for the low-nibble sub-block of
/// chunk k, bit 2k+1 for the high one), codes 0..31. Same scale/min handling as <see cref="VecDotQ4_KQ8_K"/>.
/// Float order of llama.cpp's x86 ggml_vec_dot_q5_K_q8_K: the 8 int lanes of Q4_K with acc = fma(lanes, d_a·d_w, acc),
/// but the mins as one int per super-block: summs = fma(−d_a·dmin_w, Σ m·bsum, summs) (GCC contracts ggml's
/// summs += dmin·sum); result hsum(acc) + summs; identical on every path.
/// </summary>
public static unsafe class VecDotQ5_KQ8_K
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

    public static float Scalar(byte* w, byte* a, int n) => VecDotScalar.Q5_KQ8_K(w, a, n);

    /// <summary>
    /// The rows kernel (see <see cref="VecDotRows"/>) in machine code: from two tokens whole groups of 16 rows in the
    /// vector lanes (<see cref="Q4_KQ5_Kx16Rows"/>), the other rows (<c>q5_kdots512</c>, <see cref="KQuantMachineRows"/>)
    /// with each super-block's codes, fifth bits, scales and mins decoded once for all the tokens; every result
    /// bit-identical to <see cref="V256"/>. Only where <see cref="MachineCodeRuns"/>.
    /// </summary>
    internal static void Rows(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        if (Q4_KQ5_Kx16Rows.Runs(tokens, rows))
        {
            int done = Q4_KQ5_Kx16Rows.Q5_K(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
            if (!KQuantX16.Rest(done, ref w, rowBytes, ref rows, ref y)) return;
        }
        KQuantMachineRows.Run(s_dots512, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    }

    private static readonly delegate* unmanaged<KQuantMachineRows.Args*, void> s_dots512 = KQuantMachineRows.Entry(Kernels.MachineCode.Q5_KDots512Offset);

    /// <summary>Whether <see cref="Rows"/> can run here (512-bit vectors on, AVX512-VNNI, the machine code page).</summary>
    internal static bool MachineCodeRuns => s_dots512 != null;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Chunk128(byte* q, Vector128<byte> h0, Vector128<byte> h1, sbyte* q8, ulong sc, int k, ref Vector128<int> lo, ref Vector128<int> hi)
    {
        Vector128<byte> mask = Vector128.Create((byte)0x0F), sixteen = Vector128.Create((byte)0x10);
        Vector128<short> s1 = Vector128.Create(KScales.Byte(sc, 2 * k)), s2 = Vector128.Create(KScales.Byte(sc, 2 * k + 1));
        Vector128<byte> q0 = Vector128.Load(q + 32 * k), q1 = Vector128.Load(q + 32 * k + 16);
        // bit 2k of qh → 0x10 (shift it up to bit 4), bit 2k+1 likewise
        Vector128<byte> b0l = ShiftTo4(h0, 2 * k) & sixteen, b1l = ShiftTo4(h1, 2 * k) & sixteen;
        Vector128<byte> b0h = ShiftTo4(h0, 2 * k + 1) & sixteen, b1h = ShiftTo4(h1, 2 * k + 1) & sixteen;
        sbyte* a = q8 + 64 * k;
        lo += Int8Dot.Dot16UScaled((q0 & mask) | b0l, Vector128.Load(a), s1) + Int8Dot.Dot16UScaled(Int8Dot.ShiftRightBytes(q0, 4) | b0h, Vector128.Load(a + 32), s2);
        hi += Int8Dot.Dot16UScaled((q1 & mask) | b1l, Vector128.Load(a + 16), s1) + Int8Dot.Dot16UScaled(Int8Dot.ShiftRightBytes(q1, 4) | b1h, Vector128.Load(a + 48), s2);
    }

    /// <summary>Σ_j m_j·(bsums[2j] + bsums[2j+1]) over the super-block (an exact int).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int MinSum(ulong mins, short* bsums) => Vector128.Sum(VecDotQ4_KQ8_K.MinPairs(mins, bsums));

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V128(byte* w, byte* a, int n)
    {
        var x = (BlockQ5_K*)w; var y = (BlockQ8_K*)a;
        Vector128<float> accLo = Vector128<float>.Zero, accHi = Vector128<float>.Zero;
        float summs = 0;
        for (int i = 0; i < n / 256; i++)
        {
            KScales.Unpack(x[i].Scales, out ulong sc, out ulong mn);
            byte* q = x[i].Qs; sbyte* q8 = y[i].Qs;
            Vector128<byte> h0 = Vector128.Load(x[i].Qh), h1 = Vector128.Load(x[i].Qh + 16);
            Vector128<int> lo = Vector128<int>.Zero, hi = Vector128<int>.Zero;
            for (int k = 0; k < 4; k++) Chunk128(q, h0, h1, q8, sc, k, ref lo, ref hi);
            Vector128<float> d = Vector128.Create(y[i].D * Fp.F16ToF32(x[i].D));
            accLo = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(lo), d, accLo);
            accHi = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(hi), d, accHi);
            summs = MathF.FusedMultiplyAdd(-y[i].D * Fp.F16ToF32(x[i].DMin), MinSum(mn, y[i].BSums), summs);
        }
        return Q0Order.Hsum8(accLo, accHi) + summs;
    }

    // Move bit `bit` of every byte to bit 4 (other bits are garbage; callers mask with 0x10).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> ShiftTo4(Vector128<byte> v, int bit) => bit <= 4 ? Int8Dot.ShiftLeftBytes(v, 4 - bit) : Int8Dot.ShiftRightBytes(v, bit - 4);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> ShiftTo4(Vector256<byte> v, int bit) => bit <= 4 ? Int8Dot.ShiftLeftBytes(v, 4 - bit) : Int8Dot.ShiftRightBytes(v, bit - 4);

    // One chunk k (constant after inlining, so the qh shifts are immediate): low nibbles + bit 2k, high + bit 2k+1.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Chunk256(byte* q, Vector256<byte> qh, sbyte* q8, Vector256<byte> scaleLo, Vector256<byte> scaleHi, int k)
    {
        Vector256<byte> mask = Vector256.Create((byte)0x0F), sixteen = Vector256.Create((byte)0x10);
        Vector256<byte> qv = Vector256.Load(q + 32 * k);
        Vector256<byte> bl = ShiftTo4(qh, 2 * k) & sixteen, bh = ShiftTo4(qh, 2 * k + 1) & sixteen;
        return Int8Dot.Dot32UScaled((qv & mask) | bl, Vector256.Load(q8 + 64 * k), scaleLo.AsInt16())
             + Int8Dot.Dot32UScaled(Int8Dot.ShiftRightBytes(qv, 4) | bh, Vector256.Load(q8 + 64 * k + 32), scaleHi.AsInt16());
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V256(byte* w, byte* a, int n)
    {
        var x = (BlockQ5_K*)w; var y = (BlockQ8_K*)a;
        float* f16 = Fp.F16Table;
        Vector256<float> acc = Vector256<float>.Zero;
        float summs = 0;
        // vpshufb patterns broadcasting 16-bit word j of a lane to all 8 words (literal constants, see Q4_K)
        Vector256<byte> w0 = Vector256.Create((ushort)0x0100).AsByte(), w1 = Vector256.Create((ushort)0x0302).AsByte();
        Vector256<byte> w2 = Vector256.Create((ushort)0x0504).AsByte(), w3 = Vector256.Create((ushort)0x0706).AsByte();
        Vector256<byte> w4 = Vector256.Create((ushort)0x0908).AsByte(), w5 = Vector256.Create((ushort)0x0B0A).AsByte();
        Vector256<byte> w6 = Vector256.Create((ushort)0x0D0C).AsByte(), w7 = Vector256.Create((ushort)0x0F0E).AsByte();
        for (int i = 0; i < n / 256; i++)
        {
            Prefetch.Step((byte*)&x[i], 176);
            KScales.Unpack(x[i].Scales, out ulong sc, out ulong mn);
            byte* q = x[i].Qs; sbyte* q8 = y[i].Qs;
            Vector256<byte> qh = Vector256.Load(x[i].Qh);
            Vector256<byte> s = Vector256.Create(Vector128.WidenLower(Vector128.CreateScalar(sc).AsByte())).AsByte();
            Vector256<int> isum = Chunk256(q, qh, q8, Int8Dot.ShuffleBytes(s, w0), Int8Dot.ShuffleBytes(s, w1), 0)
                                + Chunk256(q, qh, q8, Int8Dot.ShuffleBytes(s, w2), Int8Dot.ShuffleBytes(s, w3), 1)
                                + Chunk256(q, qh, q8, Int8Dot.ShuffleBytes(s, w4), Int8Dot.ShuffleBytes(s, w5), 2)
                                + Chunk256(q, qh, q8, Int8Dot.ShuffleBytes(s, w6), Int8Dot.ShuffleBytes(s, w7), 3);
            float da = y[i].D;
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(isum), Vector256.Create(da * f16[*(ushort*)&x[i].D]), acc);
            summs = MathF.FusedMultiplyAdd(-da * f16[*(ushort*)&x[i].DMin], MinSum(mn, y[i].BSums), summs);
        }
        return Q0Order.Hsum8(acc) + summs;
    }

    // Chunks k and k+1 side by side (k constant after inlining).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Chunks512(byte* q, Vector512<byte> qh01, sbyte* q8, ulong sc, int k)
    {
        Vector512<byte> mask = Vector512.Create((byte)0x0F), one = Vector512.Create((byte)1);
        Vector512<byte> qv = Vector512.Load(q + 32 * k);
        Vector512<byte> hb = Int8Dot.ShiftRightBytes(qh01, 2 * k);
        Vector512<byte> bl = Int8Dot.ShiftLeftBytes(hb & one, 4);
        Vector512<byte> bh = Int8Dot.ShiftLeftBytes(Int8Dot.ShiftRightBytes(hb, 1) & one, 4);
        Vector512<sbyte> aLo = Vector512.Create(Vector256.Load(q8 + 64 * k), Vector256.Load(q8 + 64 * k + 64));
        Vector512<sbyte> aHi = Vector512.Create(Vector256.Load(q8 + 64 * k + 32), Vector256.Load(q8 + 64 * k + 96));
        Vector512<short> sLo = Vector512.Create(Vector256.Create(KScales.Byte(sc, 2 * k)), Vector256.Create(KScales.Byte(sc, 2 * k + 2)));
        Vector512<short> sHi = Vector512.Create(Vector256.Create(KScales.Byte(sc, 2 * k + 1)), Vector256.Create(KScales.Byte(sc, 2 * k + 3)));
        return Int8Dot.Dot64UScaled((qv & mask) | bl, aLo, sLo) + Int8Dot.Dot64UScaled(Int8Dot.ShiftRightBytes(qv, 4) | bh, aHi, sHi);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V512(byte* w, byte* a, int n)
    {
        var x = (BlockQ5_K*)w; var y = (BlockQ8_K*)a;
        Vector256<float> acc = Vector256<float>.Zero;
        float summs = 0;
        for (int i = 0; i < n / 256; i++)
        {
            KScales.Unpack(x[i].Scales, out ulong sc, out ulong mn);
            Vector256<byte> qh = Vector256.Load(x[i].Qh);
            // chunk k in the low 256 bits, chunk k+1 (bits shifted 2 further) in the high 256 bits
            Vector512<byte> qh01 = Vector512.Create(qh, Int8Dot.ShiftRightBytes(qh, 2));
            Vector512<int> isum = Chunks512(x[i].Qs, qh01, y[i].Qs, sc, 0) + Chunks512(x[i].Qs, qh01, y[i].Qs, sc, 2);
            // the halves hold different sub-blocks: their lanes add (exact ints) into ggml's 8 lanes
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(isum.GetLower() + isum.GetUpper()), Vector256.Create(y[i].D * Fp.F16ToF32(x[i].D)), acc);
            summs = MathF.FusedMultiplyAdd(-y[i].D * Fp.F16ToF32(x[i].DMin), MinSum(mn, y[i].BSums), summs);
        }
        return Q0Order.Hsum8(acc) + summs;
    }
}
