using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Quants;

/// <summary>
/// The Q4_0 prefill GEMM on AMX (<see cref="Amx"/>): the integer dot of every (row, token, block) by tdpbssd, 16 rows ×
/// 16 tokens × 32 elements per pair of instructions, then the float steps of <see cref="GemmQ4_0Q8_0"/> in AVX-512.
/// <list type="number">
/// <item>16 weight rows at a time are unpacked once per call into signed codes c − 8 (block-major, 512 bytes per block)
/// with their f16 scales widened; rows past the end are zero and their results dropped;</item>
/// <item>per pair of 8-token groups of the prepared lanes (<see cref="Q8_0Lanes"/>, read by AMX as they are), the
/// machine code writes Σ(c − 8)·q for every (block, row, token): exact int32, the same integer the AVX paths form as
/// Σc·q − 8·Σq;</item>
/// <item>per block in order: acc = fma(float(sum), d_w·d_a, acc), 2 rows × 8 tokens per 512-bit vector: the float order
/// of the AVX GEMM and of the vec-dot, so every (row, token) is bit-identical to them.</item>
/// </list>
/// Scratch per thread: 1.6 KB per block of a row (unpacked tile, scales, int32 results).
/// </summary>
internal static unsafe class GemmQ4_0Q8_0Amx
{
    private const int RowsPerTile = 16, TileBlockBytes = RowsPerTile * 32, ResultBlockBytes = 2 * RowsPerTile * 8 * sizeof(int);

    [ThreadStatic] private static byte* t_scratch;
    [ThreadStatic] private static nint t_scratchBytes;

    /// <summary>y[t * yStride + i] for i &lt; rows, t &lt; tokens, from lanes prepared by <see cref="Q8_0Lanes.Prepare"/>.</summary>
    public static void RowsPrepared(byte* w, nint rowBytes, int rows, byte* lanes, int tokens, int cols, float* y, nint yStride)
    {
        int blocks = cols / 32, groups = (tokens + 7) / 8;
        nint groupBytes = (nint)blocks * Q8_0Lanes.BlockBytes;
        byte* s = Scratch(64 + (nint)blocks * (TileBlockBytes + RowsPerTile * sizeof(float) + ResultBlockBytes));
        byte* config = s;
        sbyte* codes = (sbyte*)(s + 64);
        float* dw = (float*)(s + 64 + (nint)blocks * TileBlockBytes);
        int* c = (int*)(dw + (nint)blocks * RowsPerTile);
        float* tile = stackalloc float[RowsPerTile * 8]; // [row][token]
        Amx.Configure(config);
        Amx.Args args = default;
        args.Config = config;
        args.W = codes;
        args.WStride = 32;
        args.C = c;
        args.Blocks = blocks;
        for (int r0 = 0; r0 < rows; r0 += RowsPerTile)
        {
            int nr = Math.Min(RowsPerTile, rows - r0);
            Unpack(w + r0 * rowBytes, rowBytes, nr, blocks, codes, dw);
            for (int g = 0; g < groups; g += 2)
            {
                bool two = g + 1 < groups;
                args.Lanes0 = lanes + g * groupBytes;
                args.Lanes1 = two ? args.Lanes0 + groupBytes : args.Lanes0; // a lone last group runs twice, once kept
                Amx.Gemm(&args);
                Scale(c, dw, args.Lanes0, blocks, tile);
                Store(tile, y + 8 * g * yStride + r0, yStride, nr, Math.Min(8, tokens - 8 * g));
                if (two)
                {
                    Scale(c + RowsPerTile * 8, dw, args.Lanes1, blocks, tile);
                    Store(tile, y + 8 * (g + 1) * yStride + r0, yStride, nr, Math.Min(8, tokens - 8 * (g + 1)));
                }
            }
        }
    }

    /// <summary>Rows [0, nr) of the tile as codes c − 8 at codes + 512·b + 32·row, scales at dw[16·b + row]; the rest zero.</summary>
    private static void Unpack(byte* w, nint rowBytes, int nr, int blocks, sbyte* codes, float* dw)
    {
        float* f16 = Fp.F16Table;
        Vector128<byte> m4 = Vector128.Create((byte)0x0F);
        Vector256<sbyte> eight = Vector256.Create((sbyte)8);
        for (int r = 0; r < RowsPerTile; r++, w += rowBytes)
        {
            sbyte* dst = codes + 32 * r;
            if (r >= nr)
            {
                for (int b = 0; b < blocks; b++) { Vector256<sbyte>.Zero.Store(dst + b * TileBlockBytes); dw[RowsPerTile * b + r] = 0; }
                continue;
            }
            for (int b = 0; b < blocks; b++)
            {
                byte* blk = w + 18 * b;
                Vector128<byte> q = Vector128.Load(blk + 2);
                Vector256<sbyte> v = Vector256.Create(q & m4, Vector128.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & m4).AsSByte();
                (v - eight).Store(dst + b * TileBlockBytes);
                dw[RowsPerTile * b + r] = f16[*(ushort*)blk];
            }
        }
    }

    /// <summary>
    /// One token group's results (int32 [block][16 rows][8 tokens] at c, blocks 1 KB apart) scaled and summed per block in
    /// order into tile[row · 8 + token]: vector j holds rows 2j, 2j+1 (8 token lanes each).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scale(int* c, float* dw, byte* lanes, int blocks, float* tile)
    {
        Vector512<int> i0 = Pairs(0), i1 = Pairs(1), i2 = Pairs(2), i3 = Pairs(3), i4 = Pairs(4), i5 = Pairs(5), i6 = Pairs(6), i7 = Pairs(7);
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int b = 0; b < blocks; b++, c += ResultBlockBytes / sizeof(int), dw += RowsPerTile, lanes += Q8_0Lanes.BlockBytes)
        {
            Vector256<float> da = Vector256.Load((float*)(lanes + Q8_0Lanes.ScaleAt));
            Vector512<float> dd = Vector512.Create(da, da), d = Vector512.Load(dw);
            a0 = Step(c, 0, d, i0, dd, a0); a1 = Step(c, 1, d, i1, dd, a1); a2 = Step(c, 2, d, i2, dd, a2); a3 = Step(c, 3, d, i3, dd, a3);
            a4 = Step(c, 4, d, i4, dd, a4); a5 = Step(c, 5, d, i5, dd, a5); a6 = Step(c, 6, d, i6, dd, a6); a7 = Step(c, 7, d, i7, dd, a7);
        }
        a0.Store(tile); a1.Store(tile + 16); a2.Store(tile + 32); a3.Store(tile + 48);
        a4.Store(tile + 64); a5.Store(tile + 80); a6.Store(tile + 96); a7.Store(tile + 112);
    }

    /// <summary>fma(float(sums of rows 2j, 2j+1), d_w · d_a, acc): the AVX GEMM's step, lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step(int* c, int j, Vector512<float> d, Vector512<int> pair, Vector512<float> dd, Vector512<float> acc) =>
        Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Vector512.Load(c + 16 * j)), Avx512F.PermuteVar16x32(d, pair) * dd, acc);

    /// <summary>Lanes 0..7 take element 2j, lanes 8..15 element 2j + 1.</summary>
    private static Vector512<int> Pairs(int j) => Vector512.Create(Vector256.Create(2 * j), Vector256.Create(2 * j + 1));

    private static void Store(float* tile, float* y, nint yStride, int nr, int nt)
    {
        for (int t = 0; t < nt; t++, y += yStride)
            for (int r = 0; r < nr; r++) y[r] = tile[8 * r + t];
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
