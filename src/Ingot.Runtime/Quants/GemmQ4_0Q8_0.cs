using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Quants;

/// <summary>
/// The Q4_0 prefill GEMM: y[t, i] = W[i, :] · A[t, :] for a tile of rows × many tokens, AVX2 (AVX-VNNI where present).
/// The weights stay in GGUF's layout; the activations are rearranged so that the vector lanes are tokens:
/// <list type="bullet">
/// <item><see cref="Q8_0Lanes.Prepare"/> interleaves 8 tokens at a time (<see cref="Q8_0Lanes"/>): per block, vector k holds
/// dword k of every token's codes, so one broadcast of 4 weight bytes meets 8 tokens in one vpdpbusd (maddubs + madd
/// without VNNI) and the int32 lanes come out as tokens, with no horizontal reduction;</item>
/// <item>each weight dword is broadcast and split into its low nibbles (elements 4k..4k+3) and high nibbles (16+4k..),
/// once per tile step for 2 rows × 16 tokens;</item>
/// <item>per block: the exact Σc·q − 8·Σq (prepared per token), converted, then acc = fma(sum, d_w·d_a, acc): the
/// integer dot and the float order of <see cref="Q4_0Groups"/> (llama.cpp's repacked Q4_0 order), so every
/// (row, token) result is bit-identical to the vec-dot and rows kernels.</item>
/// </list>
/// Tokens beyond the last are zero lanes whose results are dropped; an odd row or token group is recomputed by an
/// overlapping step (the same bits again).
/// </summary>
public static unsafe class GemmQ4_0Q8_0
{
    /// <summary>Fewest tokens for which the GEMM beats the rows kernels (one full group of 8 lanes).</summary>
    public const int MinTokens = 8;

    public static bool Supported => Avx2.IsSupported;

    /// <summary>Whether a call with this many tokens runs the GEMM (the prepared-lanes paths decide by this one test).</summary>
    public static bool Runs(int tokens) => tokens >= MinTokens && Supported;

    /// <summary>The fastest form this machine runs for this many tokens: AMX, else AVX-VNNI, else AVX2's maddubs.</summary>
    internal static GemmForm Best(int tokens) => Q4_0AmxTiles.Runs(tokens) ? GemmForm.Amx : AvxVnni.IsSupported ? GemmForm.AvxVnni : GemmForm.Avx2;

    /// <summary>Whether a call with this many tokens reads prepared token lanes (the AVX forms; AMX reads the q8_0 rows).</summary>
    public static bool ReadsLanes(int tokens) => Runs(tokens) && !Q4_0AmxTiles.Runs(tokens);

    /// <summary>y[t * yStride + i] for i &lt; rows, t &lt; tokens; a: Q8_0 rows at stride aStride; cols a multiple of 32.</summary>
    public static void Rows(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) =>
        Rows(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride, Best(tokens));

    /// <summary>
    /// <see cref="Rows(byte*, nint, int, byte*, nint, int, int, float*, nint)"/> in the given form (tests run each the
    /// machine has). The AVX forms step 2 rows × 16 tokens (15 live vectors: AVX2's 16 registers suffice). Measured
    /// under the JIT with AVX-512's 32 registers, 4 rows × 16 tokens ran at 0.92× of it.
    /// </summary>
    internal static void Rows(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride, GemmForm form)
    {
        if (form == GemmForm.Amx)
        {
            AmxGemm.Rows<Q4_0AmxTiles>(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
            return;
        }
        byte* s = RowScratch.Get(Q8_0Lanes.Bytes(tokens, cols));
        Q8_0Lanes.Prepare(a, aStride, tokens, cols, s);
        RowsPrepared(w, rowBytes, rows, s, tokens, cols, y, yStride, vnni: form == GemmForm.AvxVnni);
    }

    /// <summary>The AVX GEMM on activations already in token lanes (<see cref="Q8_0Lanes.PrepareForGemm"/>).</summary>
    public static void RowsPrepared(byte* w, nint rowBytes, int rows, byte* s, int tokens, int cols, float* y, nint yStride) =>
        RowsPrepared(w, rowBytes, rows, s, tokens, cols, y, yStride, AvxVnni.IsSupported);

    private static void RowsPrepared(byte* w, nint rowBytes, int rows, byte* s, int tokens, int cols, float* y, nint yStride, bool vnni)
    {
        int blocks = cols / 32, groups = (tokens + 7) / 8;
        nint groupBytes = (nint)blocks * Q8_0Lanes.BlockBytes;
        float* tile = stackalloc float[16 * 2]; // [token 0..15][row 0..1]
        for (int g = 0; g < groups; g += 2)
        {
            bool two = g + 1 < groups;
            byte* s0 = s + g * groupBytes, s1 = two ? s0 + groupBytes : s0;
            int nt = Math.Min(tokens - 8 * g, 16);
            for (int r = 0; r < rows; r += 2)
            {
                // an odd last row moves the step back one row (that row gets the same bits again); a lone row runs twice
                int r0 = Math.Min(r, Math.Max(rows - 2, 0));
                byte* w0 = w + r0 * rowBytes, w1 = rows > 1 ? w0 + rowBytes : w0;
                if (vnni) { if (two) Tile2x2Vnni(w0, w1, s0, s1, blocks, tile); else Tile2x1Vnni(w0, w1, s0, blocks, tile); }
                else { if (two) Tile2x2Avx2(w0, w1, s0, s1, blocks, tile); else Tile2x1Avx2(w0, w1, s0, blocks, tile); }
                float* yt = y + 8 * g * yStride + r0;
                if (rows > 1) for (int t = 0; t < nt; t++) *(ulong*)(yt + t * yStride) = *(ulong*)(tile + 2 * t);
                else for (int t = 0; t < nt; t++) yt[t * yStride] = tile[2 * t];
            }
        }
    }

    // Entry points per variant: the flags are constants in each, so each keeps one form of the loop. The pointers are
    // passed per row: deriving them inside from one row stride made the JIT's loop 0.6× as fast.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static void Tile2x2Vnni(byte* w0, byte* w1, byte* s0, byte* s1, int blocks, float* tile) => Tile2(w0, w1, s0, s1, blocks, tile, two: true, vnni: true);
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static void Tile2x1Vnni(byte* w0, byte* w1, byte* s0, int blocks, float* tile) => Tile2(w0, w1, s0, s0, blocks, tile, two: false, vnni: true);
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static void Tile2x2Avx2(byte* w0, byte* w1, byte* s0, byte* s1, int blocks, float* tile) => Tile2(w0, w1, s0, s1, blocks, tile, two: true, vnni: false);
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static void Tile2x1Avx2(byte* w0, byte* w1, byte* s0, int blocks, float* tile) => Tile2(w0, w1, s0, s0, blocks, tile, two: false, vnni: false);

    /// <summary>Rows w0, w1 × token group s0 (and s1 when <paramref name="two"/>); tile gets [token 0..15][2].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile2(byte* w0, byte* w1, byte* s0, byte* s1, int blocks, float* tile, bool two, bool vnni)
    {
        float* f16 = Fp.F16Table;
        Vector256<float> acc00 = default, acc01 = default, acc10 = default, acc11 = default;
        Vector256<byte> m4 = Vector256.Create((byte)0x0F);
        for (int b = 0; b < blocks; b++, w0 += 18, w1 += 18, s0 += Q8_0Lanes.BlockBytes, s1 += Q8_0Lanes.BlockBytes)
        {
            Prefetch.Step(w0, 18);
            Prefetch.Step(w1, 18);
            Vector256<int> p00 = default, p01 = default, p10 = default, p11 = default;
            for (int k = 0; k < 4; k++)
            {
                Vector256<byte> x0 = Vector256.Create(*(uint*)(w0 + 2 + 4 * k)).AsByte();
                Vector256<byte> x1 = Vector256.Create(*(uint*)(w1 + 2 + 4 * k)).AsByte();
                Vector256<byte> lo0 = x0 & m4, hi0 = (x0.AsUInt32() >> 4).AsByte() & m4;
                Vector256<byte> lo1 = x1 & m4, hi1 = (x1.AsUInt32() >> 4).AsByte() & m4;
                Vector256<sbyte> al = Vector256.Load((sbyte*)s0 + 32 * k), ah = Vector256.Load((sbyte*)s0 + 128 + 32 * k);
                p00 = Dot(p00, lo0, hi0, al, ah, vnni);
                p10 = Dot(p10, lo1, hi1, al, ah, vnni);
                if (two)
                {
                    al = Vector256.Load((sbyte*)s1 + 32 * k); ah = Vector256.Load((sbyte*)s1 + 128 + 32 * k);
                    p01 = Dot(p01, lo0, hi0, al, ah, vnni);
                    p11 = Dot(p11, lo1, hi1, al, ah, vnni);
                }
            }
            Vector256<float> dw0 = Vector256.Create(f16[*(ushort*)w0]), dw1 = Vector256.Create(f16[*(ushort*)w1]);
            Vector256<int> off0 = Vector256.Load((int*)(s0 + Q8_0Lanes.OffsetAt));
            Vector256<float> da0 = Vector256.Load((float*)(s0 + Q8_0Lanes.ScaleAt));
            acc00 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p00 - off0), dw0 * da0, acc00);
            acc10 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p10 - off0), dw1 * da0, acc10);
            if (two)
            {
                Vector256<int> off1 = Vector256.Load((int*)(s1 + Q8_0Lanes.OffsetAt));
                Vector256<float> da1 = Vector256.Load((float*)(s1 + Q8_0Lanes.ScaleAt));
                acc01 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p01 - off1), dw0 * da1, acc01);
                acc11 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p11 - off1), dw1 * da1, acc11);
            }
        }
        TokensMajor2(acc00, acc10, tile);
        if (two) TokensMajor2(acc01, acc11, tile + 16);
    }

    /// <summary>Rows r0, r1 (lanes = tokens 0..7) into tile[token][2].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TokensMajor2(Vector256<float> r0, Vector256<float> r1, float* tile)
    {
        Vector256<float> lo = Avx.UnpackLow(r0, r1), hi = Avx.UnpackHigh(r0, r1); // [t0 t1 | t4 t5], [t2 t3 | t6 t7], 2 rows each
        lo.GetLower().Store(tile); hi.GetLower().Store(tile + 4); lo.GetUpper().Store(tile + 8); hi.GetUpper().Store(tile + 12);
    }

    /// <summary>p + the 8 lanes' (token's) Σ over 4 low-nibble and 4 high-nibble products: exact int32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot(Vector256<int> p, Vector256<byte> lo, Vector256<byte> hi, Vector256<sbyte> al, Vector256<sbyte> ah, bool vnni)
    {
        if (vnni) return AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(p, lo, al), hi, ah);
        // 16-bit pair sums ≤ 2·15·128 each, two added ≤ 7680: no saturation
        return p + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(lo, al) + Avx2.MultiplyAddAdjacent(hi, ah), Vector256<short>.One);
    }
}

/// <summary>How a GEMM forms its int8 dot products: AVX2's maddubs + madd, AVX-VNNI's vpdpbusd, or AMX tiles.</summary>
internal enum GemmForm { Avx2, AvxVnni, Amx }
