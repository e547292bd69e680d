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
    /// only with enough tokens to share it (1 thread, 64-row tiles of 768 and 2048 columns, against the AVX-VNNI GEMM:
    /// 0.97-1.05× at 8 tokens, 1.46-1.53× at 16, 2.2-2.4× at 64 and 128, about 280 GMAC/s). From 8, where it is level,
    /// so that on AMX machines no matmul input needs the token lanes and the scales table is prepared from 8 tokens
    /// (which Ingot's interleaved layout, <see cref="Q4_0x16AmxTiles"/>, reads instead of deriving it per call).
    /// </summary>
    public const int MinTokens = 8;

    public static bool Runs(int tokens) => tokens >= MinTokens && Amx.Supported;

    public static int TileRows => 16;

    /// <summary>
    /// Rows [0, nr) of the tile as codes c − 8 in pair layout at bw + 512·b, scales at dw[16·b + row]; a row past nr
    /// repeats row nr − 1 (its column is never stored). The packed bytes are transposed, not the codes: vector i holds
    /// the 16 bytes of rows i, i + 4, i + 8, i + 12, and a 4×4 dword transpose per 128-bit lane gives G_k = bytes
    /// 4k..4k+3 of rows 0..15, whose low nibbles are B row k (elements 4k..4k+3) and high nibbles B row k + 4
    /// (elements 16 + 4k..). The scales come by two gathers (the dword at each row's block) and the exact f16 bit trick.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Build(byte* w, nint rowBytes, int nr, int blocks, sbyte* bw, float* dw)
    {
        byte** p = stackalloc byte*[16];
        for (int r = 0; r < 16; r++) p[r] = w + Math.Min(r, nr - 1) * rowBytes + 2;
        Vector256<int> step = Vector256.Create((int)rowBytes), last = Vector256.Create(nr - 1);
        Vector256<int> at0 = Vector256.Min(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), last) * step;
        Vector256<int> at1 = Vector256.Min(Vector256.Create(8, 9, 10, 11, 12, 13, 14, 15), last) * step;
        Vector512<byte> m4 = Vector512.Create((byte)0x0F);
        Vector512<sbyte> eight = Vector512.Create((sbyte)8);
        for (int b = 0; b < blocks; b++, bw += 512, dw += 16)
        {
            nint o = 18 * b;
            Vector512<int> z0 = Rows4(p, 0, o), z1 = Rows4(p, 1, o), z2 = Rows4(p, 2, o), z3 = Rows4(p, 3, o);
            Vector512<long> t0 = Avx512F.UnpackLow(z0, z1).AsInt64(), t1 = Avx512F.UnpackHigh(z0, z1).AsInt64();
            Vector512<long> t2 = Avx512F.UnpackLow(z2, z3).AsInt64(), t3 = Avx512F.UnpackHigh(z2, z3).AsInt64();
            Nibbles(Avx512F.UnpackLow(t0, t2).AsByte(), m4, eight, bw, 0);
            Nibbles(Avx512F.UnpackHigh(t0, t2).AsByte(), m4, eight, bw, 1);
            Nibbles(Avx512F.UnpackLow(t1, t3).AsByte(), m4, eight, bw, 2);
            Nibbles(Avx512F.UnpackHigh(t1, t3).AsByte(), m4, eight, bw, 3);
            Vector512<uint> d = Vector512.Create(Avx2.GatherVector256((int*)(w + o), at0, 1), Avx2.GatherVector256((int*)(w + o), at1, 1)).AsUInt32()
                              & Vector512.Create(0xFFFFu);
            Kernels.HalfBits.F16ToF32(d).Store(dw);
        }
    }

    /// <summary>The 16 code bytes of block o of rows i, i + 4, i + 8, i + 12, one per 128-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Rows4(byte** p, int i, nint o) =>
        Vector512.Create(Vector256.Create(Vector128.Load(p[i] + o), Vector128.Load(p[i + 4] + o)),
                         Vector256.Create(Vector128.Load(p[i + 8] + o), Vector128.Load(p[i + 12] + o))).AsInt32();

    /// <summary>B rows k (low nibbles of g, − 8) and k + 4 (high nibbles, − 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Nibbles(Vector512<byte> g, Vector512<byte> m4, Vector512<sbyte> eight, sbyte* bw, int k)
    {
        ((g & m4).AsSByte() - eight).Store(bw + 64 * k);
        ((Vector512.ShiftRightLogical(g.AsUInt16(), 4).AsByte() & m4).AsSByte() - eight).Store(bw + 64 * (k + 4));
    }

    public static void Put(Vector512<float> acc, float* y, int nr, float* tail)
    {
        if (nr == 16) { acc.Store(y); return; }
        acc.Store(tail);
        for (int r = 0; r < nr; r++) y[r] = tail[r];
    }
}
