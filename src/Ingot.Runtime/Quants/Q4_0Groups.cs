using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ingot.Formats;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Q4_0 · Q8_0 over groups of 8 blocks (256 elements), AVX2. The per-block float work of the plain vec-dot
/// (convert, scale lookups, broadcast, FMA: about half its instructions) is done once per 8 blocks instead:
/// <list type="bullet">
/// <item>the activation is rearranged once per call (<see cref="Prepare"/>): for block pair (2p, 2p+1) one 32-byte vector
/// of both blocks' elements 0..15 and one of 16..31, so a 256-bit load of the weight codes [block 2p | block 2p+1]
/// pairs with it directly; plus per block 8·Σq (the −8 code offset) and the f32 scale;</item>
/// <item>per pair: low/high nibbles, two maddubs, one add (16-bit lanes ≤ 2·15·128·2 = 7680); phaddw levels and a
/// pmaddwd reduce them to one int32 per block (≤ 30720 before the last widening step: no overflow); AVX-VNNI: two
/// vpdpbusd and phaddd levels;</item>
/// <item>the block sums minus the offsets (exact integers, as ggml's sumi), converted, and the products of weight and
/// activation scales; then one FMA per block in block order, as llama.cpp's repacked Q4_0 kernels accumulate (the
/// float order decides near-ties of the next activation quantization).</item>
/// </list>
/// Rows run 4 at a time in lockstep (<see cref="Quad"/>), one lane per row: the same phadd levels that reduce a row's
/// pairs also gather the 4 rows into the lanes of one vector ([block 2p: rows 0..3 | block 2p+1: rows 0..3]), so each
/// block costs one 4-lane FMA for the 4 rows and the FMA chains need neither a transpose nor a scratch round trip. The
/// 4 interleaved row streams defeat the hardware prefetchers, so the quad prefetches its own streams a fixed number
/// of steps ahead (<see cref="AheadSteps"/>). A tile of fewer than 4 rows runs one row at a time (<see cref="Row"/>).
/// Measured (NativeAOT, x86-x64-v3, Zen 5 VM, 768- and 2048-column rows, 1 thread): 29-30 GB/s from L2 and
/// 21-25 GB/s from DRAM, 10-15 % above the former order-agnostic kernel (one row at a time, 8 float lanes per row);
/// the first exact kernel (8 rows, block sums through a scratch and an 8×8 transpose) reached 75-85 % of that one;
/// 8 rows in lockstep were as fast from L2 but lost 10-15 % from DRAM whatever the prefetch distance, and 8 rows
/// streamed one after the other with the raw pair sums kept for a lanes-are-rows second pass lost 20 % from L2.
/// </summary>
internal static unsafe class Q4_0Groups
{
    public const int Elements = 256;          // 8 blocks
    public const int WeightBytes = 8 * 18;    // one group of weights
    /// <summary>
    /// One prepared group: 4 pairs × (32 + 32) codes' partners; int off[8] and float d[8] in the lane order of
    /// <see cref="Row"/> (b0 b2 b4 b6 | b1 b3 b5 b7); then per pair p the quad's [off_2p ×4 | off_2p+1 ×4] and
    /// [d_2p ×4 | d_2p+1 ×4].
    /// </summary>
    public const int PreparedBytes = 576;
    private const int OffQuad = 320, DQuad = 448;

    /// <summary>Steps (one group of 4 rows, 576 bytes) a quad prefetches ahead: 6.9 KB, 12-16 measured best, 3-6 lost 10 %.</summary>
    public const int AheadSteps = 12;

    /// <summary>Rearranges one Q8_0 activation row (cols / 32 blocks of 34 bytes) into groups of <see cref="PreparedBytes"/>.</summary>
    public static void Prepare(byte* a, int cols, byte* s)
    {
        float* f16 = Fp.F16Table;
        Vector256<byte> eight = Vector256.Create((byte)8);
        for (int g = 0; g < cols / Elements; g++, s += PreparedBytes, a += 8 * 34)
        {
            // per pair p: [block 2p elements 0..15 | block 2p+1 elements 0..15], then the same for elements 16..31;
            // 8·Σq per block through the same reduction as Row (16-bit lanes ≤ 8·128·2·2·8 = 32768 in magnitude: the
            // extreme −32768 still fits), landing in Row's lane order b0 b2 b4 b6 | b1 b3 b5 b7
            Vector256<short> v0 = PreparePair(a, s, 0, eight), v1 = PreparePair(a, s, 1, eight);
            Vector256<short> v2 = PreparePair(a, s, 2, eight), v3 = PreparePair(a, s, 3, eight);
            Vector256<short> h = Avx2.HorizontalAdd(Avx2.HorizontalAdd(v0, v1), Avx2.HorizontalAdd(v2, v3));
            Vector256<int> off = Avx2.MultiplyAddAdjacent(h, Vector256<short>.One);
            Vector256<float> d = Vector256.Create(f16[*(ushort*)a], f16[*(ushort*)(a + 68)], f16[*(ushort*)(a + 136)], f16[*(ushort*)(a + 204)],
                                                  f16[*(ushort*)(a + 34)], f16[*(ushort*)(a + 102)], f16[*(ushort*)(a + 170)], f16[*(ushort*)(a + 238)]);
            off.Store((int*)(s + 256));
            d.Store((float*)(s + 288));
            // lane p of each 128-bit half is block 2p (low) and 2p+1 (high): vpshufd p,p,p,p gives the quad's pair-p vectors
            Avx2.Shuffle(off, 0x00).Store((int*)(s + OffQuad)); Avx2.Shuffle(off, 0x55).Store((int*)(s + OffQuad + 32));
            Avx2.Shuffle(off, 0xAA).Store((int*)(s + OffQuad + 64)); Avx2.Shuffle(off, 0xFF).Store((int*)(s + OffQuad + 96));
            Avx.Permute(d, 0x00).Store((float*)(s + DQuad)); Avx.Permute(d, 0x55).Store((float*)(s + DQuad + 32));
            Avx.Permute(d, 0xAA).Store((float*)(s + DQuad + 64)); Avx.Permute(d, 0xFF).Store((float*)(s + DQuad + 96));
        }
    }

    /// <summary>Stores pair p's two rearranged vectors; returns 8·(q[2k] + q[2k+1]) summed over both halves, 16-bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> PreparePair(byte* a, byte* s, int p, Vector256<byte> eight)
    {
        byte* b0 = a + 68 * p + 2, b1 = b0 + 34;
        Vector256<sbyte> lo = Vector256.Create(Vector128.Load(b0), Vector128.Load(b1)).AsSByte();
        Vector256<sbyte> hi = Vector256.Create(Vector128.Load(b0 + 16), Vector128.Load(b1 + 16)).AsSByte();
        lo.Store((sbyte*)s + 64 * p);
        hi.Store((sbyte*)s + 64 * p + 32);
        return Avx2.MultiplyAddAdjacent(eight, lo) + Avx2.MultiplyAddAdjacent(eight, hi);
    }

    public static void Rows(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        int groups = cols / Elements;
        nint prepared = (nint)groups * PreparedBytes;
        byte* s = RowScratch.Get(prepared * tokens);
        for (int t = 0; t < tokens; t++) Prepare(a + t * aStride, cols, s + t * prepared);
        if (rows >= 4)
        {
            // quads of rows; a last partial quad moves back to overlap the previous one (its rows get the same bits again)
            var ahead = new QuadAhead(groups);
            for (int i = 0; ; i += 4)
            {
                if (i + 4 > rows) i = rows - 4;
                byte* wi = w + i * rowBytes;
                int t = 0;
                for (; t + 1 < tokens; t += 2) Quad2(wi, rowBytes, s + t * prepared, s + (t + 1) * prepared, groups, y + t * yStride + i, y + (t + 1) * yStride + i, ahead);
                if (t < tokens) Quad(wi, rowBytes, s + t * prepared, groups, y + t * yStride + i, ahead);
                if (i + 4 == rows) return;
            }
        }
        for (int i = 0; i < rows; i++, w += rowBytes)
        {
            int t = 0;
            for (; t + 1 < tokens; t += 2)
                y[t * yStride + i] = Row2(w, s + t * prepared, s + (t + 1) * prepared, groups, out y[(t + 1) * yStride + i]);
            if (t < tokens) y[t * yStride + i] = Row(w, s + t * prepared, groups);
        }
    }

    /// <summary>
    /// Rows w, w + rb, w + 2·rb, w + 3·rb against one prepared activation: y[r] = row r, every bit as <see cref="Row"/>
    /// gives it (lane r runs exactly row r's FMA chain).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Quad(byte* w, nint rb, byte* s, int groups, float* y, QuadAhead ahead)
    {
        if (AvxVnni.IsSupported) QuadVnni(w, rb, s, groups, y, ahead);
        else QuadAvx2(w, rb, s, groups, y, ahead);
    }

    /// <summary>Four rows against two prepared activations (the prefill tile): codes and scales decoded once for both.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Quad2(byte* w, nint rb, byte* s0, byte* s1, int groups, float* y0, float* y1, QuadAhead ahead)
    {
        if (AvxVnni.IsSupported) Quad2Vnni(w, rb, s0, s1, groups, y0, y1, ahead);
        else Quad2Avx2(w, rb, s0, s1, groups, y0, y1, ahead);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void QuadAvx2(byte* w, nint rb, byte* s, int groups, float* y, QuadAhead ahead) => QuadCore(w, rb, s, groups, y, ahead, vnni: false);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void QuadVnni(byte* w, nint rb, byte* s, int groups, float* y, QuadAhead ahead) => QuadCore(w, rb, s, groups, y, ahead, vnni: true);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Quad2Avx2(byte* w, nint rb, byte* s0, byte* s1, int groups, float* y0, float* y1, QuadAhead ahead) => Quad2Core(w, rb, s0, s1, groups, y0, y1, ahead, vnni: false);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Quad2Vnni(byte* w, nint rb, byte* s0, byte* s1, int groups, float* y0, float* y1, QuadAhead ahead) => Quad2Core(w, rb, s0, s1, groups, y0, y1, ahead, vnni: true);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuadCore(byte* w, nint rb, byte* s, int groups, float* y, QuadAhead ahead, bool vnni)
    {
        float* f16 = Fp.F16Table; // read once: inside the loop its static-init check made the JIT spill live vectors
        Vector128<float> acc = Vector128<float>.Zero;
        byte* wq = w;
        for (int g = 0; g < groups; g++, w += WeightBytes, s += PreparedBytes)
        {
            ahead.Prefetch(wq, rb, groups);
            FarAhead(wq, g);
            QuadPair(w, rb, s, 0, f16, vnni, ref acc);
            QuadPair(w, rb, s, 1, f16, vnni, ref acc);
            QuadPair(w, rb, s, 2, f16, vnni, ref acc);
            QuadPair(w, rb, s, 3, f16, vnni, ref acc);
        }
        acc.Store(y);
    }

    /// <summary>Pair p (blocks 2p, 2p+1) of one group for the 4 rows: the sums, then the two blocks' FMAs in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuadPair(byte* w, nint rb, byte* s, int p, float* f16, bool vnni, ref Vector128<float> acc)
    {
        byte* wp = w + 36 * p, sp = s + 64 * p;
        Vector256<int> sums = Quads(RowPair(wp, wp + rb, sp, vnni), RowPair(wp + 2 * rb, wp + 3 * rb, sp, vnni), vnni)
                            - Vector256.Load((int*)(s + OffQuad + 32 * p));
        Chain2(Vector256.ConvertToSingle(sums), QuadScales(wp, rb, f16) * Vector256.Load((float*)(s + DQuad + 32 * p)), ref acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quad2Core(byte* w, nint rb, byte* s0, byte* s1, int groups, float* y0, float* y1, QuadAhead ahead, bool vnni)
    {
        float* f16 = Fp.F16Table;
        Vector128<float> acc0 = Vector128<float>.Zero, acc1 = Vector128<float>.Zero;
        byte* wq = w;
        for (int g = 0; g < groups; g++, w += WeightBytes, s0 += PreparedBytes, s1 += PreparedBytes)
        {
            ahead.Prefetch(wq, rb, groups);
            FarAhead(wq, g);
            Quad2Pair(w, rb, s0, s1, 0, f16, vnni, ref acc0, ref acc1);
            Quad2Pair(w, rb, s0, s1, 1, f16, vnni, ref acc0, ref acc1);
            Quad2Pair(w, rb, s0, s1, 2, f16, vnni, ref acc0, ref acc1);
            Quad2Pair(w, rb, s0, s1, 3, f16, vnni, ref acc0, ref acc1);
        }
        acc0.Store(y0);
        acc1.Store(y1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quad2Pair(byte* w, nint rb, byte* s0, byte* s1, int p, float* f16, bool vnni, ref Vector128<float> acc0, ref Vector128<float> acc1)
    {
        byte* wp = w + 36 * p, sp0 = s0 + 64 * p, sp1 = s1 + 64 * p;
        Decode(wp, out var l0, out var h0);
        Decode(wp + rb, out var l1, out var h1);
        Vector256<int> r01a = RowPair(l0, h0, l1, h1, sp0, vnni), r01b = RowPair(l0, h0, l1, h1, sp1, vnni);
        Decode(wp + 2 * rb, out l0, out h0);
        Decode(wp + 3 * rb, out l1, out h1);
        Vector256<int> r23a = RowPair(l0, h0, l1, h1, sp0, vnni), r23b = RowPair(l0, h0, l1, h1, sp1, vnni);
        Vector256<float> dw = QuadScales(wp, rb, f16);
        Vector256<int> sums0 = Quads(r01a, r23a, vnni) - Vector256.Load((int*)(s0 + OffQuad + 32 * p));
        Vector256<int> sums1 = Quads(r01b, r23b, vnni) - Vector256.Load((int*)(s1 + OffQuad + 32 * p));
        Chain2(Vector256.ConvertToSingle(sums0), dw * Vector256.Load((float*)(s0 + DQuad + 32 * p)), ref acc0);
        Chain2(Vector256.ConvertToSingle(sums1), dw * Vector256.Load((float*)(s1 + DQuad + 32 * p)), ref acc1);
    }

    /// <summary>
    /// Step g of a quad (wq = its first row) also prefetches into L2 the region <see cref="Prefetch.FarDistance"/> ahead of
    /// its linear progress through the quad's 4 contiguous rows (4 · 144 bytes per step), so the far prefetch runs as one
    /// sequential stream over the tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FarAhead(byte* wq, int g) => Prefetch.Far(wq + g * 4 * WeightBytes + Prefetch.FarDistance, 4 * WeightBytes);

    /// <summary>
    /// A quad's own prefetch: the 4 rows' chunks <see cref="AheadSteps"/> steps ahead in the order the quads read them
    /// (the same group of a following quad's rows once past this quad's last group), into L1. The rows are contiguous,
    /// so the last quads of a tile prefetch the next tile's first ones. Built once per call (a division).
    /// </summary>
    public struct QuadAhead
    {
        private int _quad, _group;

        public QuadAhead(int groups)
        {
            _quad = AheadSteps / groups;
            _group = AheadSteps - _quad * groups;
        }

        /// <summary>Prefetches the next step's lines (wq = the quad's first row) and advances by one step.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Prefetch(byte* wq, nint rb, int groups)
        {
            byte* p = wq + 4 * _quad * rb + _group * WeightBytes;
            Quants.Prefetch.Range(p, WeightBytes);
            Quants.Prefetch.Range(p + rb, WeightBytes);
            Quants.Prefetch.Range(p + 2 * rb, WeightBytes);
            Quants.Prefetch.Range(p + 3 * rb, WeightBytes);
            if (++_group == groups) { _group = 0; _quad++; }
        }
    }

    /// <summary>Pair p's codes of one row (at wp = the pair's first block): low nibbles [block 2p | block 2p+1] and high nibbles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Decode(byte* wp, out Vector256<byte> lo, out Vector256<byte> hi)
    {
        Vector256<byte> q = Vector256.Create(Vector128.Load(wp + 2), Vector128.Load(wp + 20));
        lo = q & Vector256.Create((byte)0x0F);
        hi = Int8Dot.ShiftRightBytes(q, 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> RowPair(byte* w0, byte* w1, byte* sp, bool vnni)
    {
        Decode(w0, out var l0, out var h0);
        Decode(w1, out var l1, out var h1);
        return RowPair(l0, h0, l1, h1, sp, vnni);
    }

    /// <summary>
    /// Two rows of one pair against prepared pair sp, one phadd level: VNNI 32-bit lanes [block 2p: row a ×2, row b ×2 |
    /// block 2p+1: same], AVX2 16-bit lanes [row a ×4, row b ×4 | same].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> RowPair(Vector256<byte> l0, Vector256<byte> h0, Vector256<byte> l1, Vector256<byte> h1, byte* sp, bool vnni) =>
        vnni ? Avx2.HorizontalAdd(Codes.PairVnni(l0, h0, sp), Codes.PairVnni(l1, h1, sp))
             : Avx2.HorizontalAdd(Codes.PairAvx2(l0, h0, sp), Codes.PairAvx2(l1, h1, sp)).AsInt32();

    /// <summary>The last level: rows 0..3 of both blocks as int32, [block 2p: rows 0..3 | block 2p+1: rows 0..3].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Quads(Vector256<int> r01, Vector256<int> r23, bool vnni) =>
        vnni ? Avx2.HorizontalAdd(r01, r23)
             : Avx2.MultiplyAddAdjacent(Avx2.HorizontalAdd(r01.AsInt16(), r23.AsInt16()), Vector256<short>.One);

    /// <summary>The 4 rows' f16 scales of blocks 2p and 2p+1 (wp = block 2p of row 0), [block 2p: rows 0..3 | block 2p+1: rows 0..3].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> QuadScales(byte* wp, nint rb, float* f16) =>
        Vector256.Create(f16[*(ushort*)wp], f16[*(ushort*)(wp + rb)], f16[*(ushort*)(wp + 2 * rb)], f16[*(ushort*)(wp + 3 * rb)],
                         f16[*(ushort*)(wp + 18)], f16[*(ushort*)(wp + 18 + rb)], f16[*(ushort*)(wp + 18 + 2 * rb)], f16[*(ushort*)(wp + 18 + 3 * rb)]);

    /// <summary>Blocks 2p then 2p+1 of the 4 rows' chains: acc = fma(sum, d, acc), lanes = rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Chain2(Vector256<float> sums, Vector256<float> d, ref Vector128<float> acc)
    {
        acc = Vector128.FusedMultiplyAdd(sums.GetLower(), d.GetLower(), acc);
        acc = Vector128.FusedMultiplyAdd(sums.GetUpper(), d.GetUpper(), acc);
    }

    /// <summary>Stores the 8 block sums and the 8 scale products in block order (from lanes b0 b2 b4 b6 | b1 b3 b5 b7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BlockOrder(Vector256<float> sums, Vector256<float> d, float* t)
    {
        Vector256<int> order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
        Vector256.Shuffle(sums, order).Store(t);
        Vector256.Shuffle(d, order).Store(t + 8);
    }

    /// <summary>One weight row against one prepared activation row. Both variants compute the same exact integer sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Row(byte* w, byte* s, int groups) => AvxVnni.IsSupported ? RowVnni(w, s, groups) : RowAvx2(w, s, groups);

    /// <summary>
    /// One weight row against two prepared activation rows (the prefill register tile): the codes and the weight scales
    /// are decoded once per group for both tokens. Each token's result is bit-identical to <see cref="Row"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Row2(byte* w, byte* s0, byte* s1, int groups, out float y1) =>
        AvxVnni.IsSupported ? Row2Vnni(w, s0, s1, groups, out y1) : Row2Avx2(w, s0, s1, groups, out y1);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float RowAvx2(byte* w, byte* s, int groups) => RowCore(w, s, groups, vnni: false);

    /// <summary>AVX-VNNI: vpdpbusd replaces maddubs + add, and the reduction runs on 32-bit lanes (3 phaddd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float RowVnni(byte* w, byte* s, int groups) => RowCore(w, s, groups, vnni: true);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Row2Avx2(byte* w, byte* s0, byte* s1, int groups, out float y1) => Row2Core(w, s0, s1, groups, vnni: false, out y1);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Row2Vnni(byte* w, byte* s0, byte* s1, int groups, out float y1) => Row2Core(w, s0, s1, groups, vnni: true, out y1);

    /// <summary>The row loop; <paramref name="vnni"/> is a constant at both call sites, so each keeps one pair-dot form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float RowCore(byte* w, byte* s, int groups, bool vnni)
    {
        float acc = 0;
        float* t = stackalloc float[16];
        for (int g = 0; g < groups; g++, s += PreparedBytes, w += WeightBytes)
        {
            Prefetch.Step(w, WeightBytes);
            var codes = new Codes(w);
            acc = Chain8(Vector256.ConvertToSingle(codes.Sums(s, vnni)), WeightScales(w) * Vector256.Load((float*)(s + 288)), acc, t);
        }
        return acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Row2Core(byte* w, byte* s0, byte* s1, int groups, bool vnni, out float y1)
    {
        float acc0 = 0, acc1 = 0;
        float* t = stackalloc float[32];
        for (int g = 0; g < groups; g++, s0 += PreparedBytes, s1 += PreparedBytes, w += WeightBytes)
        {
            Prefetch.Step(w, WeightBytes);
            var codes = new Codes(w);
            Vector256<float> dw = WeightScales(w);
            Vector256<float> v0 = Vector256.ConvertToSingle(codes.Sums(s0, vnni)), d0 = dw * Vector256.Load((float*)(s0 + 288));
            Vector256<float> v1 = Vector256.ConvertToSingle(codes.Sums(s1, vnni)), d1 = dw * Vector256.Load((float*)(s1 + 288));
            BlockOrder(v0, d0, t);
            BlockOrder(v1, d1, t + 16);
            for (int b = 0; b < 8; b++)
            {
                acc0 = MathF.FusedMultiplyAdd(t[b], t[8 + b], acc0);
                acc1 = MathF.FusedMultiplyAdd(t[16 + b], t[24 + b], acc1);
            }
        }
        y1 = acc1;
        return acc0;
    }

    /// <summary>
    /// llama.cpp's repacked Q4_0 order: acc = fma(block dot, d_w·d_a, acc) for the group's 8 blocks in block order
    /// (the vectors hold lanes b0 b2 b4 b6 | b1 b3 b5 b7). t: 16 floats of scratch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Chain8(Vector256<float> sums, Vector256<float> d, float acc, float* t)
    {
        BlockOrder(sums, d, t);
        for (int b = 0; b < 8; b++) acc = MathF.FusedMultiplyAdd(t[b], t[8 + b], acc);
        return acc;
    }

    /// <summary>The 8 blocks' f16 scales as floats, in the reduced lane order b0 b2 b4 b6 | b1 b3 b5 b7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> WeightScales(byte* w)
    {
        float* f16 = Fp.F16Table;
        return Vector256.Create(f16[*(ushort*)w], f16[*(ushort*)(w + 36)], f16[*(ushort*)(w + 72)], f16[*(ushort*)(w + 108)],
                                f16[*(ushort*)(w + 18)], f16[*(ushort*)(w + 54)], f16[*(ushort*)(w + 90)], f16[*(ushort*)(w + 126)]);
    }

    /// <summary>
    /// One group's codes, decoded once: per pair p (blocks 2p, 2p+1) the low nibbles [block 2p elements 0..15 | block
    /// 2p+1 elements 0..15] and the high nibbles (elements 16..31).
    /// </summary>
    private readonly struct Codes
    {
        private readonly Vector256<byte> _lo0, _hi0, _lo1, _hi1, _lo2, _hi2, _lo3, _hi3;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Codes(byte* w)
        {
            Vector256<byte> m4 = Vector256.Create((byte)0x0F);
            Vector256<byte> q0 = Vector256.Create(Vector128.Load(w + 2), Vector128.Load(w + 20));
            Vector256<byte> q1 = Vector256.Create(Vector128.Load(w + 38), Vector128.Load(w + 56));
            Vector256<byte> q2 = Vector256.Create(Vector128.Load(w + 74), Vector128.Load(w + 92));
            Vector256<byte> q3 = Vector256.Create(Vector128.Load(w + 110), Vector128.Load(w + 128));
            _lo0 = q0 & m4; _hi0 = Int8Dot.ShiftRightBytes(q0, 4);
            _lo1 = q1 & m4; _hi1 = Int8Dot.ShiftRightBytes(q1, 4);
            _lo2 = q2 & m4; _hi2 = Int8Dot.ShiftRightBytes(q2, 4);
            _lo3 = q3 & m4; _hi3 = Int8Dot.ShiftRightBytes(q3, 4);
        }

        /// <summary>The 8 blocks' exact Σ(c − 8)·q against prepared activation s, lanes b0 b2 b4 b6 | b1 b3 b5 b7.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<int> Sums(byte* s, bool vnni)
        {
            Vector256<int> sums = vnni
                ? Avx2.HorizontalAdd(Avx2.HorizontalAdd(PairVnni(_lo0, _hi0, s), PairVnni(_lo1, _hi1, s + 64)),
                                     Avx2.HorizontalAdd(PairVnni(_lo2, _hi2, s + 128), PairVnni(_lo3, _hi3, s + 192)))
                : Avx2.MultiplyAddAdjacent(Avx2.HorizontalAdd(Avx2.HorizontalAdd(PairAvx2(_lo0, _hi0, s), PairAvx2(_lo1, _hi1, s + 64)),
                                                              Avx2.HorizontalAdd(PairAvx2(_lo2, _hi2, s + 128), PairAvx2(_lo3, _hi3, s + 192))), Vector256<short>.One);
            return sums - Vector256.Load((int*)(s + 256));
        }

        /// <summary>maddubs of both nibble halves against the prepared pair, added: 16-bit lanes [block 2p: 8 | block 2p+1: 8].</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> PairAvx2(Vector256<byte> lo, Vector256<byte> hi, byte* s) =>
            Avx2.MultiplyAddAdjacent(lo, Vector256.Load((sbyte*)s)) + Avx2.MultiplyAddAdjacent(hi, Vector256.Load((sbyte*)s + 32));

        /// <summary>vpdpbusd of both nibble halves: 32-bit lanes [block 2p: 4 | block 2p+1: 4].</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> PairVnni(Vector256<byte> lo, Vector256<byte> hi, byte* s) =>
            AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, lo, Vector256.Load((sbyte*)s)), hi, Vector256.Load((sbyte*)s + 32));
    }
}
