namespace Ingot.Runtime.Quants;

/// <summary>
/// Q4_K and Q5_K rows against several Q8_K tokens with 16 weight rows in the lanes of a 512-bit vector
/// (<c>q4_kx16dots512</c>, <c>q5_kx16dots512</c>: AVX512-VNNI machine code), as <see cref="Q6_Kx16Rows"/> does for Q6_K:
/// per group of 16 rows and super-block the rows' codes (Q5_K's fifth bits too), scales and mins are transposed once
/// (vector i = dword i of the 16 rows) and each ggml lane's codes decoded once for all the tokens; per token and lane 8
/// <c>vpdpbusd</c>, 4 scale multiplies (two sub-blocks' sums in the words of one dword), one conversion and one FMA for
/// 16 rows, and per token and super-block the min terms. The per-row kernels (<c>q4_kdots512</c>, <c>q5_kdots512</c>)
/// decode each row once for all the tokens too, but their float steps, the join of their two 256-bit halves and their
/// min terms are per row and token. Every (row, token) has <see cref="VecDotQ4_KQ8_K"/>'s or
/// <see cref="VecDotQ5_KQ8_K"/>'s integer lanes and float steps, so its bits.
/// Measured (the kernels alone, one thread, 2048 rows × 768 columns, AMD Zen 4, cycles per row, token and super-block):
/// Q4_K 9.7 against 17.6 at 32 tokens (1.8×), 10.8 against 14.7 at 8, 14.8 against 19.3 at 2; Q5_K 2.0× at 32 tokens,
/// 1.4× at 2 and 4.
/// </summary>
internal static unsafe class Q4_KQ5_Kx16Rows
{
    /// <summary>
    /// On GGUF's rows one token goes to the per-row kernels, which keep their accumulators in registers (and ran faster
    /// in decode, the transposes included); Q4_K rows in Ingot's layout take the x16 kernel for every token count
    /// (<see cref="KQuantsX16Rows"/>).
    /// </summary>
    public const int MinTokens = 2;

    /// <summary>Tokens per kernel call; its scratch holds 896 (Q4_K) or 704 (Q5_K) bytes per token: d_w·d_a, d_a·−dmin_w, 8 lane accumulators, the min accumulators.</summary>
    private const int SliceTokens = 32;

    /// <summary>The kernels' scratch: the transposed code vectors and scale pairs (Q5_K: also its transposed qh), then the tokens'.</summary>
    private const int Q4_KScratch = 2304 + SliceTokens * 896, Q5_KScratch = 3328 + SliceTokens * 704;

    /// <summary>Whether <see cref="Q4_K"/> and <see cref="Q5_K"/> run (the machine code is here, enough tokens, at least one group of 16 rows).</summary>
    public static bool Runs(int tokens, int rows) => s_q4_k != null && tokens >= MinTokens && rows >= 16;

    /// <summary>
    /// y[t · yStride + r] for the first rows − rows % 16 Q4_K rows (row stride rowBytes) and every token (a: Q8_K rows at
    /// aStride; cols a multiple of 256); returns the rows done.
    /// </summary>
    /// <remarks>interleaved: w in Ingot's layout (<see cref="Formats.KQuantsX16"/>), rows a multiple of 16.</remarks>
    public static int Q4_K(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride, bool interleaved = false) =>
        Run(s_q4_k, Q4_KScratch, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride, 144, interleaved);

    /// <summary>As <see cref="Q4_K"/> for Q5_K rows (GGUF's layout only).</summary>
    public static int Q5_K(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) =>
        Run(s_q5_k, Q5_KScratch, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);

    /// <summary>Both kernels take each token's bsums as the 8 sub-block sums (<see cref="KQuantMachineRows.PrepareSums"/>), after their scratch.</summary>
    private static int Run(delegate* unmanaged<KQuantX16.Args*, void> kernel, int kernelScratch, byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride,
        int blockBytes = 0, bool interleaved = false)
    {
        int blocks = cols / 256;
        nint perToken = (nint)blocks * 16;
        byte* s = RowScratch.Get(kernelScratch + perToken * tokens);
        short* sums = (short*)(s + kernelScratch);
        KQuantMachineRows.PrepareSums(a, aStride, tokens, blocks, sums);
        return KQuantX16.Run(kernel, SliceTokens, s, w, rowBytes, rows, a, aStride, (byte*)sums, perToken, tokens, blocks, y, yStride, blockBytes, interleaved);
    }

    private static readonly delegate* unmanaged<KQuantX16.Args*, void> s_q4_k = KQuantX16.Entry(Kernels.MachineCode.Q4_Kx16Dots512Offset);
    private static readonly delegate* unmanaged<KQuantX16.Args*, void> s_q5_k = KQuantX16.Entry(Kernels.MachineCode.Q5_Kx16Dots512Offset);

    /// <summary>Whether the kernels run here (tests assert the path they check ran).</summary>
    internal static bool MachineCodeRuns => s_q4_k != null;
}
