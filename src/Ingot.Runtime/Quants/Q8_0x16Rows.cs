using System.Runtime.InteropServices;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Q8_0 rows against Q8_0 tokens prepared in pairs (<see cref="VecDotQ8_0Q8_0.PreparePairs"/>) with 16 weight rows in
/// the lanes of a 512-bit vector (<c>q8_0x16dots512</c>, AVX512-VNNI machine code): per group of 16 rows each block's
/// codes are transposed once (vector l = dword l of the 16 rows, ggml's lane l), with the codes' −128 offset sums and
/// the rows' d_w, into a scratch of 1088 bytes per block; then every pair of tokens runs all the blocks with its 16
/// accumulators in registers. ggml's order fixes a conversion and an FMA per lane, row and token; <c>q8_0dots512</c>
/// also multiplies d_w · d_a per row and token and keeps its accumulators in memory across the tokens, here the
/// product is one multiply for 16 rows and nothing is stored until the row ends (storing the accumulators per block
/// cost as much as the kernel saved). Every (row, token) has <see cref="VecDotQ8_0Q8_0.V256"/>'s integer lanes and float
/// steps, so its bits.
/// Measured (the kernels alone, one thread, 2048 rows × 768 columns, AMD Zen 4, cycles per 16 rows, token and block):
/// 18.0 against 28.6 at 128 tokens (1.59×), 24.0 against 33.7 at 32, 27.3 against 33.0 at 12, 43.0 against 35.2 at 8
/// (the transposes, once per group and call, no longer paid for).
/// </summary>
internal static unsafe class Q8_0x16Rows
{
    /// <summary>Fewer tokens than this go to <c>q8_0dots512</c>, which is faster there (above).</summary>
    public const int MinTokens = 12;

    [ThreadStatic] private static ThreadBuffer t_scratch;

    /// <summary>
    /// Whether <see cref="Rows"/> runs (the machine code is here, enough tokens, at least one group of 16 rows, row
    /// offsets of a group that fit the gather's 32-bit indices).
    /// </summary>
    public static bool Runs(int tokens, int rows, nint rowBytes) => s_kernel != null && tokens >= MinTokens && rows >= 16 && rowBytes <= int.MaxValue / 16;

    /// <summary>
    /// y[t · yStride + r] for the first rows − rows % 16 rows (row stride rowBytes) and the first 2 · pairs tokens (their
    /// pairs prepared at pairs, blocks · 128 bytes apart); returns the rows done.
    /// </summary>
    public static int Rows(byte* w, nint rowBytes, int rows, byte* prepared, int pairs, int blocks, float* y, nint yStride)
    {
        Args args = default;
        args.W = w;
        args.Scratch = t_scratch.Get((nint)blocks * 1088);
        args.Prepared = prepared;
        args.Y = y;
        (args.RowBytes, args.Groups, args.PairStride, args.Pairs, args.Blocks, args.YStride) = (rowBytes, rows / 16, (nint)blocks * 128, pairs, blocks, yStride * sizeof(float));
        s_kernel(&args);
        return rows / 16 * 16;
    }

    /// <summary>Q8_0x16Args of MachineCode.Q8_0x16.s: 10 fields of 8 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Args
    {
        public byte* W;
        public nint RowBytes, Groups;
        public byte* Prepared;
        public nint PairStride, Pairs, Blocks;
        public byte* Scratch;
        public float* Y;
        public nint YStride;
    }

    private static readonly delegate* unmanaged<Args*, void> s_kernel =
        (delegate* unmanaged<Args*, void>)Kernels.MachineCode.Avx512VnniEntry(Kernels.MachineCode.Q8_0x16Dots512Offset);

    /// <summary>Whether the kernel runs here (tests assert the path they check ran).</summary>
    internal static bool MachineCodeRuns => s_kernel != null;
}
