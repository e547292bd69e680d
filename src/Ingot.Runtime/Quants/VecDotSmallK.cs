using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Q2_K weights · Q8_K activations. For half h (32 qs bytes) and shift s, codes (q &gt;&gt; 2s) &amp; 3 cover elements
/// 128h+32s..+31: bytes 0-15 sub-block 8h+2s, bytes 16-31 sub-block 8h+2s+1 (4-bit scale low nibble, min high).
/// </summary>
public static unsafe class VecDotQ2_KQ8_K
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

    public static float Scalar(byte* w, byte* a, int n) => VecDotScalar.Q2_KQ8_K(w, a, n);

    /// <summary><see cref="Step256"/>'s lanes in two halves: lo = lanes 0..3 (bytes 0..15 of the chunk, q0), hi = lanes 4..7 (q1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step128(Vector128<byte> q0, Vector128<byte> q1, sbyte* q8, byte* sc, int s, ref Vector128<int> lo, ref Vector128<int> hi)
    {
        Vector128<byte> three = Vector128.Create((byte)3);
        lo += Int8Dot.Dot16UScaled(Int8Dot.ShiftRightBytes(q0, 2 * s) & three, Vector128.Load(q8 + 32 * s), Vector128.Create((short)(sc[2 * s] & 0xF)));
        hi += Int8Dot.Dot16UScaled(Int8Dot.ShiftRightBytes(q1, 2 * s) & three, Vector128.Load(q8 + 32 * s + 16), Vector128.Create((short)(sc[2 * s + 1] & 0xF)));
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V128(byte* w, byte* a, int n)
    {
        // V256's order with its 8 lanes as two halves
        var x = (BlockQ2_K*)w; var y = (BlockQ8_K*)a;
        Vector128<float> accLo = Vector128<float>.Zero, accHi = Vector128<float>.Zero;
        for (int i = 0; i < n / 256; i++)
        {
            byte* q = x[i].Qs; byte* sc = x[i].Scales; sbyte* q8 = y[i].Qs;
            Vector128<byte> a0 = Vector128.Load(q), a1 = Vector128.Load(q + 16), b0 = Vector128.Load(q + 32), b1 = Vector128.Load(q + 48);
            Vector128<int> lo = Vector128<int>.Zero, hi = Vector128<int>.Zero;
            Step128(a0, a1, q8, sc, 0, ref lo, ref hi); Step128(a0, a1, q8, sc, 1, ref lo, ref hi);
            Step128(a0, a1, q8, sc, 2, ref lo, ref hi); Step128(a0, a1, q8, sc, 3, ref lo, ref hi);
            Step128(b0, b1, q8 + 128, sc + 8, 0, ref lo, ref hi); Step128(b0, b1, q8 + 128, sc + 8, 1, ref lo, ref hi);
            Step128(b0, b1, q8 + 128, sc + 8, 2, ref lo, ref hi); Step128(b0, b1, q8 + 128, sc + 8, 3, ref lo, ref hi);
            Vector256<int> prod = MinLanes(&x[i], &y[i]);
            Vector128<float> d = Vector128.Create(y[i].D * Fp.F16ToF32(x[i].D)), dmin = Vector128.Create(-y[i].D * Fp.F16ToF32(x[i].DMin));
            accLo = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(prod.GetLower()), dmin, accLo);
            accHi = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(prod.GetUpper()), dmin, accHi);
            accLo = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(lo), d, accLo);
            accHi = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(hi), d, accHi);
        }
        return Q0Order.Hsum8(accLo, accHi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Step256(Vector256<byte> qv, sbyte* q8, byte* sc, int s) =>
        Int8Dot.Dot32UScaled(Int8Dot.ShiftRightBytes(qv, 2 * s) & Vector256.Create((byte)3), Vector256.Load(q8 + 32 * s),
                             Vector256.Create(Vector128.Create((short)(sc[2 * s] & 0xF)), Vector128.Create((short)(sc[2 * s + 1] & 0xF))));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Mins16(byte* scales) =>
        Vector256.WidenLower(Int8Dot.ShiftRightBytes(Vector128.Load(scales), 4).ToVector256()).AsInt16();

    /// <summary>ggml's 8 min lanes: lane l = m_2l · bsum_2l + m_2l+1 · bsum_2l+1 (m: the scale bytes' high nibbles; pmaddwd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> MinLanes(BlockQ2_K* x, BlockQ8_K* y) => Int8Dot.Madd(Vector256.Load(y->BSums), Mins16(x->Scales));

    /// <summary>
    /// One super-block in ggml's order: acc = fma(float(min lanes), −d_a · dmin_w, acc), then acc = fma(float(isum),
    /// d_a · d_w, acc) (the scale and min parts nearly cancel, e.g. 307 − 293; llama.cpp rounds them so, and so do we).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Step(BlockQ2_K* x, BlockQ8_K* y, Vector256<int> isum, Vector256<float> acc)
    {
        acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(MinLanes(x, y)), Vector256.Create(-y->D * Fp.F16ToF32(x->DMin)), acc);
        return Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(isum), Vector256.Create(y->D * Fp.F16ToF32(x->D)), acc);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V256(byte* w, byte* a, int n)
    {
        // ggml's order: per super-block 8 int lanes of the mins and of Σ sc · q · q8, two fmas, then hsum_float_8
        var x = (BlockQ2_K*)w; var y = (BlockQ8_K*)a;
        Vector256<float> acc = Vector256<float>.Zero;
        for (int i = 0; i < n / 256; i++)
        {
            byte* sc = x[i].Scales; sbyte* q8 = y[i].Qs;
            Vector256<byte> q0 = Vector256.Load(x[i].Qs), q1 = Vector256.Load(x[i].Qs + 32);
            Vector256<int> isum = Step256(q0, q8, sc, 0) + Step256(q0, q8, sc, 1) + Step256(q0, q8, sc, 2) + Step256(q0, q8, sc, 3)
                                + Step256(q1, q8 + 128, sc + 8, 0) + Step256(q1, q8 + 128, sc + 8, 1) + Step256(q1, q8 + 128, sc + 8, 2) + Step256(q1, q8 + 128, sc + 8, 3);
            acc = Step(&x[i], &y[i], isum, acc);
        }
        return Q0Order.Hsum8(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Step512(Vector512<byte> q01, sbyte* q8, byte* sc, int s)
    {
        Vector512<short> scv = Vector512.Create(
            Vector256.Create(Vector128.Create((short)(sc[2 * s] & 0xF)), Vector128.Create((short)(sc[2 * s + 1] & 0xF))),
            Vector256.Create(Vector128.Create((short)(sc[2 * s + 2] & 0xF)), Vector128.Create((short)(sc[2 * s + 3] & 0xF))));
        return Int8Dot.Dot64UScaled(Int8Dot.ShiftRightBytes(q01, 2 * s) & Vector512.Create((byte)3), Vector512.Load(q8 + 32 * s), scv);
    }

    /// <summary>Shifts s and s+1 side by side in one Vector512 (activations contiguous: 64 bytes).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V512(byte* w, byte* a, int n)
    {
        // the halves of the 16 int lanes add into V256's 8 (exact), then its float steps
        var x = (BlockQ2_K*)w; var y = (BlockQ8_K*)a;
        Vector256<float> acc = Vector256<float>.Zero;
        for (int i = 0; i < n / 256; i++)
        {
            byte* sc = x[i].Scales; sbyte* q8 = y[i].Qs;
            Vector256<byte> q0 = Vector256.Load(x[i].Qs), q1 = Vector256.Load(x[i].Qs + 32);
            Vector512<byte> q0s = Vector512.Create(q0, Int8Dot.ShiftRightBytes(q0, 2)), q1s = Vector512.Create(q1, Int8Dot.ShiftRightBytes(q1, 2));
            Vector512<int> isum = Step512(q0s, q8, sc, 0) + Step512(q0s, q8, sc, 2) + Step512(q1s, q8 + 128, sc + 8, 0) + Step512(q1s, q8 + 128, sc + 8, 2);
            acc = Step(&x[i], &y[i], isum.GetLower() + isum.GetUpper(), acc);
        }
        return Q0Order.Hsum8(acc);
    }
}

/// <summary>
/// Q3_K weights · Q8_K activations. Unsigned code u = low2 | highbit &lt;&lt; 2 (0..7) = c + 4, so
/// Σ sc*Σ c*q8 = Σ sc*Σ u*q8 − 4*Σ sc*bsum. High bit of element 128h+32s+p is bit 4h+s of hmask[p].
/// </summary>
public static unsafe class VecDotQ3_KQ8_K
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

    public static float Scalar(byte* w, byte* a, int n) => VecDotScalar.Q3_KQ8_K(w, a, n);

    /// <summary>
    /// <see cref="Step256"/>'s lanes in two halves: lo = lanes 0..3 (bytes 0..15 of the step, q0), hi = lanes 4..7
    /// (bytes 16..31, q1), each Σ sc · (q3l − q3h) · q8 over its 4 elements (exact integers, as V256's).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step128(Vector128<byte> q0, Vector128<byte> q1, Vector128<byte> hm0, Vector128<byte> hm1, sbyte* q8, int s, int bit, short* sc, int sub,
        ref Vector128<int> lo, ref Vector128<int> hi)
    {
        Vector128<byte> bitMask = Vector128.Create((byte)(1 << bit)), three = Vector128.Create((byte)3), four = Vector128.Create((byte)4);
        Vector128<byte> l0 = Int8Dot.ShiftRightBytes(q0, 2 * s) & three, h0 = Vector128.AndNot(four, Vector128.Equals(hm0 & bitMask, bitMask));
        Vector128<byte> l1 = Int8Dot.ShiftRightBytes(q1, 2 * s) & three, h1 = Vector128.AndNot(four, Vector128.Equals(hm1 & bitMask, bitMask));
        Vector128<sbyte> a0 = Vector128.Load(q8), a1 = Vector128.Load(q8 + 16);
        Vector128<short> s0 = Vector128.Create(sc[sub]), s1 = Vector128.Create(sc[sub + 1]);
        lo += Int8Dot.Dot16UScaled(l0, a0, s0) - Int8Dot.Dot16UScaled(h0, a0, s0);
        hi += Int8Dot.Dot16UScaled(l1, a1, s1) - Int8Dot.Dot16UScaled(h1, a1, s1);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V128(byte* w, byte* a, int n)
    {
        // V256's order (ggml's): its 8 int lanes as two halves, one fma each per super-block, hsum_float_8
        var x = (BlockQ3_K*)w; var y = (BlockQ8_K*)a;
        short* sc = stackalloc short[16];
        Vector128<float> accLo = Vector128<float>.Zero, accHi = Vector128<float>.Zero;
        for (int i = 0; i < n / 256; i++)
        {
            Scales16(x[i].Scales).Store(sc);
            byte* q = x[i].Qs; sbyte* q8 = y[i].Qs;
            Vector128<byte> hm0 = Vector128.Load(x[i].HMask), hm1 = Vector128.Load(x[i].HMask + 16);
            Vector128<byte> a0 = Vector128.Load(q), a1 = Vector128.Load(q + 16), b0 = Vector128.Load(q + 32), b1 = Vector128.Load(q + 48);
            Vector128<int> lo = Vector128<int>.Zero, hi = Vector128<int>.Zero;
            Step128(a0, a1, hm0, hm1, q8, 0, 0, sc, 0, ref lo, ref hi);
            Step128(a0, a1, hm0, hm1, q8 + 32, 1, 1, sc, 2, ref lo, ref hi);
            Step128(a0, a1, hm0, hm1, q8 + 64, 2, 2, sc, 4, ref lo, ref hi);
            Step128(a0, a1, hm0, hm1, q8 + 96, 3, 3, sc, 6, ref lo, ref hi);
            Step128(b0, b1, hm0, hm1, q8 + 128, 0, 4, sc, 8, ref lo, ref hi);
            Step128(b0, b1, hm0, hm1, q8 + 160, 1, 5, sc, 10, ref lo, ref hi);
            Step128(b0, b1, hm0, hm1, q8 + 192, 2, 6, sc, 12, ref lo, ref hi);
            Step128(b0, b1, hm0, hm1, q8 + 224, 3, 7, sc, 14, ref lo, ref hi);
            Vector128<float> d = Vector128.Create(Fp.F16ToF32(x[i].D) * y[i].D);
            accLo = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(lo), d, accLo);
            accHi = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(hi), d, accHi);
        }
        return Q0Order.Hsum8(accLo, accHi);
    }

    /// <summary>
    /// The 16 signed scales at once from the layout: scale i has low nibble b[i] &amp; 15 (i &lt; 8) or b[i-8] &gt;&gt; 4,
    /// and bits 4-5 = bits 2*(i/4)..+1 of b[8 + i%4]; written as 16 shorts (value − 32).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<short> Scales16(byte* packed)
    {
        uint w0 = Unsafe.ReadUnaligned<uint>(packed), w1 = Unsafe.ReadUnaligned<uint>(packed + 4), w2 = Unsafe.ReadUnaligned<uint>(packed + 8);
        const uint low4 = 0x0f0f0f0f, low2 = 0x03030303;
        Vector128<uint> v = Vector128.Create(
            (w0 & low4) | ((w2 & low2) << 4),
            (w1 & low4) | (((w2 >> 2) & low2) << 4),
            ((w0 >> 4) & low4) | (((w2 >> 4) & low2) << 4),
            ((w1 >> 4) & low4) | (((w2 >> 6) & low2) << 4));
        return Vector256.WidenLower(v.AsByte().ToVector256()).AsInt16() - Vector256.Create((short)32);
    }

    // One 32-element step (shift s of half h): lanes of (low 2 bits − (high bit clear ? 4 : 0)) · q8, scaled by
    // sub-blocks (sub, sub+1): ggml's maddubs(q3l, q8) − maddubs(q3h, q8), then pmaddwd with the scales (exact integers).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Step256(Vector256<byte> qv, Vector256<byte> hm, sbyte* q8, int s, int bit, short* sc, int sub)
    {
        Vector256<byte> bitMask = Vector256.Create((byte)(1 << bit));
        Vector256<byte> h = Vector256.AndNot(Vector256.Create((byte)4), Vector256.Equals(hm & bitMask, bitMask));
        Vector256<byte> l = Int8Dot.ShiftRightBytes(qv, 2 * s) & Vector256.Create((byte)3);
        Vector256<short> scales = Vector256.Create(Vector128.Create(sc[sub]), Vector128.Create(sc[sub + 1]));
        Vector256<sbyte> a = Vector256.Load(q8);
        if (Avx2.IsSupported) // pairs |l·q8| ≤ 768, |h·q8| ≤ 1024: the 16-bit difference is exact
            return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(l, a) - Avx2.MultiplyAddAdjacent(h, a), scales);
        return Int8Dot.Dot32UScaled(l, a, scales) - Int8Dot.Dot32UScaled(h, a, scales);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V256(byte* w, byte* a, int n)
    {
        // ggml's order: per super-block 8 int lanes of Σ sc · (q3l − q3h) · q8 (q3h = 4 where the hmask bit is clear),
        // one fma with d = d_w · d_a, then hsum_float_8
        var x = (BlockQ3_K*)w; var y = (BlockQ8_K*)a;
        short* sc = stackalloc short[16];
        float* f16 = Fp.F16Table;
        Vector256<float> acc = Vector256<float>.Zero;
        for (int i = 0; i < n / 256; i++)
        {
            Scales16(x[i].Scales).Store(sc);
            byte* q = x[i].Qs; sbyte* q8 = y[i].Qs;
            Vector256<byte> hm = Vector256.Load(x[i].HMask);
            Vector256<byte> q0 = Vector256.Load(q), q1 = Vector256.Load(q + 32);
            // unrolled so every shift count is a constant
            Vector256<int> isum = Step256(q0, hm, q8, 0, 0, sc, 0) + Step256(q0, hm, q8 + 32, 1, 1, sc, 2)
                                + Step256(q0, hm, q8 + 64, 2, 2, sc, 4) + Step256(q0, hm, q8 + 96, 3, 3, sc, 6)
                                + Step256(q1, hm, q8 + 128, 0, 4, sc, 8) + Step256(q1, hm, q8 + 160, 1, 5, sc, 10)
                                + Step256(q1, hm, q8 + 192, 2, 6, sc, 12) + Step256(q1, hm, q8 + 224, 3, 7, sc, 14);
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(isum), Vector256.Create(f16[*(ushort*)&x[i].D] * y[i].D), acc);
        }
        return Q0Order.Hsum8(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Step512(Vector512<byte> q01, Vector512<byte> hm, sbyte* q8, int s, int bit, short* sc, int sub)
    {
        // low 256 bits: shift s / hmask bit `bit`; high 256 bits: shift s+1 / bit+1 (q01 = [q, q>>2], hm = [hm, hm>>1])
        // V256's lanes of two steps: Σ sc · (q3l − q3h) · q8 per 4 elements (exact integers)
        Vector512<byte> bitMask = Vector512.Create((byte)(1 << bit));
        Vector512<byte> h = Vector512.AndNot(Vector512.Create((byte)4), Vector512.Equals(hm & bitMask, bitMask));
        Vector512<byte> l = Int8Dot.ShiftRightBytes(q01, 2 * s) & Vector512.Create((byte)3);
        Vector512<short> scv = Vector512.Create(
            Vector256.Create(Vector128.Create(sc[sub]), Vector128.Create(sc[sub + 1])),
            Vector256.Create(Vector128.Create(sc[sub + 2]), Vector128.Create(sc[sub + 3])));
        Vector512<sbyte> a = Vector512.Load(q8);
        return Int8Dot.Dot64UScaled(l, a, scv) - Int8Dot.Dot64UScaled(h, a, scv);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V512(byte* w, byte* a, int n)
    {
        // two steps per vector; the halves of the 16 int lanes add into V256's 8 (exact), then its float step and hsum
        var x = (BlockQ3_K*)w; var y = (BlockQ8_K*)a;
        short* sc = stackalloc short[16];
        Vector256<float> acc = Vector256<float>.Zero;
        for (int i = 0; i < n / 256; i++)
        {
            Scales16(x[i].Scales).Store(sc);
            byte* q = x[i].Qs; sbyte* q8 = y[i].Qs;
            Vector256<byte> hm = Vector256.Load(x[i].HMask);
            Vector512<byte> hm01 = Vector512.Create(hm, Int8Dot.ShiftRightBytes(hm, 1));
            Vector256<byte> q0 = Vector256.Load(q), q1 = Vector256.Load(q + 32);
            Vector512<byte> q0s = Vector512.Create(q0, Int8Dot.ShiftRightBytes(q0, 2)), q1s = Vector512.Create(q1, Int8Dot.ShiftRightBytes(q1, 2));
            Vector512<int> isum = Step512(q0s, hm01, q8, 0, 0, sc, 0) + Step512(q0s, hm01, q8 + 64, 2, 2, sc, 4)
                                + Step512(q1s, hm01, q8 + 128, 0, 4, sc, 8) + Step512(q1s, hm01, q8 + 192, 2, 6, sc, 12);
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(isum.GetLower() + isum.GetUpper()), Vector256.Create(Fp.F16ToF32(x[i].D) * y[i].D), acc);
        }
        return Q0Order.Hsum8(acc);
    }
}

/// <summary>IQ4_XS weights · Q8_K activations: 8 sub-blocks of 32, code-book values, 6-bit scales (ls−32).</summary>
public static unsafe class VecDotIQ4_XSQ8_K
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(byte* w, byte* a, int n)
    {
        if (Vector512.IsHardwareAccelerated && Avx512BW.IsSupported) return V512(w, a, n);
        if (Vector256.IsHardwareAccelerated) return V256(w, a, n);
        if (Vector128.IsHardwareAccelerated) return V128(w, a, n);
        return Scalar(w, a, n);
    }

    public static float Scalar(byte* w, byte* a, int n) => VecDotScalar.IQ4_XSQ8_K(w, a, n);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int SubScale(BlockIQ4_XS* b, int j) =>
        (((b->ScalesL[j / 2] >> (4 * (j % 2))) & 0xF) | (((b->ScalesH >> (2 * j)) & 3) << 4)) - 32;

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V128(byte* w, byte* a, int n)
    {
        // V256's order (ggml's): its 8 int lanes as two halves (elements 0..15 and 16..31 of each sub-block), one fma
        // each per super-block, hsum_float_8
        var x = (BlockIQ4_XS*)w; var y = (BlockQ8_K*)a;
        Vector128<float> accLo = Vector128<float>.Zero, accHi = Vector128<float>.Zero;
        for (int i = 0; i < n / 256; i++)
        {
            byte* qs = x[i].Qs; sbyte* q8 = y[i].Qs;
            Vector128<int> isumLo = Vector128<int>.Zero, isumHi = Vector128<int>.Zero;
            for (int j = 0; j < 8; j++, qs += 16, q8 += 32)
            {
                Block32Decode.Nibbles(qs, out var lo, out var hi);
                Vector128<int> ls = Vector128.Create(SubScale(&x[i], j));
                isumLo += Int8Dot.Dot16S(Block32Decode.Lookup(lo), Vector128.Load(q8)) * ls;
                isumHi += Int8Dot.Dot16S(Block32Decode.Lookup(hi), Vector128.Load(q8 + 16)) * ls;
            }
            Vector128<float> d = Vector128.Create(Fp.F16ToF32(x[i].D) * y[i].D);
            accLo = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(isumLo), d, accLo);
            accHi = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(isumHi), d, accHi);
        }
        return Q0Order.Hsum8(accLo, accHi);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V256(byte* w, byte* a, int n)
    {
        var x = (BlockIQ4_XS*)w; var y = (BlockQ8_K*)a;
        Vector256<float> acc = Vector256<float>.Zero;
        for (int i = 0; i < n / 256; i++)
        {
            byte* qs = x[i].Qs; sbyte* q8 = y[i].Qs;
            Vector256<int> isum = Vector256<int>.Zero;
            for (int j = 0; j < 8; j++, qs += 16, q8 += 32)
            {
                Block32Decode.Nibbles(qs, out var lo, out var hi);
                Vector256<sbyte> v = Vector256.Create(Block32Decode.Lookup(lo), Block32Decode.Lookup(hi));
                isum += ScaledLanes(v, Vector256.Load(q8), SubScale(&x[i], j));
            }
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(isum), Vector256.Create(Fp.F16ToF32(x[i].D) * y[i].D), acc);
        }
        return Q0Order.Hsum8(acc); // ggml's hsum_float_8
    }

    /// <summary>
    /// ls · (dword l = Σ of the 4 products of elements 4l..4l+3), as ggml forms it (maddubs to 16-bit pairs, |pair| ≤
    /// 2 · 127 · 128, then pmaddwd with ls: no 32-bit multiply); the same integers as Dot32S(v, q8) · ls.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ScaledLanes(Vector256<sbyte> v, Vector256<sbyte> q8, int ls)
    {
        if (!Avx2.IsSupported) return Int8Dot.Dot32S(v, q8) * Vector256.Create(ls);
        Vector256<short> pairs = Avx2.MultiplyAddAdjacent(Avx2.Abs(v), Avx2.Sign(q8, v));
        return Avx2.MultiplyAddAdjacent(pairs, Vector256.Create((short)ls));
    }

    /// <summary>
    /// V256's bits two sub-blocks per 512-bit step (AVX-512 BW): the 32 index bytes spread to [low | high nibbles of
    /// sub-block 2k | the same of 2k + 1] by one qword permute and one per-word shift, |K[idx]| and the sign mask by two
    /// byte shuffles (AVX-512 has no vpsignb: q8 negated where K &lt; 0 as (q8 ^ m) − m, which wraps −128 as vpsignb
    /// does; K has no 0), maddubs, then pmaddwd with the two sub-blocks' scales; the two halves of the 16 int lanes add
    /// into V256's 8 (exact), then its float step and ggml's hsum_float_8.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V512(byte* w, byte* a, int n)
    {
        if (!Avx512BW.IsSupported) return V256(w, a, n);
        var x = (BlockIQ4_XS*)w; var y = (BlockQ8_K*)a;
        Vector128<byte> absK = Vector128.Create((byte)127, 104, 83, 65, 49, 35, 22, 10, 1, 13, 25, 38, 53, 69, 89, 113);
        Vector128<byte> negK = Vector128.Create((byte)0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0);
        Vector512<byte> absTable = Vector512.Create(Vector256.Create(absK, absK), Vector256.Create(absK, absK)), negTable = Vector512.Create(Vector256.Create(negK, negK), Vector256.Create(negK, negK));
        Vector512<ulong> spread = Vector512.Create(0ul, 1, 0, 1, 2, 3, 2, 3);
        Vector256<ushort> shift = Vector256.Create(Vector128<ushort>.Zero, Vector128.Create((ushort)4));
        Vector512<ushort> shifts = Vector512.Create(shift, shift);
        Vector512<byte> m4 = Vector512.Create((byte)0x0F);
        Vector256<uint> nibbleShifts = Vector256.Create(0u, 4, 8, 12, 16, 20, 24, 28), pairShifts = Vector256.Create(0u, 2, 4, 6, 8, 10, 12, 14);
        Vector512<short> sc01 = Pair(0), sc23 = Pair(2), sc45 = Pair(4), sc67 = Pair(6);
        float* f16 = Fp.F16Table; // hoisted: a static access in the loop made the JIT spill every vector around it
        Vector256<float> acc = Vector256<float>.Zero;
        for (int i = 0; i < n / 256; i++)
        {
            byte* qs = x[i].Qs; sbyte* q8 = y[i].Qs;
            // the 8 scales ls_j = (nibble j of scales_l | 2 bits j of scales_h << 4) − 32 as words, each broadcast over
            // the 16 words of its sub-block by vpermw
            Vector256<uint> ls = (Avx2.ShiftRightLogicalVariable(Vector256.Create(*(uint*)x[i].ScalesL), nibbleShifts) & Vector256.Create(0xFu))
                | ((Avx2.ShiftRightLogicalVariable(Vector256.Create((uint)x[i].ScalesH), pairShifts) & Vector256.Create(3u)) << 4);
            Vector128<short> ls16 = Avx512F.VL.ConvertToVector128Int16(ls.AsInt32() - Vector256.Create(32));
            Vector512<short> scales = ls16.ToVector256Unsafe().ToVector512Unsafe();
            Vector512<int> isum = Two(qs, q8, Avx512BW.PermuteVar32x16(scales, sc01), spread, shifts, m4, absTable, negTable)
                + Two(qs + 32, q8 + 64, Avx512BW.PermuteVar32x16(scales, sc23), spread, shifts, m4, absTable, negTable)
                + Two(qs + 64, q8 + 128, Avx512BW.PermuteVar32x16(scales, sc45), spread, shifts, m4, absTable, negTable)
                + Two(qs + 96, q8 + 192, Avx512BW.PermuteVar32x16(scales, sc67), spread, shifts, m4, absTable, negTable);
            Vector256<int> lanes = isum.GetLower() + isum.GetUpper();
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(lanes), Vector256.Create(f16[*(ushort*)&x[i].D] * y[i].D), acc);
        }
        return Q0Order.Hsum8(acc);
    }

    /// <summary>vpermw indices: words 0..15 → scale j, 16..31 → scale j + 1.</summary>
    private static Vector512<short> Pair(int j) => Vector512.Create(Vector256.Create((short)j), Vector256.Create((short)(j + 1)));

    /// <summary>Sub-blocks at qs (16 index bytes each) · q8 (32 each), the first's lanes in dwords 0..7, the second's in 8..15, scaled.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Two(byte* qs, sbyte* q8, Vector512<short> sc, Vector512<ulong> spread, Vector512<ushort> shifts, Vector512<byte> m4,
        Vector512<byte> absTable, Vector512<byte> negTable)
    {
        Vector512<byte> idx = Avx512BW.ShiftRightLogicalVariable(
            Avx512F.PermuteVar8x64(Vector256.Load((ulong*)qs).ToVector512Unsafe<ulong>(), spread).AsUInt16(), shifts).AsByte() & m4;
        Vector512<byte> u = Avx512BW.Shuffle(absTable, idx), m = Avx512BW.Shuffle(negTable, idx);
        Vector512<byte> q = Vector512.Load((byte*)q8);
        return Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, ((q ^ m) - m).AsSByte()), sc);
    }
}
