using System.Runtime.Intrinsics;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Q6_K rows against several Q8_K tokens with 16 weight rows in the lanes of a 512-bit vector (<c>q6_kx16dots512</c>,
/// AVX512-VNNI machine code): per group of 16 rows and super-block the rows' bits are transposed once (vector i = dword
/// i of the 16 rows) and their codes decoded once per ggml lane for all the tokens; per token and lane 8 <c>vpdpbusd</c>
/// (codes · q8, started from −32·Σq8: the codes' offset, prepared here per token), 4 scale multiplies (two groups' sums
/// fit in the words of one dword, so one <c>vpdpwssd</c> scales both: 5 % less time at 8 tokens than 8 multiplies,
/// Zen 4), one conversion and one FMA for 16 rows. The per-row kernel (<see cref="VecDotQ6_KQ8_K.Rows"/>)
/// decodes each row once for all the tokens too, but its float steps and the join of its two 256-bit halves are per
/// row and token. Every (row, token) has <see cref="VecDotQ6_KQ8_K"/>'s integer lanes and float steps, so its bits.
/// Measured (one thread, a 32000 × 768 matrix streamed from L3, the AMX Xeon of the README): 1.52× the per-row kernel at 8 tokens
/// (2.35 vs 3.57 ns per row, token and super-block), 1.26× at 4, 0.93× at 2.
/// </summary>
internal static unsafe class Q6_Kx16Rows
{
    /// <summary>Fewer tokens than this go to the per-row kernel, which is faster there (above).</summary>
    public const int MinTokens = 4;

    /// <summary>Tokens per kernel call: its scratch holds 576 bytes per token (d_w·d_a and the 8 lanes' accumulators).</summary>
    private const int SliceTokens = 32;

    /// <summary>The kernel's scratch: the 48 transposed ql/qh vectors and the scale pairs (8 vectors in 17 vectors' room), then per token d_w·d_a and 8 accumulators.</summary>
    private const int KernelScratch = 4160 + SliceTokens * 576;

    /// <summary>Whether <see cref="Rows"/> runs (the machine code is here, enough tokens, at least one group of 16 rows).</summary>
    public static bool Runs(int tokens, int rows) => s_kernel != null && tokens >= MinTokens && rows >= 16;

    /// <summary>
    /// y[t · yStride + r] for the first rows − rows % 16 rows (row stride rowBytes) and every token (a: Q8_K rows at
    /// aStride; cols a multiple of 256); returns the rows done.
    /// </summary>
    public static int Rows(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        int blocks = cols / 256;
        nint perToken = (nint)blocks * 64 * sizeof(int);
        byte* s = RowScratch.Get(KernelScratch + perToken * tokens);
        int* offsets = (int*)(s + KernelScratch);
        PrepareOffsets(a, aStride, tokens, blocks, offsets);
        return KQuantX16.Run(s_kernel, SliceTokens, s, w, rowBytes, rows, a, aStride, (byte*)offsets, perToken, tokens, blocks, y, yStride);
    }

    /// <summary>
    /// Per token and super-block, group c and lane l (bytes 4l .. 4l + 3 of the group's 32) at 8c + l: −32 · the sum of
    /// those 4 q8, where the kernel starts each lane's code sum (Σ(code − 32)·q8 = Σcode·q8 − 32·Σq8).
    /// </summary>
    private static void PrepareOffsets(byte* a, nint aStride, int tokens, int blocks, int* n)
    {
        Vector256<byte> one = Vector256.Create((byte)1);
        Vector256<short> ones = Vector256.Create((short)1);
        for (int t = 0; t < tokens; t++)
        {
            var ya = (BlockQ8_K*)(a + t * aStride);
            for (int i = 0; i < blocks; i++)
                for (int c = 0; c < 8; c++, n += 8)
                    (Int8Dot.Madd(Int8Dot.PairProducts(one, Vector256.Load(ya[i].Qs + 32 * c)), ones) * -32).Store(n);
        }
    }

    private static readonly delegate* unmanaged<KQuantX16.Args*, void> s_kernel = KQuantX16.Entry(Kernels.MachineCode.Q6_Kx16Dots512Offset);

    /// <summary>Whether the kernel runs here (tests assert the path they check ran).</summary>
    internal static bool MachineCodeRuns => s_kernel != null;
}
