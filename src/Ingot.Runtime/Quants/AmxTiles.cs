using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Q4_0 weights on AMX (<see cref="AmxGemm"/>): 16 rows per tile, unpacked once per call into signed codes c − 8 in
/// AMX's pair layout (row k of a block's tile = dword k of each of the 16 rows: an 8×8 dword transpose per half), their
/// f16 scales widened. The columns are the 16 rows; Q4_0's vec-dot keeps one float chain per row
/// (acc = fma(Σ(c − 8)·q, d_w·d_a, acc) per block: <see cref="GemmQ4_0Q8_0"/>, <see cref="Q4_0Groups"/>), so each
/// column's accumulator is its row's result.
/// <para>Types whose vec-dot keeps 8 float lanes per row (Q8_0, Q5_0, IQ4_NL: llama.cpp's tinyBLAS order) would need one
/// column per (row, lane): tried for Q8_0 with B tiles holding 2 rows' dword k at columns k and 8 + k, it ran at
/// 0.70-0.77× of the AVX rows kernel (pp128, stories110M shape), each tile store carrying only 2 rows' results.</para>
/// </summary>
internal unsafe struct Q4_0AmxTiles : IAmxWeights
{
    /// <summary>
    /// Fewest tokens for which AMX runs (below, the AVX forms): the 16 rows' unpacking is paid once per call, so AMX wins
    /// only with enough tokens to share it (1 thread, 768 columns: 0.78× the AVX-VNNI GEMM at 8 tokens, 1.13-1.25× at
    /// 16, 1.65× at 64).
    /// </summary>
    public const int MinTokens = 16;

    public static bool Runs(int tokens) => tokens >= MinTokens && Amx.Supported;

    public static int TileRows => 16;

    /// <summary>
    /// Rows [0, nr) of the tile as codes c − 8 in pair layout at bw + 512·b (the rest zero), scales at dw[16·b + row].
    /// Vector r holds rows r and r + 8 (dwords 0..7 each); the 8×8 transposes of both halves give row k = dword k of
    /// rows 0..7 | rows 8..15.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Build(byte* w, nint rowBytes, int nr, int blocks, sbyte* bw, float* dw)
    {
        float* f16 = Fp.F16Table;
        for (int b = 0; b < blocks; b++, w += 18, bw += 512, dw += 16)
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
            for (int r = 0; r < 16; r++) dw[r] = r < nr ? f16[*(ushort*)(w + r * rowBytes)] : 0f;
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

    public static void Put(Vector512<float> acc, float* y, int nr, float* tail)
    {
        if (nr == 16) { acc.Store(y); return; }
        acc.Store(tail);
        for (int r = 0; r < nr; r++) y[r] = tail[r];
    }
}
