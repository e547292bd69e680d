using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ingot.Runtime.Quants;

/// <summary>
/// The weight side of an AMX GEMM (<see cref="AmxGemm"/>): how a tile of weight rows becomes B tiles (512 bytes per
/// 32-element block: row k = 16 dword columns) with a per-block scale per column, and how a token's 16 accumulated
/// columns become outputs.
/// </summary>
internal unsafe interface IAmxWeights
{
    /// <summary>Weight rows per tile.</summary>
    static abstract int TileRows { get; }

    /// <summary>Rows [0, nr) of the tile at w into bw (512 bytes per block) and dw[16·b + column]; columns of absent rows zero.</summary>
    static abstract void Build(byte* w, nint rowBytes, int nr, int blocks, sbyte* bw, float* dw);

    /// <summary>One token's 16 accumulated columns → its outputs y[0..nr) (tail: 16 floats of scratch).</summary>
    static abstract void Put(Vector512<float> acc, float* y, int nr, float* tail);
}

/// <summary>
/// A prefill GEMM on AMX (<see cref="Amx"/>) for weights whose vec-dot meets Q8_0 activations block by block: the
/// integer dots by tdpbssd, tokens as the A tiles read straight from their Q8_0 rows (32 codes per row, 34 bytes
/// apart; two tiles of up to 16 tokens per machine-code call, a short tile reading only its own rows), the weights as
/// B tiles built once per call and row tile (<see cref="IAmxWeights"/>); then per block in order
/// acc = fma(float(sum), d_w·d_a, acc), one 512-bit vector of 16 columns per token, which is each weight type's float
/// order (the columns are what its vec-dot keeps apart), so every (row, token) is bit-identical to the vec-dot.
/// Scratch: the thread's <see cref="RowScratch"/> (no caller holds it here), 19 KB plus 576 bytes per block and 4 bytes
/// per token and block.
/// </summary>
internal static unsafe class AmxGemm
{
    private const int Tile = 16, BBlockBytes = 512, CBlockInts = 2 * Tile * Tile;

    /// <summary>Blocks per machine-code call: 16 KB of int32 results, read back from L1 (all of a 768-column row: 48 KB).</summary>
    private const int ChunkBlocks = 8;

    /// <summary>Bytes of <see cref="PrepareScales"/>' table for this many tokens.</summary>
    public static nint ScalesBytes(int tokens, int cols) => (nint)(cols / 32) * Padded(tokens) * sizeof(float);

    /// <summary>Tokens rounded up to whole tiles of 16: the scales table's row length.</summary>
    private static int Padded(int tokens) => (tokens + Tile - 1) / Tile * Tile;

    /// <summary>
    /// The activation scales as the epilogue reads them, da[b · (tokens rounded up to 16) + t] = token t's f32 scale of
    /// block b (padding tokens 0): prepared once per matmul input by generated code (<see cref="Q8_0Lanes.PrepareForGemm"/>)
    /// instead of once per call.
    /// </summary>
    public static void PrepareScales(byte* a, nint aStride, int tokens, int cols, float* da)
    {
        float* f16 = Fp.F16Table;
        int blocks = cols / 32, daStride = Padded(tokens);
        for (int b = 0; b < blocks; b++)
            for (int t = 0; t < daStride; t++) da[b * daStride + t] = t < tokens ? f16[*(ushort*)(a + t * aStride + 34 * b)] : 0f;
    }

    /// <summary>
    /// y[t * yStride + i] for i &lt; rows, t &lt; tokens; a: Q8_0 rows at stride aStride; cols a multiple of 32; da: the
    /// activation scales from <see cref="PrepareScales"/>, or null to derive them here.
    /// </summary>
    public static void Rows<TW>(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride, float* da = null)
        where TW : struct, IAmxWeights
    {
        int blocks = cols / 32, daStride = Padded(tokens);
        const int accFloats = 2 * Tile * Tile;
        byte* s = RowScratch.Get(64 + 64 + accFloats * sizeof(float) + ChunkBlocks * CBlockInts * sizeof(int) + (nint)blocks * (BBlockBytes + Tile * sizeof(float)) + ScalesBytes(tokens, cols));
        byte* config = s;
        float* tail = (float*)(s + 64);
        float* acc = tail + Tile;
        int* c = (int*)(acc + accFloats);
        sbyte* bw = (sbyte*)(c + ChunkBlocks * CBlockInts);
        float* dw = (float*)(bw + (nint)blocks * BBlockBytes);
        if (da == null)
        {
            da = dw + (nint)blocks * Tile;
            PrepareScales(a, aStride, tokens, cols, da);
        }
        Amx.Args args = default;
        args.AStride = aStride;
        args.C = c;
        for (int r0 = 0; r0 < rows; r0 += TW.TileRows)
        {
            int nr = Math.Min(TW.TileRows, rows - r0);
            TW.Build(w + r0 * rowBytes, rowBytes, nr, blocks, bw, dw);
            for (int t0 = 0; t0 < tokens; t0 += 2 * Tile)
            {
                int m0 = Math.Min(Tile, tokens - t0), m1 = Math.Min(Tile, tokens - t0 - Tile);
                bool two = m1 > 0;
                byte* tileConfig = Amx.ConfigureOnce(config, m0, two ? m1 : m0);
                // a chunk of blocks at a time, so the int32 results are read back from L1, not L2
                for (int b0 = 0; b0 < blocks; b0 += ChunkBlocks)
                {
                    int nb = Math.Min(ChunkBlocks, blocks - b0);
                    bool first = b0 == 0, last = b0 + nb == blocks;
                    args.Config = b0 == 0 ? tileConfig : null; // loaded by the first chunk's call
                    args.A0 = a + t0 * aStride + 34 * b0 + 2;
                    args.A1 = two ? args.A0 + Tile * aStride : null;
                    args.B = bw + b0 * BBlockBytes;
                    args.Blocks = nb;
                    Amx.Gemm(&args);
                    float* dab = da + b0 * daStride + t0;
                    Scale<TW>(c, dw + b0 * Tile, dab, daStride, nb, m0, acc, first, last, y + t0 * yStride + r0, yStride, nr, tail);
                    if (two) Scale<TW>(c + Tile * Tile, dw + b0 * Tile, dab + Tile, daStride, nb, m1, acc + Tile * Tile, first, last, y + (t0 + Tile) * yStride + r0, yStride, nr, tail);
                }
            }
        }
    }

    /// <summary>
    /// One token tile's results for a chunk of blocks (int32 [block][token][16 columns] at c, blocks
    /// <see cref="CBlockInts"/> apart) scaled and summed per block in order onto the running sums at acc (16 per token;
    /// zeros when first); after the last chunk token t's outputs go to y + t · yStride.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Scale<TW>(int* c, float* dw, float* da, int daStride, int blocks, int m, float* acc, bool first, bool last, float* y, nint yStride, int nr, float* tail)
        where TW : struct, IAmxWeights
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default, a12 = default, a13 = default, a14 = default, a15 = default;
        if (!first)
        {
            a0 = Vector512.Load(acc + 0);
            a1 = Vector512.Load(acc + 16);
            a2 = Vector512.Load(acc + 32);
            a3 = Vector512.Load(acc + 48);
            a4 = Vector512.Load(acc + 64);
            a5 = Vector512.Load(acc + 80);
            a6 = Vector512.Load(acc + 96);
            a7 = Vector512.Load(acc + 112);
            a8 = Vector512.Load(acc + 128);
            a9 = Vector512.Load(acc + 144);
            a10 = Vector512.Load(acc + 160);
            a11 = Vector512.Load(acc + 176);
            a12 = Vector512.Load(acc + 192);
            a13 = Vector512.Load(acc + 208);
            a14 = Vector512.Load(acc + 224);
            a15 = Vector512.Load(acc + 240);
        }
        for (int b = 0; b < blocks; b++, c += CBlockInts, dw += Tile, da += daStride)
        {
            Vector512<float> d = Vector512.Load(dw);
            a0 = Step(c, 0, d, da, a0);
            a1 = Step(c, 1, d, da, a1);
            a2 = Step(c, 2, d, da, a2);
            a3 = Step(c, 3, d, da, a3);
            a4 = Step(c, 4, d, da, a4);
            a5 = Step(c, 5, d, da, a5);
            a6 = Step(c, 6, d, da, a6);
            a7 = Step(c, 7, d, da, a7);
            a8 = Step(c, 8, d, da, a8);
            a9 = Step(c, 9, d, da, a9);
            a10 = Step(c, 10, d, da, a10);
            a11 = Step(c, 11, d, da, a11);
            a12 = Step(c, 12, d, da, a12);
            a13 = Step(c, 13, d, da, a13);
            a14 = Step(c, 14, d, da, a14);
            a15 = Step(c, 15, d, da, a15);
        }
        if (last)
        {
            if (0 < m) TW.Put(a0, y + 0 * yStride, nr, tail);
            if (1 < m) TW.Put(a1, y + 1 * yStride, nr, tail);
            if (2 < m) TW.Put(a2, y + 2 * yStride, nr, tail);
            if (3 < m) TW.Put(a3, y + 3 * yStride, nr, tail);
            if (4 < m) TW.Put(a4, y + 4 * yStride, nr, tail);
            if (5 < m) TW.Put(a5, y + 5 * yStride, nr, tail);
            if (6 < m) TW.Put(a6, y + 6 * yStride, nr, tail);
            if (7 < m) TW.Put(a7, y + 7 * yStride, nr, tail);
            if (8 < m) TW.Put(a8, y + 8 * yStride, nr, tail);
            if (9 < m) TW.Put(a9, y + 9 * yStride, nr, tail);
            if (10 < m) TW.Put(a10, y + 10 * yStride, nr, tail);
            if (11 < m) TW.Put(a11, y + 11 * yStride, nr, tail);
            if (12 < m) TW.Put(a12, y + 12 * yStride, nr, tail);
            if (13 < m) TW.Put(a13, y + 13 * yStride, nr, tail);
            if (14 < m) TW.Put(a14, y + 14 * yStride, nr, tail);
            if (15 < m) TW.Put(a15, y + 15 * yStride, nr, tail);
            return;
        }
        a0.Store(acc + 0);
        a1.Store(acc + 16);
        a2.Store(acc + 32);
        a3.Store(acc + 48);
        a4.Store(acc + 64);
        a5.Store(acc + 80);
        a6.Store(acc + 96);
        a7.Store(acc + 112);
        a8.Store(acc + 128);
        a9.Store(acc + 144);
        a10.Store(acc + 160);
        a11.Store(acc + 176);
        a12.Store(acc + 192);
        a13.Store(acc + 208);
        a14.Store(acc + 224);
        a15.Store(acc + 240);
    }

    /// <summary>fma(float(token t's 16 column sums), d_w · d_a, acc): the vec-dot's step, lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step(int* c, int t, Vector512<float> d, float* da, Vector512<float> acc) =>
        Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Vector512.Load(c + Tile * t)), d * Vector512.Create(da[t]), acc);
}
