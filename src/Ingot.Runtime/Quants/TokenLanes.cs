using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Activations rearranged for the prefill GEMMs, tokens in the vector lanes: 8 tokens per group, and a 32-byte vector
/// holds dword k (4 consecutive int8 codes) of each of the 8 tokens, so one broadcast of 4 weight bytes meets 8 tokens
/// in one vpdpbusd or maddubs and the int32 lanes come out per token. Missing tokens of the last group are zero.
/// </summary>
internal static unsafe class TokenLanes
{
    /// <summary>Token group g's 8 row pointers; tokens past the end point at <paramref name="zero"/> (≥ 64 zero bytes).</summary>
    public static void GroupRows(byte* a, nint aStride, int tokens, int g, byte* zero, byte** rows)
    {
        for (int t = 0; t < 8; t++) rows[t] = 8 * g + t < tokens ? a + (8 * g + t) * aStride : zero;
    }

    /// <summary>
    /// The 32 bytes at rows[t] + offset (zero rows: their first 32 bytes) as 8 vectors at dst: vector k = dword k of
    /// tokens 0..7 (an 8×8 transpose of int32). Returns the 16-bit pair sums w·(q[2i] + q[2i+1]) over the 8 vectors
    /// (|·| ≤ 8·2·w·128: w ≤ 8 fits), lanes 2t and 2t+1 belonging to token t.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> Transpose(byte** rows, nint offset, byte* zero, byte* dst, Vector256<byte> weight)
    {
        Vector256<int> r0 = Load(rows[0], offset, zero), r1 = Load(rows[1], offset, zero), r2 = Load(rows[2], offset, zero), r3 = Load(rows[3], offset, zero);
        Vector256<int> r4 = Load(rows[4], offset, zero), r5 = Load(rows[5], offset, zero), r6 = Load(rows[6], offset, zero), r7 = Load(rows[7], offset, zero);
        Vector256<int> t0 = Avx2.UnpackLow(r0, r1), t1 = Avx2.UnpackHigh(r0, r1), t2 = Avx2.UnpackLow(r2, r3), t3 = Avx2.UnpackHigh(r2, r3);
        Vector256<int> t4 = Avx2.UnpackLow(r4, r5), t5 = Avx2.UnpackHigh(r4, r5), t6 = Avx2.UnpackLow(r6, r7), t7 = Avx2.UnpackHigh(r6, r7);
        Vector256<long> u0 = Avx2.UnpackLow(t0.AsInt64(), t2.AsInt64()), u1 = Avx2.UnpackHigh(t0.AsInt64(), t2.AsInt64());
        Vector256<long> u2 = Avx2.UnpackLow(t1.AsInt64(), t3.AsInt64()), u3 = Avx2.UnpackHigh(t1.AsInt64(), t3.AsInt64());
        Vector256<long> u4 = Avx2.UnpackLow(t4.AsInt64(), t6.AsInt64()), u5 = Avx2.UnpackHigh(t4.AsInt64(), t6.AsInt64());
        Vector256<long> u6 = Avx2.UnpackLow(t5.AsInt64(), t7.AsInt64()), u7 = Avx2.UnpackHigh(t5.AsInt64(), t7.AsInt64());
        // u0 = [dword 0 of tokens 0..3 | dword 4 of tokens 0..3], u4 the same for tokens 4..7; u1 dwords 1/5, u2 2/6, u3 3/7
        Vector256<sbyte> v0 = Avx2.Permute2x128(u0, u4, 0x20).AsSByte(), v4 = Avx2.Permute2x128(u0, u4, 0x31).AsSByte();
        Vector256<sbyte> v1 = Avx2.Permute2x128(u1, u5, 0x20).AsSByte(), v5 = Avx2.Permute2x128(u1, u5, 0x31).AsSByte();
        Vector256<sbyte> v2 = Avx2.Permute2x128(u2, u6, 0x20).AsSByte(), v6 = Avx2.Permute2x128(u2, u6, 0x31).AsSByte();
        Vector256<sbyte> v3 = Avx2.Permute2x128(u3, u7, 0x20).AsSByte(), v7 = Avx2.Permute2x128(u3, u7, 0x31).AsSByte();
        v0.Store((sbyte*)dst); v1.Store((sbyte*)dst + 32); v2.Store((sbyte*)dst + 64); v3.Store((sbyte*)dst + 96);
        v4.Store((sbyte*)dst + 128); v5.Store((sbyte*)dst + 160); v6.Store((sbyte*)dst + 192); v7.Store((sbyte*)dst + 224);
        return Avx2.MultiplyAddAdjacent(weight, v0) + Avx2.MultiplyAddAdjacent(weight, v1) + Avx2.MultiplyAddAdjacent(weight, v2) + Avx2.MultiplyAddAdjacent(weight, v3)
             + Avx2.MultiplyAddAdjacent(weight, v4) + Avx2.MultiplyAddAdjacent(weight, v5) + Avx2.MultiplyAddAdjacent(weight, v6) + Avx2.MultiplyAddAdjacent(weight, v7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* At(byte* row, nint offset, byte* zero) => row == zero ? zero : row + offset;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Load(byte* row, nint offset, byte* zero) => Vector256.Load((int*)At(row, offset, zero));
}

/// <summary>
/// Q8_0 activations in token lanes (<see cref="TokenLanes"/>): per group of 8 tokens, per block (32 elements)
/// <see cref="BlockBytes"/>: 8 vectors, vector k = elements 4k..4k+3 of each token; then int32 off[8] =
/// 8·Σq per token (Q4_0's code offset: Σ(c − 8)·q = Σc·q − 8·Σq); then float d[8]. Blocks contiguous within a group.
/// </summary>
public static unsafe class Q8_0Lanes
{
    public const int BlockBytes = 320, OffsetAt = 256, ScaleAt = 288;

    /// <summary>Bytes the lanes of <paramref name="tokens"/> rows of <paramref name="cols"/> values take (whole groups of 8).</summary>
    public static nint Bytes(int tokens, int cols) => (nint)((tokens + 7) / 8) * (cols / 32) * BlockBytes;

    /// <summary>
    /// Bytes the generated code gives <see cref="PrepareForGemm"/> (WeightKinds.ActRowBytes of Q8_0Lanes per token,
    /// tokens rounded up to 8): 48 per token and block, the lanes' 40 and 8 for the direct kernel's table beside them.
    /// </summary>
    public static nint PreparedBytes(int tokens, int cols) => (nint)((tokens + 7) / 8) * 8 * (cols / 32) * 48;

    /// <summary>
    /// The generated code's preparation for Q4_0 weights, into s (<see cref="PreparedBytes"/>): the chunk's Q8_0 rows in
    /// token lanes when the matmuls that read them will run an AVX GEMM (<see cref="GemmQ4_0Q8_0.ReadsLanes"/>), else
    /// their scales table when they will run AMX (<see cref="AmxGemm.PrepareScales"/>, smaller than the lanes; also from
    /// <see cref="Q4_0x16AmxTiles.MinTokens"/> while a weights file in Ingot's layout is open, whose Q4_0 tiles run AMX
    /// from there), and after either (<see cref="Offsets"/>) the offsets and scales the direct kernel of Ingot's layout
    /// reads (<see cref="Q4_0x16Rows.PrepareOffsets"/>) while such a file is open and that kernel runs for this many
    /// tokens. The lanes and the table take 320 · ⌈tokens / 8⌉ + 8 · tokens bytes per block, the scales and the table
    /// 4 · (tokens + 15) + 8 · tokens: both within the 384 · ⌈tokens / 8⌉ given. (Without AMX the lanes are prepared in
    /// case a matmul in GGUF's layout reads them, and with the table there the direct kernel no longer builds it once
    /// per call: 3 % of the 8-stream decode step on Zen 4. They are left out where only the direct kernel reads Q4_0
    /// weights, <see cref="Formats.Q4_0x16.AllQ4_0Interleaved"/>: another 3 % of the main thread's samples there, the
    /// other thread idle meanwhile.)
    /// </summary>
    public static void PrepareForGemm(byte* a, nint aStride, int tokens, int cols, byte* s)
    {
        if (GemmQ4_0Q8_0.ReadsLanes(tokens) && !(Formats.Q4_0x16.AllQ4_0Interleaved && Q4_0x16Rows.DirectRuns(tokens))) Prepare(a, aStride, tokens, cols, s);
        else if (ScalesPrepared(tokens)) AmxGemm.PrepareScales(a, aStride, tokens, cols, (float*)s);
        if (Formats.Q4_0x16.Any && Q4_0x16Rows.DirectRuns(tokens)) Q4_0x16Rows.PrepareOffsets(a, aStride, tokens, cols, Offsets(s, tokens, cols));
    }

    /// <summary>Where <see cref="PrepareForGemm"/> put the direct kernel's table in s: after the lanes or the scales table, if either.</summary>
    internal static byte* Offsets(byte* s, int tokens, int cols) =>
        s + (GemmQ4_0Q8_0.ReadsLanes(tokens) ? Bytes(tokens, cols) : ScalesPrepared(tokens) ? AmxGemm.ScalesBytes(tokens, cols) : 0);

    /// <summary>Whether <see cref="PrepareForGemm"/> writes the AMX scales table for this many tokens.</summary>
    public static bool ScalesPrepared(int tokens) =>
        Q4_0AmxTiles.Runs(tokens) || (Amx.Supported && tokens >= Q4_0x16AmxTiles.MinTokens && Formats.Q4_0x16.Any);

    /// <summary>Rearranges Q8_0 rows (stride aStride, cols / 32 blocks of 34 bytes) into groups of 8 tokens at s (AVX2).</summary>
    public static void Prepare(byte* a, nint aStride, int tokens, int cols, byte* s)
    {
        int blocks = cols / 32;
        float* f16 = Fp.F16Table;
        byte** rows = stackalloc byte*[8];
        Vector256<byte> eight = Vector256.Create((byte)8);
        byte* zero = stackalloc byte[64];
        new Span<byte>(zero, 64).Clear();
        for (int g = 0; g < (tokens + 7) / 8; g++)
        {
            TokenLanes.GroupRows(a, aStride, tokens, g, zero, rows);
            for (int b = 0; b < blocks; b++, s += BlockBytes)
            {
                nint o = 34 * b;
                Vector256<short> h = TokenLanes.Transpose(rows, o + 2, zero, s, eight);
                Avx2.MultiplyAddAdjacent(h, Vector256<short>.One).Store((int*)(s + OffsetAt));
                for (int t = 0; t < 8; t++) ((float*)(s + ScaleAt))[t] = f16[*(ushort*)TokenLanes.At(rows[t], o, zero)];
            }
        }
    }
}

/// <summary>
/// The generated code's preparation for Q8_0, Q5_0 and IQ4_NL weights: the chunk's Q8_0 rows in token pairs as the
/// Q8_0 machine code reads them (<c>q8_0dots512</c>), once per matmul input instead of once per 64-row call, into s
/// (<see cref="Bytes"/>); nothing where that code will not run for this many tokens.
/// </summary>
public static unsafe class Q8_0Pairs
{
    /// <summary>Bytes the pairs of <paramref name="tokens"/> rows of <paramref name="cols"/> values take.</summary>
    public static nint Bytes(int tokens, int cols) => VecDotQ8_0Q8_0.PairsBytes(tokens, cols);

    public static void Prepare(byte* a, nint aStride, int tokens, int cols, byte* s)
    {
        if (VecDotQ8_0Q8_0.ReadsPairs(tokens)) VecDotQ8_0Q8_0.PreparePairs(a, aStride, tokens, cols, s);
    }
}
