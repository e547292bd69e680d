using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Quants;

/// <summary>
/// The Q4_0 prefill GEMM on AMX (<see cref="Amx"/>): the integer dot of every (token, row, block) by tdpbssd, 16 tokens
/// × 16 rows × 32 elements per instruction, then the float steps of <see cref="GemmQ4_0Q8_0"/> in AVX-512.
/// <list type="number">
/// <item>16 weight rows at a time are unpacked once per call into signed codes c − 8 in AMX's pair layout (row k of a
/// block's tile = dword k of each of the 16 rows: an 8×8 dword transpose per half) with their f16 scales widened; rows
/// past the end are zero and their results dropped;</item>
/// <item>the tokens are read as they are, 32 codes of each Q8_0 row per block (no rearranging), two tiles of 16 tokens
/// per machine-code call; a tile of fewer tokens reads only its own rows;</item>
/// <item>per block in order: acc = fma(float(Σ(c − 8)·q), d_w·d_a, acc), one 512-bit vector of 16 rows per token: the
/// exact integer and the float order of the AVX GEMM and of the vec-dot, so every (row, token) is bit-identical to
/// them; the accumulators are the output rows as they are stored.</item>
/// </list>
/// Scratch per thread: about 2.6 KB per block of a row, plus 4 bytes per token and block.
/// </summary>
internal static unsafe class GemmQ4_0Q8_0Amx
{
    private const int Tile = 16, BBlockBytes = 512, CBlockInts = 2 * Tile * Tile;

    /// <summary>
    /// Fewest tokens for which AMX runs (below, the AVX forms): the 16 rows' unpacking is paid once per call, so AMX wins
    /// only with enough tokens to share it (1 thread, 768 columns: 0.78× the AVX-VNNI GEMM at 8 tokens, 1.13-1.25× at
    /// 16, 1.65× at 64).
    /// </summary>
    public const int MinTokens = 16;

    public static bool Runs(int tokens) => tokens >= MinTokens && Amx.Supported;

    [ThreadStatic] private static byte* t_scratch;
    [ThreadStatic] private static nint t_scratchBytes;

    /// <summary>y[t * yStride + i] for i &lt; rows, t &lt; tokens; a: Q8_0 rows at stride aStride; cols a multiple of 32.</summary>
    public static void Rows(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        int blocks = cols / 32, tiles = (tokens + Tile - 1) / Tile, daStride = tiles * Tile;
        byte* s = Scratch(64 + 64 + (nint)blocks * (BBlockBytes + Tile * sizeof(float) + CBlockInts * sizeof(int) + daStride * sizeof(float)));
        byte* config = s;
        float* tail = (float*)(s + 64);
        sbyte* bw = (sbyte*)(s + 128);
        float* dw = (float*)(bw + (nint)blocks * BBlockBytes);
        int* c = (int*)(dw + (nint)blocks * Tile);
        float* da = (float*)(c + (nint)blocks * CBlockInts);
        Scales(a, aStride, tokens, blocks, da, daStride);
        Amx.Args args = default;
        args.AStride = aStride;
        args.B = bw;
        args.C = c;
        args.Blocks = blocks;
        for (int r0 = 0; r0 < rows; r0 += Tile)
        {
            int nr = Math.Min(Tile, rows - r0);
            Unpack(w + r0 * rowBytes, rowBytes, nr, blocks, bw, dw);
            for (int t0 = 0; t0 < tokens; t0 += 2 * Tile)
            {
                int m0 = Math.Min(Tile, tokens - t0), m1 = Math.Min(Tile, tokens - t0 - Tile);
                bool two = m1 > 0;
                args.Config = Amx.ConfigureOnce(config, m0, two ? m1 : m0);
                args.A0 = a + t0 * aStride + 2;
                args.A1 = two ? args.A0 + Tile * aStride : null;
                Amx.Gemm(&args);
                Scale(c, dw, da + t0, daStride, blocks, m0, y + t0 * yStride + r0, yStride, nr, tail);
                if (two) Scale(c + Tile * Tile, dw, da + t0 + Tile, daStride, blocks, m1, y + (t0 + Tile) * yStride + r0, yStride, nr, tail);
            }
        }
    }

    /// <summary>da[b · daStride + t] = token t's f32 scale of block b; the padding tokens 0.</summary>
    private static void Scales(byte* a, nint aStride, int tokens, int blocks, float* da, int daStride)
    {
        float* f16 = Fp.F16Table;
        for (int b = 0; b < blocks; b++)
            for (int t = 0; t < daStride; t++) da[b * daStride + t] = t < tokens ? f16[*(ushort*)(a + t * aStride + 34 * b)] : 0f;
    }

    /// <summary>
    /// Rows [0, nr) of the tile as codes c − 8 in pair layout at bw + 512·b (the rest zero), scales at dw[16·b + row].
    /// Vector r holds rows r and r + 8 (dwords 0..7 each); the 8×8 transposes of both halves give row k = dword k of
    /// rows 0..7 | rows 8..15.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Unpack(byte* w, nint rowBytes, int nr, int blocks, sbyte* bw, float* dw)
    {
        float* f16 = Fp.F16Table;
        for (int b = 0; b < blocks; b++, w += 18, bw += BBlockBytes, dw += Tile)
        {
            Vector512<int> z0 = Pair(w, rowBytes, 0, nr), z1 = Pair(w, rowBytes, 1, nr), z2 = Pair(w, rowBytes, 2, nr), z3 = Pair(w, rowBytes, 3, nr);
            Vector512<int> z4 = Pair(w, rowBytes, 4, nr), z5 = Pair(w, rowBytes, 5, nr), z6 = Pair(w, rowBytes, 6, nr), z7 = Pair(w, rowBytes, 7, nr);
            // per 128-bit lane: t = dword pairs of two rows, u = dword quads of four rows
            Vector512<long> t0 = Avx512F.UnpackLow(z0, z1).AsInt64(), t1 = Avx512F.UnpackHigh(z0, z1).AsInt64();
            Vector512<long> t2 = Avx512F.UnpackLow(z2, z3).AsInt64(), t3 = Avx512F.UnpackHigh(z2, z3).AsInt64();
            Vector512<long> t4 = Avx512F.UnpackLow(z4, z5).AsInt64(), t5 = Avx512F.UnpackHigh(z4, z5).AsInt64();
            Vector512<long> t6 = Avx512F.UnpackLow(z6, z7).AsInt64(), t7 = Avx512F.UnpackHigh(z6, z7).AsInt64();
            // u0 lanes: [dword 0 | dword 4] of rows 0..3, then of rows 8..11; u4 the same for rows 4..7 / 12..15
            Vector512<int> u0 = Avx512F.UnpackLow(t0, t2).AsInt32(), u1 = Avx512F.UnpackHigh(t0, t2).AsInt32();
            Vector512<int> u2 = Avx512F.UnpackLow(t1, t3).AsInt32(), u3 = Avx512F.UnpackHigh(t1, t3).AsInt32();
            Vector512<int> u4 = Avx512F.UnpackLow(t4, t6).AsInt32(), u5 = Avx512F.UnpackHigh(t4, t6).AsInt32();
            Vector512<int> u6 = Avx512F.UnpackLow(t5, t7).AsInt32(), u7 = Avx512F.UnpackHigh(t5, t7).AsInt32();
            int* o = (int*)bw;
            Rows(u0, u4, o, 0); Rows(u1, u5, o, 1); Rows(u2, u6, o, 2); Rows(u3, u7, o, 3);
            for (int r = 0; r < Tile; r++) dw[r] = r < nr ? f16[*(ushort*)(w + r * rowBytes)] : 0f;
        }
    }

    /// <summary>Rows r and r + 8 of the tile, block at w: [codes − 8 of row r | of row r + 8] (zero past nr).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Pair(byte* w, nint rowBytes, int r, int nr) =>
        Vector512.Create(Codes(w + r * rowBytes, r < nr), Codes(w + (r + 8) * rowBytes, r + 8 < nr)).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Codes(byte* blk, bool present)
    {
        if (!present) return Vector256<sbyte>.Zero;
        Vector128<byte> q = Vector128.Load(blk + 2), m4 = Vector128.Create((byte)0x0F);
        return Vector256.Create(q & m4, Vector128.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & m4).AsSByte() - Vector256.Create((sbyte)8);
    }

    /// <summary>From u (rows 0..3 | 8..11) and v (rows 4..7 | 12..15), lanes [dword k | dword k + 4]: B rows k and k + 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows(Vector512<int> u, Vector512<int> v, int* o, int k)
    {
        // [u.0 u.2 v.0 v.2] then lanes 0 2 1 3: [u.0 v.0 u.2 v.2] = dword k of rows 0..3, 4..7, 8..11, 12..15
        Vector512<int> lo = Avx512F.Shuffle4x128(u, v, 0b10_00_10_00), hi = Avx512F.Shuffle4x128(u, v, 0b11_01_11_01);
        Avx512F.Shuffle4x128(lo, lo, 0b11_01_10_00).Store(o + 16 * k);
        Avx512F.Shuffle4x128(hi, hi, 0b11_01_10_00).Store(o + 16 * (k + 4));
    }

    /// <summary>
    /// One token tile's results (int32 [block][token][16 rows] at c, blocks <see cref="CBlockInts"/> apart) scaled and
    /// summed per block in order; token t's 16 rows go to y + t · yStride (the first nr of them).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Scale(int* c, float* dw, float* da, int daStride, int blocks, int m, float* y, nint yStride, int nr, float* tail)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default, a12 = default, a13 = default, a14 = default, a15 = default;
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
        Put(a0, 0, m, y, yStride, nr, tail);
        Put(a1, 1, m, y, yStride, nr, tail);
        Put(a2, 2, m, y, yStride, nr, tail);
        Put(a3, 3, m, y, yStride, nr, tail);
        Put(a4, 4, m, y, yStride, nr, tail);
        Put(a5, 5, m, y, yStride, nr, tail);
        Put(a6, 6, m, y, yStride, nr, tail);
        Put(a7, 7, m, y, yStride, nr, tail);
        Put(a8, 8, m, y, yStride, nr, tail);
        Put(a9, 9, m, y, yStride, nr, tail);
        Put(a10, 10, m, y, yStride, nr, tail);
        Put(a11, 11, m, y, yStride, nr, tail);
        Put(a12, 12, m, y, yStride, nr, tail);
        Put(a13, 13, m, y, yStride, nr, tail);
        Put(a14, 14, m, y, yStride, nr, tail);
        Put(a15, 15, m, y, yStride, nr, tail);
    }

    /// <summary>fma(float(token t's sums of the 16 rows), d_w · d_a, acc): the AVX GEMM's step, lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step(int* c, int t, Vector512<float> d, float* da, Vector512<float> acc) =>
        Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Vector512.Load(c + Tile * t)), d * Vector512.Create(da[t]), acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(Vector512<float> acc, int t, int m, float* y, nint yStride, int nr, float* tail)
    {
        if (t >= m) return;
        if (nr == Tile) { acc.Store(y + t * yStride); return; }
        acc.Store(tail);
        for (int r = 0; r < nr; r++) y[t * yStride + r] = tail[r];
    }

    private static byte* Scratch(nint bytes)
    {
        if (t_scratchBytes < bytes)
        {
            if (t_scratch != null) NativeMemory.AlignedFree(t_scratch);
            t_scratch = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
            t_scratchBytes = bytes;
        }
        return t_scratch;
    }
}
