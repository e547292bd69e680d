using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Quants;

/// <summary>The weight side of <see cref="KQuantAmx"/>: one super-block of one row as split, scaled codes in lane slots.</summary>
internal unsafe interface IKQuantAmxWeights
{
    /// <summary>Bytes per super-block of 256.</summary>
    static abstract int BlockBytes { get; }

    /// <summary>A scaled code p = (hi &lt;&lt; Split) + lo, 0 ≤ lo &lt; 2^Split, both in int8.</summary>
    static abstract int Split { get; }

    /// <summary>
    /// How the vec-dot sums the mins −d_a · dmin_w · Σ_j m_j · S_j: 4 lanes (Q4_K), one exact sum (Q5_K), none (Q6_K), or
    /// <see cref="KQuantAmx.Q2_KMins"/> (Q2_K: 16 mins against the 16-element bsums, paired into the 8 lanes, each
    /// lane's min step before its scale step).
    /// </summary>
    static abstract int MinLanes { get; }

    /// <summary>
    /// The super-block at x into 8 lane slots each of hi and lo (34 bytes apart; slot l's dword j = the split scaled
    /// codes of elements 4l..4l+3 of group j, <see cref="KQuantAmx.StoreSlots"/>), d_w, dmin_w and the mins paired
    /// (pair p: m_2p | m_2p+1 &lt;&lt; 16; room for 8 pairs).
    /// </summary>
    static abstract void Prepare(byte* x, byte* hi, byte* lo, float* dw, float* dmin, int* mins);
}

/// <summary>Q4_K: group j = sub-block j (chunk j/2's low or high nibbles), p = sc_j · c ≤ 945, split at 4 bits.</summary>
internal unsafe struct Q4_KAmxWeights : IKQuantAmxWeights
{
    public static int BlockBytes => 144;

    public static int Split => 4;

    public static int MinLanes => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(byte* x, byte* hi, byte* lo, float* dw, float* dmin, int* mins)
    {
        ulong sc = ScalesAndMins(x, dw, dmin, mins);
        byte* q = ((BlockQ4_K*)x)->Qs;
        Vector256<byte> m4 = Vector256.Create((byte)0x0F);
        Vector256<int> h0, h1, h2, h3, h4, h5, h6, h7, l0, l1, l2, l3, l4, l5, l6, l7;
        Codes(Vector256.Load(q) & m4, sc, 0, out h0, out l0);
        Codes(Vector256.ShiftRightLogical(Vector256.Load(q).AsUInt16(), 4).AsByte() & m4, sc, 1, out h1, out l1);
        Codes(Vector256.Load(q + 32) & m4, sc, 2, out h2, out l2);
        Codes(Vector256.ShiftRightLogical(Vector256.Load(q + 32).AsUInt16(), 4).AsByte() & m4, sc, 3, out h3, out l3);
        Codes(Vector256.Load(q + 64) & m4, sc, 4, out h4, out l4);
        Codes(Vector256.ShiftRightLogical(Vector256.Load(q + 64).AsUInt16(), 4).AsByte() & m4, sc, 5, out h5, out l5);
        Codes(Vector256.Load(q + 96) & m4, sc, 6, out h6, out l6);
        Codes(Vector256.ShiftRightLogical(Vector256.Load(q + 96).AsUInt16(), 4).AsByte() & m4, sc, 7, out h7, out l7);
        KQuantAmx.StoreSlots(hi, h0, h1, h2, h3, h4, h5, h6, h7);
        KQuantAmx.StoreSlots(lo, l0, l1, l2, l3, l4, l5, l6, l7);
    }

    /// <summary>
    /// The head Q4_K and Q5_K share (f16 d, f16 dmin, 12 bytes of 6-bit scales and mins): d_w, dmin_w, the mins paired
    /// (m_2p | m_2p+1 &lt;&lt; 16) and the 8 scales, returned one per byte.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong ScalesAndMins(byte* x, float* dw, float* dmin, int* mins)
    {
        float* f16 = Fp.F16Table;
        *dw = f16[*(ushort*)x];
        *dmin = f16[*(ushort*)(x + 2)];
        KScales.Unpack(x + 4, out ulong sc, out ulong mn);
        for (int p = 0; p < 4; p++) mins[p] = (int)((ushort)KScales.Byte(mn, 2 * p) | (uint)KScales.Byte(mn, 2 * p + 1) << 16);
        return sc;
    }

    /// <summary>Sub-block j's 32 codes (≤ 31) times sc_j split into (p >> 4, p &amp; 15) bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Codes(Vector256<byte> codes, ulong sc, int j, out Vector256<int> hi, out Vector256<int> lo)
    {
        Vector512<ushort> p = Avx512BW.ConvertToVector512UInt16(codes) * Vector512.Create((ushort)KScales.Byte(sc, j));
        hi = Avx512BW.ConvertToVector256Byte(Vector512.ShiftRightLogical(p, 4)).AsInt32();
        lo = Avx512BW.ConvertToVector256Byte(p & Vector512.Create((ushort)0x0F)).AsInt32();
    }
}

/// <summary>
/// Q5_K: Q4_K's groups, scales and mins with a fifth bit per code (qh[e] bit j for element e of sub-block j, to bit 4),
/// p = sc_j · c ≤ 1953, split at 4 bits (hi ≤ 122).
/// </summary>
internal unsafe struct Q5_KAmxWeights : IKQuantAmxWeights
{
    public static int BlockBytes => 176;

    public static int Split => 4;

    public static int MinLanes => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(byte* x, byte* hi, byte* lo, float* dw, float* dmin, int* mins)
    {
        var b = (BlockQ5_K*)x;
        ulong sc = Q4_KAmxWeights.ScalesAndMins(x, dw, dmin, mins);
        byte* q = b->Qs;
        Vector256<byte> m4 = Vector256.Create((byte)0x0F), bit4 = Vector256.Create((byte)0x10);
        Vector256<ushort> qh = Vector256.Load(b->Qh).AsUInt16();
        Vector256<int> h0, h1, h2, h3, h4, h5, h6, h7, l0, l1, l2, l3, l4, l5, l6, l7;
        // bit j of qh to bit 4 by one 16-bit shift (bits crossing bytes never land on bit 4)
        Q4_KAmxWeights.Codes((Vector256.Load(q) & m4) | (Vector256.ShiftLeft(qh, 4).AsByte() & bit4), sc, 0, out h0, out l0);
        Q4_KAmxWeights.Codes((Vector256.ShiftRightLogical(Vector256.Load(q).AsUInt16(), 4).AsByte() & m4) | (Vector256.ShiftLeft(qh, 3).AsByte() & bit4), sc, 1, out h1, out l1);
        Q4_KAmxWeights.Codes((Vector256.Load(q + 32) & m4) | (Vector256.ShiftLeft(qh, 2).AsByte() & bit4), sc, 2, out h2, out l2);
        Q4_KAmxWeights.Codes((Vector256.ShiftRightLogical(Vector256.Load(q + 32).AsUInt16(), 4).AsByte() & m4) | (Vector256.ShiftLeft(qh, 1).AsByte() & bit4), sc, 3, out h3, out l3);
        Q4_KAmxWeights.Codes((Vector256.Load(q + 64) & m4) | (qh.AsByte() & bit4), sc, 4, out h4, out l4);
        Q4_KAmxWeights.Codes((Vector256.ShiftRightLogical(Vector256.Load(q + 64).AsUInt16(), 4).AsByte() & m4) | (Vector256.ShiftRightLogical(qh, 1).AsByte() & bit4), sc, 5, out h5, out l5);
        Q4_KAmxWeights.Codes((Vector256.Load(q + 96) & m4) | (Vector256.ShiftRightLogical(qh, 2).AsByte() & bit4), sc, 6, out h6, out l6);
        Q4_KAmxWeights.Codes((Vector256.ShiftRightLogical(Vector256.Load(q + 96).AsUInt16(), 4).AsByte() & m4) | (Vector256.ShiftRightLogical(qh, 3).AsByte() & bit4), sc, 7, out h7, out l7);
        KQuantAmx.StoreSlots(hi, h0, h1, h2, h3, h4, h5, h6, h7);
        KQuantAmx.StoreSlots(lo, l0, l1, l2, l3, l4, l5, l6, l7);
    }
}

/// <summary>
/// Q6_K: group j = half j/4's group j%4 (elements 32j..32j+31; code = ql nibble | 2 qh bits &lt;&lt; 4), its first 16
/// elements scaled by sc[2j], the last 16 by sc[2j + 1] (int8); p = sc · (code − 32) in [−4064, 4096], split at 6
/// bits (hi in [−64, 64]).
/// </summary>
internal unsafe struct Q6_KAmxWeights : IKQuantAmxWeights
{
    public static int BlockBytes => 210;

    public static int Split => 6;

    public static int MinLanes => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(byte* x, byte* hi, byte* lo, float* dw, float* dmin, int* mins)
    {
        var b = (BlockQ6_K*)x;
        *dw = Fp.F16Table[*(ushort*)&b->D];
        *dmin = 0;
        Vector256<byte> m4 = Vector256.Create((byte)0x0F), m3 = Vector256.Create((byte)0x03);
        Vector256<int> h0, h1, h2, h3, h4, h5, h6, h7, l0, l1, l2, l3, l4, l5, l6, l7;
        Half(b->Ql, b->Qh, b->Scales, m4, m3, out h0, out l0, out h1, out l1, out h2, out l2, out h3, out l3);
        Half(b->Ql + 64, b->Qh + 32, b->Scales + 8, m4, m3, out h4, out l4, out h5, out l5, out h6, out l6, out h7, out l7);
        KQuantAmx.StoreSlots(hi, h0, h1, h2, h3, h4, h5, h6, h7);
        KQuantAmx.StoreSlots(lo, l0, l1, l2, l3, l4, l5, l6, l7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Half(byte* ql, byte* qh, sbyte* sc, Vector256<byte> m4, Vector256<byte> m3,
        out Vector256<int> h0, out Vector256<int> l0, out Vector256<int> h1, out Vector256<int> l1,
        out Vector256<int> h2, out Vector256<int> l2, out Vector256<int> h3, out Vector256<int> l3)
    {
        Vector256<byte> a = Vector256.Load(ql), b = Vector256.Load(ql + 32), h = Vector256.Load(qh);
        Codes((a & m4) | Vector256.ShiftLeft(h.AsUInt16(), 4).AsByte() & Vector256.Create((byte)0x30), 32, sc[0], sc[1], out h0, out l0);
        Codes((b & m4) | Vector256.ShiftLeft(h.AsUInt16(), 2).AsByte() & Vector256.Create((byte)0x30), 32, sc[2], sc[3], out h1, out l1);
        Codes((Vector256.ShiftRightLogical(a.AsUInt16(), 4).AsByte() & m4) | (h & Vector256.Create((byte)0x30)), 32, sc[4], sc[5], out h2, out l2);
        Codes((Vector256.ShiftRightLogical(b.AsUInt16(), 4).AsByte() & m4) | (Vector256.ShiftRightLogical(h.AsUInt16(), 2).AsByte() & Vector256.Create((byte)0x30)), 32, sc[6], sc[7], out h3, out l3);
    }

    /// <summary>A group's 32 codes as sc · (code − bias), elements 0..15 with s0, 16..31 with s1, split at 6 bits (|p| ≤ 4096).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Codes(Vector256<byte> codes, short bias, short s0, short s1, out Vector256<int> hi, out Vector256<int> lo)
    {
        Vector512<short> c = Avx512BW.ConvertToVector512Int16(codes) - Vector512.Create(bias);
        Vector512<short> p = c * Vector512.Create(Vector256.Create((short)s0), Vector256.Create((short)s1));
        hi = Avx512BW.ConvertToVector256SByte(Vector512.ShiftRightArithmetic(p, 6)).AsInt32();
        lo = Avx512BW.ConvertToVector256SByte(p & Vector512.Create((short)0x3F)).AsInt32();
    }
}

/// <summary>
/// Q2_K: group j = chunk (half j/4, shift j%4) of 32 elements (2-bit codes), its first 16 elements scaled by the low
/// nibble of scales[2j], the last 16 by that of scales[2j + 1]: p ≤ 15 · 3, so the hi tiles are zero. The mins are the
/// 16 high nibbles, paired into ggml's 8 min lanes (<see cref="VecDotQ2_KQ8_K"/>).
/// </summary>
internal unsafe struct Q2_KAmxWeights : IKQuantAmxWeights
{
    public static int BlockBytes => 84;

    public static int Split => 6;

    public static int MinLanes => KQuantAmx.Q2_KMins;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(byte* x, byte* hi, byte* lo, float* dw, float* dmin, int* mins)
    {
        var b = (BlockQ2_K*)x;
        *dw = Fp.F16Table[*(ushort*)&b->D];
        *dmin = Fp.F16Table[*(ushort*)&b->DMin];
        byte* sc = b->Scales;
        for (int p = 0; p < 8; p++) mins[p] = sc[2 * p] >> 4 | (sc[2 * p + 1] >> 4) << 16;
        Vector256<byte> q0 = Vector256.Load(b->Qs), q1 = Vector256.Load(b->Qs + 32);
        Vector256<int> h0, h1, h2, h3, h4, h5, h6, h7, l0, l1, l2, l3, l4, l5, l6, l7;
        Group(q0, 0, sc, out h0, out l0);
        Group(q0, 1, sc, out h1, out l1);
        Group(q0, 2, sc, out h2, out l2);
        Group(q0, 3, sc, out h3, out l3);
        Group(q1, 0, sc + 8, out h4, out l4);
        Group(q1, 1, sc + 8, out h5, out l5);
        Group(q1, 2, sc + 8, out h6, out l6);
        Group(q1, 3, sc + 8, out h7, out l7);
        KQuantAmx.StoreSlots(hi, h0, h1, h2, h3, h4, h5, h6, h7);
        KQuantAmx.StoreSlots(lo, l0, l1, l2, l3, l4, l5, l6, l7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Group(Vector256<byte> q, int shift, byte* sc, out Vector256<int> hi, out Vector256<int> lo) =>
        Q6_KAmxWeights.Codes(Int8Dot.ShiftRightBytes(q, 2 * shift) & Vector256.Create((byte)3), 0, (short)(sc[2 * shift] & 0xF), (short)(sc[2 * shift + 1] & 0xF), out hi, out lo);
}

/// <summary>
/// Q3_K: group g = chunk (half g/4, shift g%4) of 32 elements (code = 2 bits | 4 where hmask bit g is set, value
/// code − 4 as ggml's q3l − q3h), its first 16 elements scaled by sc[2g], the last 16 by sc[2g + 1] (6-bit − 32); p
/// in [−124, 128], split at 6 bits. One float step per super-block and hsum_float_8, as Q6_K.
/// </summary>
internal unsafe struct Q3_KAmxWeights : IKQuantAmxWeights
{
    public static int BlockBytes => 110;

    public static int Split => 6;

    public static int MinLanes => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(byte* x, byte* hi, byte* lo, float* dw, float* dmin, int* mins)
    {
        var b = (BlockQ3_K*)x;
        *dw = Fp.F16Table[*(ushort*)&b->D];
        *dmin = 0;
        Vector256<short> sc = VecDotQ3_KQ8_K.Scales16(b->Scales);
        Vector256<byte> hm = Vector256.Load(b->HMask), q0 = Vector256.Load(b->Qs), q1 = Vector256.Load(b->Qs + 32);
        Vector256<int> h0, h1, h2, h3, h4, h5, h6, h7, l0, l1, l2, l3, l4, l5, l6, l7;
        Group(q0, hm, 0, 0, sc, out h0, out l0);
        Group(q0, hm, 1, 1, sc, out h1, out l1);
        Group(q0, hm, 2, 2, sc, out h2, out l2);
        Group(q0, hm, 3, 3, sc, out h3, out l3);
        Group(q1, hm, 0, 4, sc, out h4, out l4);
        Group(q1, hm, 1, 5, sc, out h5, out l5);
        Group(q1, hm, 2, 6, sc, out h6, out l6);
        Group(q1, hm, 3, 7, sc, out h7, out l7);
        KQuantAmx.StoreSlots(hi, h0, h1, h2, h3, h4, h5, h6, h7);
        KQuantAmx.StoreSlots(lo, l0, l1, l2, l3, l4, l5, l6, l7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Group(Vector256<byte> q, Vector256<byte> hm, int shift, int g, Vector256<short> sc, out Vector256<int> hi, out Vector256<int> lo)
    {
        Vector256<byte> bit = Vector256.Create((byte)(1 << g));
        Vector256<byte> code = (Int8Dot.ShiftRightBytes(q, 2 * shift) & Vector256.Create((byte)3)) | (Vector256.Equals(hm & bit, bit) & Vector256.Create((byte)4));
        Q6_KAmxWeights.Codes(code, 4, sc.GetElement(2 * g), sc.GetElement(2 * g + 1), out hi, out lo);
    }
}

/// <summary>
/// IQ4_XS: group j = sub-block j (its 16 code bytes: low nibbles elements 0..15, high nibbles 16..31, each an index into
/// the IQ4_NL code book), p = ls_j · K[idx] with ls_j the 6-bit scale − 32: |p| ≤ 32 · 127, split at 6 bits (hi in
/// [−64, 63]). The vec-dot keeps ggml's 8 lanes, one float step per super-block and hsum_float_8, as Q6_K's.
/// </summary>
internal unsafe struct IQ4_XSAmxWeights : IKQuantAmxWeights
{
    public static int BlockBytes => 136;

    public static int Split => 6;

    public static int MinLanes => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(byte* x, byte* hi, byte* lo, float* dw, float* dmin, int* mins)
    {
        var b = (BlockIQ4_XS*)x;
        *dw = Fp.F16Table[*(ushort*)&b->D];
        *dmin = 0;
        byte* q = b->Qs;
        Vector256<int> h0, h1, h2, h3, h4, h5, h6, h7, l0, l1, l2, l3, l4, l5, l6, l7;
        Codes(b, q, 0, out h0, out l0);
        Codes(b, q + 16, 1, out h1, out l1);
        Codes(b, q + 32, 2, out h2, out l2);
        Codes(b, q + 48, 3, out h3, out l3);
        Codes(b, q + 64, 4, out h4, out l4);
        Codes(b, q + 80, 5, out h5, out l5);
        Codes(b, q + 96, 6, out h6, out l6);
        Codes(b, q + 112, 7, out h7, out l7);
        KQuantAmx.StoreSlots(hi, h0, h1, h2, h3, h4, h5, h6, h7);
        KQuantAmx.StoreSlots(lo, l0, l1, l2, l3, l4, l5, l6, l7);
    }

    /// <summary>Sub-block j's 32 values K[idx] times ls_j, split at 6 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Codes(BlockIQ4_XS* b, byte* qs, int j, out Vector256<int> hi, out Vector256<int> lo)
    {
        Block32Decode.Nibbles(qs, out var l, out var h);
        Vector256<sbyte> v = Vector256.Create(Block32Decode.Lookup(l), Block32Decode.Lookup(h));
        Vector512<short> p = Avx512BW.ConvertToVector512Int16(v) * Vector512.Create((short)VecDotIQ4_XSQ8_K.SubScale(b, j));
        hi = Avx512BW.ConvertToVector256SByte(Vector512.ShiftRightArithmetic(p, 6)).AsInt32();
        lo = Avx512BW.ConvertToVector256SByte(p & Vector512.Create((short)0x3F)).AsInt32();
    }
}

/// <summary>
/// The generated code's preparation for Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and IQ4_XS weights: the chunk's Q8_K rows as the AMX tiles
/// <see cref="KQuantAmx"/> reads, once per matmul input instead of once per 64-row call (9 % of a 1B-shape Q4_K_M
/// prefill), into s (<see cref="Bytes"/>); nothing where AMX will not run for this many tokens.
/// </summary>
public static unsafe class Q8_KTiles
{
    /// <summary>Bytes the tiles of <paramref name="tokens"/> rows of <paramref name="cols"/> values take (whole tiles of 16).</summary>
    public static nint Bytes(int tokens, int cols) => KQuantAmx.TilesBytes(tokens, cols);

    public static void Prepare(byte* a, nint aStride, int tokens, int cols, byte* s) => KQuantAmx.PrepareTiles(a, aStride, tokens, cols, s);
}
