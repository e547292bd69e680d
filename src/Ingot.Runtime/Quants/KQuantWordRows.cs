using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Quants;

/// <summary>
/// The rows kernel of Q3_K and IQ4_XS weights · Q8_K activations from 2 tokens where AVX2 runs (and AMX does not take
/// them), and of Q5_K where its machine code does not run either. The vec-dot decodes a row's codes again for every
/// token (Q3_K's 2 + 1 bits, IQ4_XS's code-book lookups, Q5_K's 4 + 1 bits);
/// here each row is decoded once per call into 16-bit products w = code · sub-block scale (<see cref="IWordDecode"/>:
/// the super-block's 256 elements in order, then its d_w), and then per (row, token) and super-block
/// <code>
///   s      = Σ over the 8 chunks of 32 elements of pmaddwd(w, q8 widened to 16 bits)   (16 dwords, dword i: elements 2i, 2i + 1)
///   lane l = s[2l] + s[2l + 1]      (elements 4l..4l+3 of every chunk of 32: the vec-dot's integer lane l)
///   acc    = fma(float(lane), d_w · d_a, acc)
/// </code>
/// and y = hsum_float_8(acc) (Q5_K: plus its mins' steps, summs = fma(−d_a · dmin_w, Σ m_j · bsum pair j, summs), as its
/// vec-dot adds them). The lanes are the vec-dot's integers (each sum is exact in 32 bits: |w| ≤ 127 · 32) and the
/// float steps its own, so every (row, token) has the vec-dot's bits whatever the
/// tiling. Register tiles of 4 rows × 2 tokens with AVX-512 BW, 2 × 2 with AVX2 (16 registers; pmaddwd over 16 elements,
/// the lanes put in order by phaddd and a qword permute); the rows' decoded super-blocks are walked in runs of
/// <see cref="RunBlocks"/> (which stay in L1 for every token), each (row, token)'s accumulator kept across runs.
/// pp128 of the 110M shape (Zen 4, 2 threads) against the vec-dot per token: IQ4_XS 2.6×, Q3_K_M 2.15× (x86-64-v4
/// builds); 3.1× and 1.6× (x86-64-v3 builds, the AVX2 tiles). Q2_K is not taken: its vec-dot (2-bit codes, 32 elements
/// per maddubs) was as fast as this kernel there (1013 against 929–997 t/s). Q5_K_M on x86-64-v3: 1.37× (684 vs 498).
/// </summary>
internal static unsafe class KQuantWordRows
{
    /// <summary>Bytes of one decoded super-block: 256 products, d_w at +512, Q5_K's dmin_w at +516 and mins at +520 (64-byte aligned records).</summary>
    public const int BlockBytes = 576;

    /// <summary>Floats per (row, token) of the accumulators: its 8 lanes, then (Q5_K) the sum of its mins' steps.</summary>
    private const int AccFloats = 16, TokenFloats = 4 * AccFloats;

    /// <summary>Super-blocks per run: 4 rows × 8 × 576 bytes = 18 KB of decoded rows, read from L1 by every token.</summary>
    private const int RunBlocks = 8;

    /// <summary>Whether the kernel takes this many tokens on this machine.</summary>
    public static bool Runs(int tokens) => tokens >= 2 && (Wide || Avx2.IsSupported);

    /// <summary>Whether the 512-bit tiles run (AVX-512 BW), else the 256-bit ones (AVX2).</summary>
    private static bool Wide => Vector512.IsHardwareAccelerated && Avx512BW.IsSupported;

    /// <summary>y[t · yStride + r] = W[r] · A[t] for r &lt; rows, t &lt; tokens (cols a multiple of 256), the vec-dot's bits.</summary>
    public static void Rows<TDecode>(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride)
        where TDecode : struct, IWordDecode => Rows<TDecode>(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride, Wide);

    /// <summary>
    /// <see cref="Rows{TDecode}(byte*, nint, int, byte*, nint, int, int, float*, nint)"/> with the 512-bit tiles (4 rows × 2
    /// tokens) or the 256-bit ones (2 × 2: AVX2 has 16 vector registers), the same bits either way (tests run both).
    /// </summary>
    internal static void Rows<TDecode>(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride, bool wide)
        where TDecode : struct, IWordDecode
    {
        int blocks = cols / 256;
        nint rowDecoded = (nint)blocks * BlockBytes;
        // 4 decoded rows, then per (token, row of the tile) its 8 float lanes and (Q5_K) its sum of the mins' steps
        byte* decoded = RowScratch.Get(4 * rowDecoded + (nint)tokens * 4 * AccFloats * sizeof(float));
        float* acc = (float*)(decoded + 4 * rowDecoded);
        for (int r0 = 0; r0 < rows; r0 += 4)
        {
            int n = Math.Min(4, rows - r0);
            for (int r = 0; r < n; r++)
                for (int i = 0; i < blocks; i++)
                    TDecode.Decode(w + (r0 + r) * rowBytes + (nint)i * TDecode.SourceBytes, decoded + r * rowDecoded + (nint)i * BlockBytes);
            new Span<float>(acc, tokens * 4 * AccFloats).Clear();
            for (int i0 = 0; i0 < blocks; i0 += RunBlocks)
            {
                int i1 = Math.Min(blocks, i0 + RunBlocks);
                int t = 0;
                if (wide && n == 4)
                    for (; t + 2 <= tokens; t += 2)
                        Tile4x2<TDecode>(decoded, rowDecoded, i0, i1, a + t * aStride, aStride, acc + (nint)t * TokenFloats);
                if (!wide)
                    for (; t + 2 <= tokens; t += 2)
                        for (int r = 0; r < n; r += 2) // row pairs, a lone last row one token at a time
                        {
                            byte* wr = decoded + r * rowDecoded;
                            float* ar = acc + (nint)t * TokenFloats + r * AccFloats;
                            if (r + 1 < n) Tile2x2V256<TDecode>(wr, rowDecoded, i0, i1, a + t * aStride, aStride, ar);
                            else
                            {
                                Tile1x1V256<TDecode>(wr, i0, i1, a + t * aStride, ar);
                                Tile1x1V256<TDecode>(wr, i0, i1, a + (t + 1) * aStride, ar + TokenFloats);
                            }
                        }
                for (; t < tokens; t++)
                    for (int r = 0; r < n; r++)
                        if (wide) Tile1x1<TDecode>(decoded + r * rowDecoded, i0, i1, a + t * aStride, acc + (nint)t * TokenFloats + r * AccFloats);
                        else Tile1x1V256<TDecode>(decoded + r * rowDecoded, i0, i1, a + t * aStride, acc + (nint)t * TokenFloats + r * AccFloats);
            }
            for (int t = 0; t < tokens; t++)
                for (int r = 0; r < n; r++)
                {
                    float* p = acc + (nint)t * TokenFloats + r * AccFloats;
                    y[t * yStride + r0 + r] = TDecode.HasMins ? Q0Order.Hsum8(Vector256.Load(p)) + p[8] : Q0Order.Hsum8(Vector256.Load(p));
                }
        }
    }

    /// <summary>The 8 lanes of 16 pmaddwd dwords: lane l = dword 2l + dword 2l + 1 (exact; vpmovqd keeps each qword's low dword).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Lanes(Vector512<int> s) =>
        Vector256.ConvertToSingle(Avx512F.ConvertToVector256Int32((s + Avx512F.ShiftRightLogical(s.AsInt64(), 32).AsInt32()).AsInt64()));

    /// <summary>One super-block's float step for a (row, token).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Step(byte* wd, BlockQ8_K* q, Vector512<int> s, Vector256<float> acc) =>
        Vector256.FusedMultiplyAdd(Lanes(s), Vector256.Create(*(float*)(wd + 512) * q->D), acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Madd(Vector512<short> w, Vector512<short> x) => Avx512BW.MultiplyAddAdjacent(w, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Widen(sbyte* q8) => Avx512BW.ConvertToVector512Int16(Vector256.Load(q8));

    /// <summary>Rows 0..3 (rowDecoded apart at wd) × tokens 0, 1 (at a, a + aStride) over super-blocks [i0, i1); acc: token-major, 4 rows of 8 lanes each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x2<TDecode>(byte* wd, nint rowDecoded, int i0, int i1, byte* a, nint aStride, float* acc) where TDecode : struct, IWordDecode
    {
        const int R = AccFloats, T = TokenFloats;
        Vector256<float> a00 = Vector256.Load(acc), a10 = Vector256.Load(acc + R), a20 = Vector256.Load(acc + 2 * R), a30 = Vector256.Load(acc + 3 * R);
        Vector256<float> a01 = Vector256.Load(acc + T), a11 = Vector256.Load(acc + T + R), a21 = Vector256.Load(acc + T + 2 * R), a31 = Vector256.Load(acc + T + 3 * R);
        for (int i = i0; i < i1; i++)
        {
            BlockQ8_K* q0 = (BlockQ8_K*)a + i, q1 = (BlockQ8_K*)(a + aStride) + i;
            byte* w0 = wd + (nint)i * BlockBytes;
            short* p0 = (short*)w0, p1 = (short*)(w0 + rowDecoded), p2 = (short*)(w0 + 2 * rowDecoded), p3 = (short*)(w0 + 3 * rowDecoded);
            Vector512<int> s00 = default, s10 = default, s20 = default, s30 = default, s01 = default, s11 = default, s21 = default, s31 = default;
            for (int c = 0; c < 256; c += 32)
            {
                Vector512<short> x0 = Widen(q0->Qs + c), x1 = Widen(q1->Qs + c);
                Vector512<short> v = Vector512.Load(p0 + c);
                s00 += Madd(v, x0); s01 += Madd(v, x1);
                v = Vector512.Load(p1 + c);
                s10 += Madd(v, x0); s11 += Madd(v, x1);
                v = Vector512.Load(p2 + c);
                s20 += Madd(v, x0); s21 += Madd(v, x1);
                v = Vector512.Load(p3 + c);
                s30 += Madd(v, x0); s31 += Madd(v, x1);
            }
            a00 = Step(w0, q0, s00, a00); a01 = Step(w0, q1, s01, a01);
            a10 = Step(w0 + rowDecoded, q0, s10, a10); a11 = Step(w0 + rowDecoded, q1, s11, a11);
            a20 = Step(w0 + 2 * rowDecoded, q0, s20, a20); a21 = Step(w0 + 2 * rowDecoded, q1, s21, a21);
            a30 = Step(w0 + 3 * rowDecoded, q0, s30, a30); a31 = Step(w0 + 3 * rowDecoded, q1, s31, a31);
            if (TDecode.HasMins)
                for (int r = 0; r < 4; r++)
                {
                    MinStep(w0 + r * rowDecoded, q0, acc + r * R + 8);
                    MinStep(w0 + r * rowDecoded, q1, acc + T + r * R + 8);
                }
        }
        a00.Store(acc); a10.Store(acc + R); a20.Store(acc + 2 * R); a30.Store(acc + 3 * R);
        a01.Store(acc + T); a11.Store(acc + T + R); a21.Store(acc + T + 2 * R); a31.Store(acc + T + 3 * R);
    }

    /// <summary>One decoded row × one token over super-blocks [i0, i1) (the tiles' edges), the same steps as <see cref="Tile4x2"/>.</summary>
    private static void Tile1x1<TDecode>(byte* wd, int i0, int i1, byte* a, float* acc) where TDecode : struct, IWordDecode
    {
        Vector256<float> lanes = Vector256.Load(acc);
        for (int i = i0; i < i1; i++)
        {
            BlockQ8_K* q = (BlockQ8_K*)a + i;
            byte* w0 = wd + (nint)i * BlockBytes;
            Vector512<int> s = default;
            for (int c = 0; c < 256; c += 32) s += Madd(Vector512.Load((short*)w0 + c), Widen(q->Qs + c));
            lanes = Step(w0, q, s, lanes);
            if (TDecode.HasMins) MinStep(w0, q, acc + 8);
        }
        lanes.Store(acc);
    }

    /// <summary>
    /// The 256-bit lanes: pmaddwd over elements 0..15 of every chunk (lo: lanes 0..3 as dword pairs) and 16..31 (hi:
    /// lanes 4..7); phaddd gives [L0 L1 L4 L5 | L2 L3 L6 L7], the qword permute puts them in order (exact).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> LanesV256(Vector256<int> lo, Vector256<int> hi) =>
        Vector256.ConvertToSingle(Avx2.Permute4x64(Avx2.HorizontalAdd(lo, hi).AsInt64(), 0b11_01_10_00).AsInt32());

    /// <summary>One super-block's float step for a (row, token) whose 8 lanes are at acc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StepV256(float* acc, byte* wd, BlockQ8_K* q, Vector256<int> lo, Vector256<int> hi) =>
        Vector256.FusedMultiplyAdd(LanesV256(lo, hi), Vector256.Create(*(float*)(wd + 512) * q->D), Vector256.Load(acc)).Store(acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Widen16(sbyte* q8) => Avx2.ConvertToVector256Int16(Vector128.Load(q8));

    /// <summary>Rows 0, 1 (rowDecoded apart at wd) × tokens 0, 1 over super-blocks [i0, i1): <see cref="Tile4x2"/>'s steps with 256-bit vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2x2V256<TDecode>(byte* wd, nint rowDecoded, int i0, int i1, byte* a, nint aStride, float* acc) where TDecode : struct, IWordDecode
    {
        const int R = AccFloats, T = TokenFloats;
        for (int i = i0; i < i1; i++)
        {
            BlockQ8_K* q0 = (BlockQ8_K*)a + i, q1 = (BlockQ8_K*)(a + aStride) + i;
            byte* w0 = wd + (nint)i * BlockBytes;
            short* p0 = (short*)w0, p1 = (short*)(w0 + rowDecoded);
            Vector256<int> l00 = default, h00 = default, l01 = default, h01 = default, l10 = default, h10 = default, l11 = default, h11 = default;
            for (int c = 0; c < 256; c += 32)
            {
                Vector256<short> x0 = Widen16(q0->Qs + c), x1 = Widen16(q1->Qs + c), v = Vector256.Load(p0 + c);
                l00 += Avx2.MultiplyAddAdjacent(v, x0); l01 += Avx2.MultiplyAddAdjacent(v, x1);
                v = Vector256.Load(p1 + c);
                l10 += Avx2.MultiplyAddAdjacent(v, x0); l11 += Avx2.MultiplyAddAdjacent(v, x1);
                x0 = Widen16(q0->Qs + c + 16); x1 = Widen16(q1->Qs + c + 16); v = Vector256.Load(p0 + c + 16);
                h00 += Avx2.MultiplyAddAdjacent(v, x0); h01 += Avx2.MultiplyAddAdjacent(v, x1);
                v = Vector256.Load(p1 + c + 16);
                h10 += Avx2.MultiplyAddAdjacent(v, x0); h11 += Avx2.MultiplyAddAdjacent(v, x1);
            }
            StepV256(acc, w0, q0, l00, h00); StepV256(acc + R, w0 + rowDecoded, q0, l10, h10);
            StepV256(acc + T, w0, q1, l01, h01); StepV256(acc + T + R, w0 + rowDecoded, q1, l11, h11);
            if (TDecode.HasMins)
            {
                MinStep(w0, q0, acc + 8); MinStep(w0 + rowDecoded, q0, acc + R + 8);
                MinStep(w0, q1, acc + T + 8); MinStep(w0 + rowDecoded, q1, acc + T + R + 8);
            }
        }
    }

    /// <summary>One decoded row × one token over super-blocks [i0, i1) with 256-bit vectors.</summary>
    private static void Tile1x1V256<TDecode>(byte* wd, int i0, int i1, byte* a, float* acc) where TDecode : struct, IWordDecode
    {
        for (int i = i0; i < i1; i++)
        {
            BlockQ8_K* q = (BlockQ8_K*)a + i;
            byte* w0 = wd + (nint)i * BlockBytes;
            Vector256<int> lo = default, hi = default;
            for (int c = 0; c < 256; c += 32)
            {
                lo += Avx2.MultiplyAddAdjacent(Vector256.Load((short*)w0 + c), Widen16(q->Qs + c));
                hi += Avx2.MultiplyAddAdjacent(Vector256.Load((short*)w0 + c + 16), Widen16(q->Qs + c + 16));
            }
            StepV256(acc, w0, q, lo, hi);
            if (TDecode.HasMins) MinStep(w0, q, acc + 8);
        }
    }

    /// <summary>
    /// Q5_K's min step for a (row, token): summs = fma(−d_a · dmin_w, Σ_j m_j · (bsums[2j] + bsums[2j + 1]), summs), the
    /// vec-dot's (<see cref="VecDotQ4_KQ8_K.MinPairs"/>: the same exact integer).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MinStep(byte* wd, BlockQ8_K* q, float* summs) =>
        *summs = MathF.FusedMultiplyAdd(-q->D * *(float*)(wd + 516), Vector128.Sum(VecDotQ4_KQ8_K.MinPairs(*(ulong*)(wd + 520), q->BSums)), *summs);
}

/// <summary>
/// A super-block of Q3_K or IQ4_XS decoded for <see cref="KQuantWordRows"/>: its 256 elements in order as code ·
/// sub-block scale (16 bits, the products the vec-dot's pmaddwd forms), then d_w at +512.
/// </summary>
internal unsafe interface IWordDecode
{
    /// <summary>Bytes of one source super-block.</summary>
    static abstract int SourceBytes { get; }

    /// <summary>Whether the type has Q5_K's mins (dmin_w at +516, the 8 mins as bytes at +520).</summary>
    static abstract bool HasMins { get; }

    /// <summary>The super-block at src decoded to <see cref="KQuantWordRows.BlockBytes"/> bytes at dst.</summary>
    static abstract void Decode(byte* src, byte* dst);
}

/// <summary>IQ4_XS: sub-block j's code-book values (low nibbles elements 0..15, high 16..31) · (ls_j − 32).</summary>
internal unsafe struct IQ4_XSWords : IWordDecode
{
    public static int SourceBytes => 136;
    public static bool HasMins => false;

    public static void Decode(byte* src, byte* dst)
    {
        var x = (BlockIQ4_XS*)src;
        for (int j = 0; j < 8; j++)
        {
            Block32Decode.Nibbles(x->Qs + 16 * j, out var lo, out var hi);
            Vector256<short> ls = Vector256.Create((short)VecDotIQ4_XSQ8_K.SubScale(x, j));
            (Avx2.ConvertToVector256Int16(Block32Decode.Lookup(lo)) * ls).Store((short*)dst + 32 * j);
            (Avx2.ConvertToVector256Int16(Block32Decode.Lookup(hi)) * ls).Store((short*)dst + 32 * j + 16);
        }
        *(float*)(dst + 512) = Fp.F16ToF32(x->D);
    }
}

/// <summary>
/// Q3_K: element 128h + 32s + p is (low 2 bits of qs[32h + p] &gt;&gt; 2s) − (4 where bit 4h + s of hmask[p] is clear),
/// times scale 8h + 2s + (p &gt;= 16) (6-bit, − 32).
/// </summary>
internal unsafe struct Q3_KWords : IWordDecode
{
    public static int SourceBytes => 110;
    public static bool HasMins => false;

    public static void Decode(byte* src, byte* dst)
    {
        var x = (BlockQ3_K*)src;
        short* sc = stackalloc short[16];
        VecDotQ3_KQ8_K.Scales16(x->Scales).Store(sc);
        Vector256<byte> hm = Vector256.Load(x->HMask), three = Vector256.Create((byte)3), four = Vector256.Create((byte)4);
        for (int h = 0; h < 2; h++)
        {
            Vector256<byte> q = Vector256.Load(x->Qs + 32 * h);
            for (int s = 0; s < 4; s++)
            {
                Vector256<byte> bit = Vector256.Create((byte)(1 << (4 * h + s)));
                Vector256<byte> low = Int8Dot.ShiftRightBytes(q, 2 * s) & three;
                Vector256<byte> minus = Vector256.AndNot(four, Vector256.Equals(hm & bit, bit));
                Vector256<sbyte> v = (low - minus).AsSByte();
                int k = 8 * h + 2 * s;
                short* d = (short*)dst + 128 * h + 32 * s;
                (Avx2.ConvertToVector256Int16(v.GetLower()) * Vector256.Create(sc[k])).Store(d);
                (Avx2.ConvertToVector256Int16(v.GetUpper()) * Vector256.Create(sc[k + 1])).Store(d + 16);
            }
        }
        *(float*)(dst + 512) = Fp.F16ToF32(x->D);
    }
}

/// <summary>
/// Q5_K: element 64k + p (p &lt; 32) is the low nibble of qs[32k + p] | bit 2k of qh[p] &lt;&lt; 4, element 64k + 32 + p its
/// high nibble | bit 2k + 1 &lt;&lt; 4 (0..31), times sub-block scale 2k or 2k + 1 (6-bit); the mins' step from dmin_w and
/// the 8 mins.
/// </summary>
internal unsafe struct Q5_KWords : IWordDecode
{
    public static int SourceBytes => 176;
    public static bool HasMins => true;

    public static void Decode(byte* src, byte* dst)
    {
        var x = (BlockQ5_K*)src;
        KScales.Unpack(x->Scales, out ulong sc, out ulong mn);
        Vector256<byte> qh = Vector256.Load(x->Qh), mask = Vector256.Create((byte)0x0F), one = Vector256.Create((byte)1);
        for (int k = 0; k < 4; k++)
        {
            Vector256<byte> q = Vector256.Load(x->Qs + 32 * k);
            Vector256<byte> lo = (q & mask) | Int8Dot.ShiftLeftBytes(Int8Dot.ShiftRightBytes(qh, 2 * k) & one, 4);
            Vector256<byte> hi = Int8Dot.ShiftRightBytes(q, 4) | Int8Dot.ShiftLeftBytes(Int8Dot.ShiftRightBytes(qh, 2 * k + 1) & one, 4);
            short* d = (short*)dst + 64 * k;
            Vector256<short> s0 = Vector256.Create(KScales.Byte(sc, 2 * k)), s1 = Vector256.Create(KScales.Byte(sc, 2 * k + 1));
            (Avx2.ConvertToVector256Int16(lo.GetLower()) * s0).Store(d);
            (Avx2.ConvertToVector256Int16(lo.GetUpper()) * s0).Store(d + 16);
            (Avx2.ConvertToVector256Int16(hi.GetLower()) * s1).Store(d + 32);
            (Avx2.ConvertToVector256Int16(hi.GetUpper()) * s1).Store(d + 48);
        }
        *(float*)(dst + 512) = Fp.F16ToF32(x->D);
        *(float*)(dst + 516) = Fp.F16ToF32(x->DMin);
        *(ulong*)(dst + 520) = mn;
    }
}
