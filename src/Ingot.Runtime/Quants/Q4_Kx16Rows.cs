namespace Ingot.Runtime.Quants;

/// <summary>
/// Q4_K rows against several Q8_K tokens with 16 weight rows in the lanes of a 512-bit vector (<c>q4_kx16dots512</c>,
/// AVX512-VNNI machine code), as <see cref="Q6_Kx16Rows"/> does for Q6_K: per group of 16 rows and super-block the
/// rows' codes, scales and mins are transposed once (vector i = dword i of the 16 rows) and each ggml lane's codes
/// decoded once for all the tokens; per token and lane 8 <c>vpdpbusd</c>, 4 scale multiplies (two sub-blocks' sums in
/// the words of one dword), one conversion and one FMA for 16 rows, and per token and super-block the 4 min lanes. The
/// per-row kernel (<c>q4_kdots512</c>) decodes each row once for all the tokens too, but its float steps, the join of
/// its two 256-bit halves and its min lanes are per row and token. Every (row, token) has
/// <see cref="VecDotQ4_KQ8_K"/>'s integer lanes and float steps, so its bits.
/// Measured (the kernels alone, one thread, 2048 rows × 768 columns, AMD Zen 4): 9.7 against 17.6 cycles per row,
/// token and super-block at 32 tokens (1.8×), 10.8 against 14.7 at 8, 14.8 against 19.3 at 2.
/// </summary>
internal static unsafe class Q4_Kx16Rows
{
    /// <summary>One token goes to the per-row kernel, which keeps its accumulators in registers (decode reads the weights once either way).</summary>
    public const int MinTokens = 2;

    /// <summary>Tokens per kernel call: its scratch holds 896 bytes per token (d_w·d_a, d_a·−dmin_w, 8 lane and 4 min accumulators).</summary>
    private const int SliceTokens = 32;

    /// <summary>The kernel's scratch: the 32 transposed code vectors and the 4 scale-pair vectors, then 896 bytes per token.</summary>
    private const int KernelScratch = 2304 + SliceTokens * 896;

    /// <summary>Whether <see cref="Rows"/> runs (the machine code is here, enough tokens, at least one group of 16 rows).</summary>
    public static bool Runs(int tokens, int rows) => s_kernel != null && tokens >= MinTokens && rows >= 16;

    /// <summary>
    /// y[t · yStride + r] for the first rows − rows % 16 rows (row stride rowBytes) and every token (a: Q8_K rows at
    /// aStride; cols a multiple of 256); returns the rows done.
    /// </summary>
    public static int Rows(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        int blocks = cols / 256;
        nint perToken = (nint)blocks * 16;
        byte* s = RowScratch.Get(KernelScratch + perToken * tokens);
        short* sums = (short*)(s + KernelScratch);
        KQuantMachineRows.PrepareSums(a, aStride, tokens, blocks, sums);
        return KQuantX16.Run(s_kernel, SliceTokens, s, w, rowBytes, rows, a, aStride, (byte*)sums, perToken, tokens, blocks, y, yStride);
    }

    private static readonly delegate* unmanaged<KQuantX16.Args*, void> s_kernel = KQuantX16.Entry(Kernels.MachineCode.Q4_Kx16Dots512Offset);

    /// <summary>Whether the kernel runs here (tests assert the path they check ran).</summary>
    internal static bool MachineCodeRuns => s_kernel != null;
}
