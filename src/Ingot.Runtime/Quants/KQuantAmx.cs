using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Quants;

/// <summary>
/// K-quant weights · Q8_K activations on AMX (<see cref="Amx"/>'s <c>gemm</c>), in ggml's order, for the types whose
/// vec-dot keeps 8 int lanes per super-block with lane l = Σ over its 8 groups of 32 elements of scale · Σ_{e=4l}^{4l+3}
/// code · q8, exact, then one float step per super-block (Q4_K: <see cref="VecDotQ4_KQ8_K.V256"/>, Q6_K:
/// <see cref="VecDotQ6_KQ8_K.V256"/>). Each lane is a dot product of 32 elements (dword l of every group), so it is one
/// AMX block of K = 32: the weights as A tiles (16 rows; per row, super-block and lane a 32-byte slot, dword j = dword l
/// of group j, scale folded in), the tokens as B tiles (16 tokens; per super-block and lane 512 bytes, row j = dword
/// (j, l) of each token). A scaled code does not fit an int8 tile (Q4_K: sc · c ≤ 945), so it is split,
/// p = (hi &lt;&lt; Split) + lo with 0 ≤ lo &lt; 2^Split: gemm's two A tiles against one B, lane = (C_hi &lt;&lt; Split) + C_lo
/// (exact). Then per super-block, for each row's 16 tokens in one vector (the columns are tokens):
///   acc_l = fma(float(lane_l), d_a · d_w, acc_l)
/// (Q4_K also accMin_p = fma(float(m_2p·S_2p + m_2p+1·S_2p+1), −d_a · dmin_w, accMin_p); Q5_K summs = fma(float(Σ_j m_j·S_j),
/// −d_a · dmin_w, summs); Q2_K fma(float(m_2l · bsum_2l + m_2l+1 · bsum_2l+1), −d_a · dmin_w, acc_l) before each lane's step)
/// and at the end the vec-dot's final sums, so every (row, token) is bit-identical to the vec-dot. The weights are
/// unpacked once per call and 16-row group (<see cref="IKQuantAmxWeights"/>), the activations once per call.
/// </summary>
internal static unsafe class KQuantAmx
{
    /// <summary>
    /// Fewest tokens for which AMX runs: the weights' unpacking per 16-row group is paid once per call, so below this
    /// the machine-code rows kernels win (2 threads, pp16 / pp24 / pp32 / pp64 against them: 110M Q4_K_M 0.86 / 0.82 /
    /// 1.03 / 1.25×, 1B Q4_K_M pp24 0.87×, pp32 1.15×, pp48 1.30×; at 8 tokens, batched decode, 0.5-0.7×).
    /// </summary>
    public const int MinTokens = 32;

    public static bool Runs(int tokens) => tokens >= MinTokens && Amx.Supported && Avx512BW.IsSupported;

    private const int Tile = 16, Slot = 34 /* gemm's block advance */, SuperBlockBytes = 292 /* Q8_K */, CBlockInts = 2 * Tile * Tile;

    /// <summary>
    /// y[t · yStride + r] for r &lt; rows, t &lt; tokens (Q8_K rows at a, stride aStride); prepared: the tokens as
    /// <see cref="PrepareTiles"/> left them for this call's tokens and cols, or null to prepare them here.
    /// </summary>
    public static void Rows<TW>(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride, byte* prepared = null)
        where TW : struct, IKQuantAmxWeights
    {
        int nb = cols / 256, tiles = (tokens + Tile - 1) / Tile;
        nint rowPitch = (nint)nb * 8 * Slot, bTile = (nint)nb * 8 * 512;
        nint zeroBytes = Align((nint)nb * SuperBlockBytes), tokenBytes = prepared == null ? TilesBytes(tokens, cols) : 0;
        nint aBytes = Align(Tile * rowPitch), perRowBytes = (nint)nb * Tile * 4;
        nint bsumBytes = TW.MinLanes == Q2_KMins ? (nint)tiles * nb * 8 * Tile * 4 : 0;
        byte* s = RowScratch.Get(64 + zeroBytes + tokenBytes + 2 * aBytes + 10 * perRowBytes + 8 * CBlockInts * 4 + Tile * 12 * 64 + bsumBytes);
        byte* config = s;
        byte* zero = s + 64;
        if (prepared == null)
        {
            prepared = zero + zeroBytes;
            new Span<byte>(zero, (int)zeroBytes).Clear();
            PrepareTokens(a, aStride, tokens, nb, zero, prepared);
        }
        byte* bw = prepared;                            // B: [tile][super-block][lane] 512 bytes
        float* da = (float*)(bw + tiles * bTile);       // [tile][super-block][token]
        int* sums = (int*)(da + (nint)tiles * nb * Tile); // [tile][super-block][pair p][token]: S_2p | S_2p+1 << 16
        byte* ahi = zero + zeroBytes + tokenBytes;      // [row][super-block][lane] slots of 34 bytes
        byte* alo = ahi + aBytes;
        float* dw = (float*)(alo + aBytes);             // [super-block][row]
        float* dmin = dw + perRowBytes / 4;
        int* mins = (int*)(dmin + perRowBytes / 4);     // [super-block][row][pair p < 8]: m_2p | m_2p+1 << 16
        int* c = mins + 2 * perRowBytes;                // gemm's results for one super-block: 8 blocks × [hi | lo]
        float* acc = (float*)(c + 8 * CBlockInts);      // [row][12 vectors: 8 lanes, 4 min lanes][token]
        int* bsums = (int*)(acc + Tile * 12 * Tile);    // Q2_K: [tile][super-block][pair p < 8][token]: bsums 2p | 2p+1 << 16
        if (TW.MinLanes == Q2_KMins) PrepareBsumPairs(a, aStride, tokens, nb, bsums);

        Amx.Args args = default;
        args.AStride = rowPitch;
        args.C = c;
        args.Blocks = 8;
        args.Config = Amx.ConfigureOnce(config, Tile, Tile); // loaded by the first gemm call, null after
        for (int r0 = 0; r0 < rows; r0 += Tile)
        {
            int nr = Math.Min(Tile, rows - r0);
            PrepareRows<TW>(w + r0 * rowBytes, rowBytes, nr, nb, rowPitch, ahi, alo, dw, dmin, mins);
            for (int tile = 0; tile < tiles; tile++)
            {
                // the vec-dot's accumulators start at +0 (fma(x, d, +0) is its first step)
                new Span<float>(acc, Tile * 12 * Tile).Clear();
                for (int i = 0; i < nb; i++)
                {
                    args.A0 = ahi + 8 * Slot * i;
                    args.A1 = alo + 8 * Slot * i;
                    args.B = (sbyte*)(bw + tile * bTile + (nint)i * 8 * 512);
                    Amx.Gemm(&args);
                    args.Config = null;
                    nint ti = (nint)tile * nb + i;
                    Step<TW>(c, dw + i * Tile, dmin + i * Tile, mins + i * Tile * 8, da + ti * Tile, TW.MinLanes == Q2_KMins ? bsums + ti * 8 * Tile : sums + ti * 4 * Tile, acc);
                }
                int m = Math.Min(Tile, tokens - tile * Tile);
                Finish<TW>(acc, nr, m, y + tile * Tile * yStride + r0, yStride);
            }
        }
    }

    private static nint Align(nint bytes) => (bytes + 63) & ~63;

    /// <summary><see cref="IKQuantAmxWeights.MinLanes"/> of Q2_K: its 16 mins against the token's 16 bsums, paired into the 8 lanes.</summary>
    public const int Q2_KMins = 16;

    /// <summary>Q2_K's token side of the mins, read from the q8_K rows: per tile, super-block and pair p each token's bsums 2p | 2p+1 &lt;&lt; 16 (padding tokens 0).</summary>
    private static void PrepareBsumPairs(byte* a, nint aStride, int tokens, int nb, int* pairs)
    {
        int tiles = (tokens + Tile - 1) / Tile;
        for (int tile = 0; tile < tiles; tile++)
            for (int i = 0; i < nb; i++, pairs += 8 * Tile)
                for (int t = 0; t < Tile; t++)
                {
                    int token = tile * Tile + t;
                    short* bs = token < tokens ? ((BlockQ8_K*)(a + token * aStride) + i)->BSums : null;
                    for (int p = 0; p < 8; p++) pairs[p * Tile + t] = bs == null ? 0 : (int)((ushort)bs[2 * p] | (uint)(ushort)bs[2 * p + 1] << 16);
                }
    }

    /// <summary>Bytes of the prepared tokens: per tile of 16 and super-block 4 KB of B blocks, 16 d_a and 64 pair sums.</summary>
    public static nint TilesBytes(int tokens, int cols) => (nint)((tokens + Tile - 1) / Tile) * (cols / 256) * (8 * 512 + Tile * 4 + 4 * Tile * 4);

    /// <summary>The tokens as <see cref="Rows{TW}"/> reads them, into s (<see cref="TilesBytes"/>), where AMX will run for this many.</summary>
    public static void PrepareTiles(byte* a, nint aStride, int tokens, int cols, byte* s)
    {
        if (!Runs(tokens)) return;
        int nb = cols / 256;
        byte* zero = RowScratch.Get((nint)nb * SuperBlockBytes);
        new Span<byte>(zero, nb * SuperBlockBytes).Clear();
        PrepareTokens(a, aStride, tokens, nb, zero, s);
    }

    /// <summary>
    /// The activations as B blocks (tile, super-block i, lane l: row j = each token's dword (j, l), 16 tokens, padding
    /// tokens zero), their d_a, and their sub-block sums S_j = bsums[2j] + bsums[2j+1] paired per dword.
    /// </summary>
    private static void PrepareTokens(byte* a, nint aStride, int tokens, int nb, byte* zero, byte* bw)
    {
        int tiles = (tokens + Tile - 1) / Tile;
        float* da = (float*)(bw + (nint)tiles * nb * 8 * 512);
        int* sums = (int*)(da + (nint)tiles * nb * Tile);
        byte** row = stackalloc byte*[Tile];
        for (int tile = 0; tile < tiles; tile++)
        {
            for (int t = 0; t < Tile; t++) row[t] = tile * Tile + t < tokens ? a + (tile * Tile + t) * aStride : zero;
            for (int i = 0; i < nb; i++)
            {
                nint ti = (nint)tile * nb + i;
                byte* b = bw + ti * 8 * 512;
                for (int j = 0; j < 8; j++)
                    for (int half = 0; half < 2; half++)
                    {
                        // 8 tokens' sub-block j (8 dwords each: lanes) transposed: vector l = dword l of the 8 tokens
                        byte** r = row + 8 * half;
                        nint o = (nint)i * SuperBlockBytes + 4 + 32 * j;
                        Vector256<int> v0 = Vector256.Load((int*)(r[0] + o)), v1 = Vector256.Load((int*)(r[1] + o)), v2 = Vector256.Load((int*)(r[2] + o)), v3 = Vector256.Load((int*)(r[3] + o));
                        Vector256<int> v4 = Vector256.Load((int*)(r[4] + o)), v5 = Vector256.Load((int*)(r[5] + o)), v6 = Vector256.Load((int*)(r[6] + o)), v7 = Vector256.Load((int*)(r[7] + o));
                        Transpose8x8(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7);
                        int* dst = (int*)(b + 64 * j + 32 * half);
                        v0.Store(dst); v1.Store(dst + 128); v2.Store(dst + 256); v3.Store(dst + 384);
                        v4.Store(dst + 512); v5.Store(dst + 640); v6.Store(dst + 768); v7.Store(dst + 896);
                    }
                for (int t = 0; t < Tile; t++)
                {
                    var blk = (BlockQ8_K*)(row[t] + (nint)i * SuperBlockBytes);
                    da[ti * Tile + t] = blk->D;
                    Vector128<int> s = Ssse3.HorizontalAdd(Vector128.Load(blk->BSums), Vector128.Load(blk->BSums + 8)).AsInt32();
                    for (int p = 0; p < 4; p++) sums[(ti * 4 + p) * Tile + t] = s.GetElement(p);
                }
            }
        }
    }

    /// <summary>
    /// Rows [0, nr) of a 16-row group (absent rows zero) as A slots (<see cref="IKQuantAmxWeights.Prepare"/>), with
    /// their scales [super-block][row] and Q4_K's mins paired [super-block][row][pair].
    /// </summary>
    private static void PrepareRows<TW>(byte* w, nint rowBytes, int nr, int nb, nint rowPitch, byte* ahi, byte* alo, float* dw, float* dmin, int* mins)
        where TW : struct, IKQuantAmxWeights
    {
        for (int r = 0; r < Tile; r++)
        {
            byte* hiRow = ahi + r * rowPitch, loRow = alo + r * rowPitch;
            if (r >= nr)
            {
                new Span<byte>(hiRow, (int)rowPitch).Clear();
                new Span<byte>(loRow, (int)rowPitch).Clear();
                for (int i = 0; i < nb; i++)
                {
                    dw[i * Tile + r] = dmin[i * Tile + r] = 0;
                    for (int p = 0; p < 8; p++) mins[(i * Tile + r) * 8 + p] = 0;
                }
                continue;
            }
            byte* x = w + r * rowBytes;
            for (int i = 0; i < nb; i++, hiRow += 8 * Slot, loRow += 8 * Slot)
            {
                Prefetch.Step(x + i * TW.BlockBytes, TW.BlockBytes); // the weights stream from memory once per chunk
                TW.Prepare(x + i * TW.BlockBytes, hiRow, loRow, dw + i * Tile + r, dmin + i * Tile + r, mins + (i * Tile + r) * 8);
            }
        }
    }

    /// <summary>8 groups' split codes (vector j: dword l = elements 4l..4l+3 of group j) into the 8 lane slots (34 bytes apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreSlots(byte* slots, Vector256<int> v0, Vector256<int> v1, Vector256<int> v2, Vector256<int> v3, Vector256<int> v4, Vector256<int> v5, Vector256<int> v6, Vector256<int> v7)
    {
        Transpose8x8(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7);
        Store8(slots, v0, v1, v2, v3, v4, v5, v6, v7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store8(byte* slots, Vector256<int> v0, Vector256<int> v1, Vector256<int> v2, Vector256<int> v3, Vector256<int> v4, Vector256<int> v5, Vector256<int> v6, Vector256<int> v7)
    {
        v0.Store((int*)slots); v1.Store((int*)(slots + Slot)); v2.Store((int*)(slots + 2 * Slot)); v3.Store((int*)(slots + 3 * Slot));
        v4.Store((int*)(slots + 4 * Slot)); v5.Store((int*)(slots + 5 * Slot)); v6.Store((int*)(slots + 6 * Slot)); v7.Store((int*)(slots + 7 * Slot));
    }

    /// <summary>8×8 dword transpose: afterwards vector k holds dword k of each former vector, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(ref Vector256<int> r0, ref Vector256<int> r1, ref Vector256<int> r2, ref Vector256<int> r3,
                                     ref Vector256<int> r4, ref Vector256<int> r5, ref Vector256<int> r6, ref Vector256<int> r7)
    {
        Vector256<long> t0 = Avx2.UnpackLow(r0, r1).AsInt64(), t1 = Avx2.UnpackHigh(r0, r1).AsInt64();
        Vector256<long> t2 = Avx2.UnpackLow(r2, r3).AsInt64(), t3 = Avx2.UnpackHigh(r2, r3).AsInt64();
        Vector256<long> t4 = Avx2.UnpackLow(r4, r5).AsInt64(), t5 = Avx2.UnpackHigh(r4, r5).AsInt64();
        Vector256<long> t6 = Avx2.UnpackLow(r6, r7).AsInt64(), t7 = Avx2.UnpackHigh(r6, r7).AsInt64();
        Vector256<int> u0 = Avx2.UnpackLow(t0, t2).AsInt32(), u1 = Avx2.UnpackHigh(t0, t2).AsInt32();
        Vector256<int> u2 = Avx2.UnpackLow(t1, t3).AsInt32(), u3 = Avx2.UnpackHigh(t1, t3).AsInt32();
        Vector256<int> u4 = Avx2.UnpackLow(t4, t6).AsInt32(), u5 = Avx2.UnpackHigh(t4, t6).AsInt32();
        Vector256<int> u6 = Avx2.UnpackLow(t5, t7).AsInt32(), u7 = Avx2.UnpackHigh(t5, t7).AsInt32();
        r0 = Avx2.Permute2x128(u0, u4, 0x20); r1 = Avx2.Permute2x128(u1, u5, 0x20);
        r2 = Avx2.Permute2x128(u2, u6, 0x20); r3 = Avx2.Permute2x128(u3, u7, 0x20);
        r4 = Avx2.Permute2x128(u0, u4, 0x31); r5 = Avx2.Permute2x128(u1, u5, 0x31);
        r6 = Avx2.Permute2x128(u2, u6, 0x31); r7 = Avx2.Permute2x128(u3, u7, 0x31);
    }

    /// <summary>
    /// One super-block's float steps for the 16 rows × 16 tokens (c: gemm's [block l][hi: row × token | lo]): the lanes
    /// 16 · hi + lo, d = d_a · d_w, dm = −d_a · dmin_w, as the vec-dot rounds them (acc: zeros before the first).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Step<TW>(int* c, float* dw, float* dmin, int* mins, float* da, int* sums, float* acc)
        where TW : struct, IKQuantAmxWeights
    {
        Vector512<float> daV = Vector512.Load(da), negDa = -daV;
        if (TW.MinLanes == Q2_KMins)
        {
            Q2_KStep<TW>(c, dw, dmin, mins, daV, negDa, sums, acc);
            return;
        }
        Vector512<int> s0 = Vector512.Load(sums), s1 = Vector512.Load(sums + Tile), s2 = Vector512.Load(sums + 2 * Tile), s3 = Vector512.Load(sums + 3 * Tile);
        for (int r = 0; r < Tile; r++, acc += 12 * Tile)
        {
            Vector512<float> d = daV * Vector512.Create(dw[r]), dm = negDa * Vector512.Create(dmin[r]);
            int* cr = c + Tile * r;
            Lane<TW>(cr, d, acc);
            Lane<TW>(cr + CBlockInts, d, acc + Tile);
            Lane<TW>(cr + 2 * CBlockInts, d, acc + 2 * Tile);
            Lane<TW>(cr + 3 * CBlockInts, d, acc + 3 * Tile);
            Lane<TW>(cr + 4 * CBlockInts, d, acc + 4 * Tile);
            Lane<TW>(cr + 5 * CBlockInts, d, acc + 5 * Tile);
            Lane<TW>(cr + 6 * CBlockInts, d, acc + 6 * Tile);
            Lane<TW>(cr + 7 * CBlockInts, d, acc + 7 * Tile);
            int* m = mins + 8 * r;
            if (TW.MinLanes == 4)
            {
                MinStep(MinPair(s0, m[0]), dm, acc + 8 * Tile);
                MinStep(MinPair(s1, m[1]), dm, acc + 9 * Tile);
                MinStep(MinPair(s2, m[2]), dm, acc + 10 * Tile);
                MinStep(MinPair(s3, m[3]), dm, acc + 11 * Tile);
            }
            else if (TW.MinLanes == 1)
                MinStep(MinPair(s0, m[0]) + MinPair(s1, m[1]) + MinPair(s2, m[2]) + MinPair(s3, m[3]), dm, acc + 8 * Tile);
        }
    }

    /// <summary>
    /// Q2_K's super-block for the 16 rows × 16 tokens in ggml's order (VecDotQ2_KQ8_K): per lane l first
    /// acc_l = fma(float(m_2l · bsum_2l + m_2l+1 · bsum_2l+1), −d_a · dmin_w, acc_l), then the lane's scale step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q2_KStep<TW>(int* c, float* dw, float* dmin, int* mins, Vector512<float> daV, Vector512<float> negDa, int* bsums, float* acc)
        where TW : struct, IKQuantAmxWeights
    {
        Vector512<int> b0 = Vector512.Load(bsums), b1 = Vector512.Load(bsums + Tile), b2 = Vector512.Load(bsums + 2 * Tile), b3 = Vector512.Load(bsums + 3 * Tile);
        Vector512<int> b4 = Vector512.Load(bsums + 4 * Tile), b5 = Vector512.Load(bsums + 5 * Tile), b6 = Vector512.Load(bsums + 6 * Tile), b7 = Vector512.Load(bsums + 7 * Tile);
        for (int r = 0; r < Tile; r++, acc += 12 * Tile)
        {
            Vector512<float> d = daV * Vector512.Create(dw[r]), dm = negDa * Vector512.Create(dmin[r]);
            int* cr = c + Tile * r, m = mins + 8 * r;
            MinStep(MinPair(b0, m[0]), dm, acc); Lane<TW>(cr, d, acc);
            MinStep(MinPair(b1, m[1]), dm, acc + Tile); Lane<TW>(cr + CBlockInts, d, acc + Tile);
            MinStep(MinPair(b2, m[2]), dm, acc + 2 * Tile); Lane<TW>(cr + 2 * CBlockInts, d, acc + 2 * Tile);
            MinStep(MinPair(b3, m[3]), dm, acc + 3 * Tile); Lane<TW>(cr + 3 * CBlockInts, d, acc + 3 * Tile);
            MinStep(MinPair(b4, m[4]), dm, acc + 4 * Tile); Lane<TW>(cr + 4 * CBlockInts, d, acc + 4 * Tile);
            MinStep(MinPair(b5, m[5]), dm, acc + 5 * Tile); Lane<TW>(cr + 5 * CBlockInts, d, acc + 5 * Tile);
            MinStep(MinPair(b6, m[6]), dm, acc + 6 * Tile); Lane<TW>(cr + 6 * CBlockInts, d, acc + 6 * Tile);
            MinStep(MinPair(b7, m[7]), dm, acc + 7 * Tile); Lane<TW>(cr + 7 * CBlockInts, d, acc + 7 * Tile);
        }
    }

    /// <summary>acc = fma(float((hi &lt;&lt; Split) + lo), d, acc) for one lane of one row's 16 tokens (c: its hi results, lo 256 ints on).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Lane<TW>(int* c, Vector512<float> d, float* acc)
        where TW : struct, IKQuantAmxWeights
    {
        Vector512<int> lane = Vector512.ShiftLeft(Vector512.Load(c), TW.Split) + Vector512.Load(c + Tile * Tile);
        Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(lane), d, Vector512.Load(acc)).Store(acc);
    }

    /// <summary>m_2p · S_2p + m_2p+1 · S_2p+1 for each token (exact: |S| ≤ 4096, m ≤ 63).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> MinPair(Vector512<int> sums, int minPair) =>
        Avx512BW.MultiplyAddAdjacent(sums.AsInt16(), Vector512.Create(minPair).AsInt16());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MinStep(Vector512<int> lane, Vector512<float> dm, float* acc) =>
        Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(lane), dm, Vector512.Load(acc)).Store(acc);

    /// <summary>
    /// Each row's 16 token results in the vec-dot's final order (Q0Order.Hsum8 of the 8 lanes; Q4_K adds
    /// ((m0 + m2) + (m1 + m3)) as VecDotQ4_KQ8_K.Finish, Q5_K its summs), stored for tokens [0, m).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Finish<TW>(float* acc, int nr, int m, float* y, nint yStride)
        where TW : struct, IKQuantAmxWeights
    {
        float* v = stackalloc float[Tile];
        for (int r = 0; r < nr; r++, acc += 12 * Tile)
        {
            Vector512<float> a0 = Vector512.Load(acc), a1 = Vector512.Load(acc + Tile), a2 = Vector512.Load(acc + 2 * Tile), a3 = Vector512.Load(acc + 3 * Tile);
            Vector512<float> a4 = Vector512.Load(acc + 4 * Tile), a5 = Vector512.Load(acc + 5 * Tile), a6 = Vector512.Load(acc + 6 * Tile), a7 = Vector512.Load(acc + 7 * Tile);
            Vector512<float> sum = ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7));
            if (TW.MinLanes == 4)
            {
                Vector512<float> m0 = Vector512.Load(acc + 8 * Tile), m1 = Vector512.Load(acc + 9 * Tile), m2 = Vector512.Load(acc + 10 * Tile), m3 = Vector512.Load(acc + 11 * Tile);
                sum += (m0 + m2) + (m1 + m3);
            }
            else if (TW.MinLanes == 1)
                sum += Vector512.Load(acc + 8 * Tile);
            sum.Store(v);
            for (int t = 0; t < m; t++) y[t * yStride + r] = v[t];
        }
    }
}
