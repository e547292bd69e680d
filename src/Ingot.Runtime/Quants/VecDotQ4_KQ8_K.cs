using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Q4_K weights · Q8_K activations. Super-block of 256 = 4 chunks of 64: chunk k's 32 qs bytes hold sub-block 2k in
/// the low nibbles and 2k+1 in the high nibbles; 6-bit scale sc and min m per sub-block of 32.
/// result = Σ_sb d_a*(d_w*Σ_j sc_j*Σ c*q8 − dmin_w*Σ_j m_j*bsum_j). The scale is applied inside the int16→int32 madd;
/// the min part pairs Q8_K's bsums with the mins in one vector multiply per super-block.
/// Float order of llama.cpp's x86 ggml_vec_dot_q4_K_q8_K: 8 int lanes (lane k = bytes 4k..4k+3 of every sub-block,
/// scaled) with acc = fma(lanes, d_a·d_w, acc); the mins as 4 lanes (sub-block pairs) with accm = fma(−d_a·dmin_w,
/// lanes, accm); result hsum(acc) + hsum(accm) (<see cref="Q0Order"/>); identical on every path.
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

    /// <summary>The 4 min lanes of ggml (sub-block pairs 2p, 2p+1) from the 8 per-sub-block terms, as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> MinLanes(ulong mins, short* bsums) => Vector128.ConvertToSingle(MinPairs(mins, bsums));

    /// <summary>Lane p = m_2p·(bsums[4p] + bsums[4p+1]) + m_2p+1·(bsums[4p+2] + bsums[4p+3]): exact ints.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> MinPairs(ulong mins, short* bsums)
    {
        if (Ssse3.IsSupported)
        {
            // phaddw: the 8 sub-block sums bsums[2j] + bsums[2j+1] (|·| ≤ 2·16·127: no 16-bit overflow); pmaddwd with the
            // 8 mins (≤ 63) adds sub-blocks 2p and 2p+1: four instructions instead of a 32-bit multiply and a scalar
            // reduction
            Vector128<short> sums = Ssse3.HorizontalAdd(Vector128.Load(bsums), Vector128.Load(bsums + 8));
            Vector128<short> m16 = Vector128.WidenLower(Vector128.CreateScalar(mins).AsByte()).AsInt16();
            return Sse2.MultiplyAddAdjacent(sums, m16);
        }
        Vector256<int> t = MinTerms(mins, bsums);
        Vector128<int> lo = t.GetLower(), hi = t.GetUpper();
        return Vector128.Create(lo.GetElement(0) + lo.GetElement(1), lo.GetElement(2) + lo.GetElement(3),
                                hi.GetElement(0) + hi.GetElement(1), hi.GetElement(2) + hi.GetElement(3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Finish(Vector128<float> accLo, Vector128<float> accHi, Vector128<float> accMin) =>
        Q0Order.Hsum8(accLo, accHi) + ((accMin.GetElement(0) + accMin.GetElement(2)) + (accMin.GetElement(1) + accMin.GetElement(3)));

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V128(byte* w, byte* a, int n)
    {
        var x = (BlockQ4_K*)w; var y = (BlockQ8_K*)a;
        Vector128<float> accLo = Vector128<float>.Zero, accHi = Vector128<float>.Zero, accMin = Vector128<float>.Zero;
        Vector128<byte> mask = Vector128.Create((byte)0x0F);
        for (int i = 0; i < n / 256; i++)
        {
            KScales.Unpack(x[i].Scales, out ulong sc, out ulong mn);
            byte* q = x[i].Qs; sbyte* q8 = y[i].Qs;
            Vector128<int> isumLo = Vector128<int>.Zero, isumHi = Vector128<int>.Zero; // bytes 0..15 / 16..31 of each sub-block
            for (int k = 0; k < 4; k++, q += 32, q8 += 64)
            {
                Vector128<short> s1 = Vector128.Create(KScales.Byte(sc, 2 * k)), s2 = Vector128.Create(KScales.Byte(sc, 2 * k + 1));
                Vector128<byte> q0 = Vector128.Load(q), q1 = Vector128.Load(q + 16);
                isumLo += Int8Dot.Dot16UScaled(q0 & mask, Vector128.Load(q8), s1) + Int8Dot.Dot16UScaled(Int8Dot.ShiftRightBytes(q0, 4), Vector128.Load(q8 + 32), s2);
                isumHi += Int8Dot.Dot16UScaled(q1 & mask, Vector128.Load(q8 + 16), s1) + Int8Dot.Dot16UScaled(Int8Dot.ShiftRightBytes(q1, 4), Vector128.Load(q8 + 48), s2);
            }
            Vector128<float> d = Vector128.Create(y[i].D * Fp.F16ToF32(x[i].D));
            accLo = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(isumLo), d, accLo);
            accHi = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(isumHi), d, accHi);
            accMin = Vector128.FusedMultiplyAdd(MinLanes(mn, y[i].BSums), Vector128.Create(-y[i].D * Fp.F16ToF32(x[i].DMin)), accMin);
        }
        return Finish(accLo, accHi, accMin);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V256(byte* w, byte* a, int n)
    {
        var x = (BlockQ4_K*)w; var y = (BlockQ8_K*)a;
        float* f16 = Fp.F16Table;
        Vector256<float> acc = Vector256<float>.Zero;
        Vector128<float> accMin = Vector128<float>.Zero;
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
            Accumulate(isum, &y[i], f16[*(ushort*)&x[i].D], f16[*(ushort*)&x[i].DMin], mn, ref acc, ref accMin);
        }
        return Finish(acc.GetLower(), acc.GetUpper(), accMin);
    }

    /// <summary>
    /// One super-block's float steps for one token, in ggml's order: d_a·d_w and −d_a·dmin_w rounded to float once, the
    /// exact int lanes converted once each; acc += lanes·(d_a·d_w), accMin += min lanes·(−d_a·dmin_w).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(Vector256<int> isum, BlockQ8_K* ya, float dw, float dmin, ulong mn, ref Vector256<float> acc, ref Vector128<float> accMin)
    {
        float da = ya->D;
        acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(isum), Vector256.Create(da * dw), acc);
        accMin = Vector128.FusedMultiplyAdd(MinLanes(mn, ya->BSums), Vector128.Create(-da * dmin), accMin);
    }

    /// <summary>
    /// The rows kernel (see <see cref="VecDotRows"/>): where the machine code runs, from two tokens whole groups of 16
    /// rows in the vector lanes (<see cref="Q4_KQ5_Kx16Rows"/>), the other rows (<c>q4_kdots512</c>) with each
    /// super-block decoded once for all the tokens, for any token count (decode too); else AVX2 with each super-block decoded once per two tokens, a last odd token by
    /// <see cref="V256"/> itself. Every token's result is bit-identical to <see cref="V256"/> (the same exact integer
    /// lanes, products and FMA order).
    /// </summary>
    internal static void Rows(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        if (Q4_KQ5_Kx16Rows.Runs(tokens, rows))
        {
            // whole groups of 16 rows with the rows in the vector lanes; the rest below
            int done = Q4_KQ5_Kx16Rows.Q4_K(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
            if (!KQuantX16.Rest(done, ref w, rowBytes, ref rows, ref y)) return;
        }
        if (s_dots512 != null)
        {
            KQuantMachineRows.Run(s_dots512, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
            return;
        }
        for (int r = 0; r < rows; r++, w += rowBytes)
        {
            int t = 0;
            for (; t + 1 < tokens; t += 2) Row2(w, a + t * aStride, a + (t + 1) * aStride, cols / 256, y + t * yStride + r, yStride);
            if (t < tokens) y[t * yStride + r] = V256(w, a + t * aStride, cols);
        }
    }

    /// <summary>The machine-code rows kernel (<see cref="KQuantMachineRows"/>) where it may run, else null (decided once).</summary>
    private static readonly delegate* unmanaged<KQuantMachineRows.Args*, void> s_dots512 = KQuantMachineRows.Entry(Kernels.MachineCode.Q4_KDots512Offset);

    /// <summary>Whether <see cref="Rows"/> runs the machine code here (tests assert the path they check ran).</summary>
    internal static bool MachineCodeRuns => s_dots512 != null;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row2(byte* w, byte* a0, byte* a1, int blocks, float* y0, nint yStride)
    {
        var x = (BlockQ4_K*)w; var ya = (BlockQ8_K*)a0; var yb = (BlockQ8_K*)a1;
        float* f16 = Fp.F16Table;
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        Vector128<float> accMin0 = Vector128<float>.Zero, accMin1 = Vector128<float>.Zero;
        Vector256<byte> mask = Vector256.Create((byte)0x0F);
        Vector256<byte> w0 = Vector256.Create((ushort)0x0100).AsByte(), w1 = Vector256.Create((ushort)0x0302).AsByte();
        Vector256<byte> w2 = Vector256.Create((ushort)0x0504).AsByte(), w3 = Vector256.Create((ushort)0x0706).AsByte();
        Vector256<byte> w4 = Vector256.Create((ushort)0x0908).AsByte(), w5 = Vector256.Create((ushort)0x0B0A).AsByte();
        Vector256<byte> w6 = Vector256.Create((ushort)0x0D0C).AsByte(), w7 = Vector256.Create((ushort)0x0F0E).AsByte();
        for (int i = 0; i < blocks; i++)
        {
            Prefetch.Step((byte*)&x[i], 144);
            KScales.Unpack(x[i].Scales, out ulong sc, out ulong mn);
            byte* q = x[i].Qs; sbyte* qa = ya[i].Qs, qb = yb[i].Qs;
            Vector256<byte> s = Vector256.Create(Vector128.WidenLower(Vector128.CreateScalar(sc).AsByte())).AsByte();
            Vector256<int> isum0 = Vector256<int>.Zero, isum1 = Vector256<int>.Zero;
            Chunk(Vector256.Load(q), mask, Int8Dot.ShuffleBytes(s, w0).AsInt16(), Int8Dot.ShuffleBytes(s, w1).AsInt16(), qa, qb, ref isum0, ref isum1);
            Chunk(Vector256.Load(q + 32), mask, Int8Dot.ShuffleBytes(s, w2).AsInt16(), Int8Dot.ShuffleBytes(s, w3).AsInt16(), qa + 64, qb + 64, ref isum0, ref isum1);
            Chunk(Vector256.Load(q + 64), mask, Int8Dot.ShuffleBytes(s, w4).AsInt16(), Int8Dot.ShuffleBytes(s, w5).AsInt16(), qa + 128, qb + 128, ref isum0, ref isum1);
            Chunk(Vector256.Load(q + 96), mask, Int8Dot.ShuffleBytes(s, w6).AsInt16(), Int8Dot.ShuffleBytes(s, w7).AsInt16(), qa + 192, qb + 192, ref isum0, ref isum1);
            // the integer lanes are exact, so their summation order is free; the float steps are V256's, per token
            float dw = f16[*(ushort*)&x[i].D], dmin = f16[*(ushort*)&x[i].DMin];
            Accumulate(isum0, &ya[i], dw, dmin, mn, ref acc0, ref accMin0);
            Accumulate(isum1, &yb[i], dw, dmin, mn, ref acc1, ref accMin1);
        }
        y0[0] = Finish(acc0.GetLower(), acc0.GetUpper(), accMin0);
        y0[yStride] = Finish(acc1.GetLower(), acc1.GetUpper(), accMin1);
    }

    /// <summary>One chunk of 32 qs bytes (sub-blocks 2k in the low nibbles, 2k+1 in the high) against both tokens.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Chunk(Vector256<byte> q, Vector256<byte> mask, Vector256<short> sLo, Vector256<short> sHi, sbyte* qa, sbyte* qb, ref Vector256<int> isum0, ref Vector256<int> isum1)
    {
        Vector256<byte> lo = q & mask, hi = Int8Dot.ShiftRightBytes(q, 4);
        isum0 += Int8Dot.Dot32UScaled(lo, Vector256.Load(qa), sLo) + Int8Dot.Dot32UScaled(hi, Vector256.Load(qa + 32), sHi);
        isum1 += Int8Dot.Dot32UScaled(lo, Vector256.Load(qb), sLo) + Int8Dot.Dot32UScaled(hi, Vector256.Load(qb + 32), sHi);
    }

    /// <summary>Two chunks (64 qs bytes) per step: low halves sub-blocks 2k,2k+2; high halves 2k+1,2k+3.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V512(byte* w, byte* a, int n)
    {
        var x = (BlockQ4_K*)w; var y = (BlockQ8_K*)a;
        Vector256<float> acc = Vector256<float>.Zero;
        Vector128<float> accMin = Vector128<float>.Zero;
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
            // the two 256-bit halves hold different sub-blocks: their lanes add (exact ints) into ggml's 8 lanes
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(isum.GetLower() + isum.GetUpper()), Vector256.Create(y[i].D * Fp.F16ToF32(x[i].D)), acc);
            accMin = Vector128.FusedMultiplyAdd(MinLanes(mn, y[i].BSums), Vector128.Create(-y[i].D * Fp.F16ToF32(x[i].DMin)), accMin);
        }
        return Finish(acc.GetLower(), acc.GetUpper(), accMin);
    }
}
