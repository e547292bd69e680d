using System.Runtime.InteropServices;

namespace Ingot.Runtime.Quants;

/// <summary>
/// What the x16 K-quant kernels share (<c>q6_kx16dots512</c> for <see cref="Q6_Kx16Rows"/>, <c>q4_kx16dots512</c> for
/// <see cref="Q4_KQ5_Kx16Rows"/>, and <c>q5_kx16dots512</c>): their arguments, one layout, and the call per slice of at most sliceTokens tokens (each
/// kernel's scratch holds that many tokens' accumulators). Each type prepares its per-token activation sums first.
/// </summary>
internal static unsafe class KQuantX16
{
    /// <summary>
    /// y[t · yStride + r] for the first rows − rows % 16 rows (row stride rowBytes) and every token (a: Q8_K rows at
    /// aStride; the type's per-token sums at prepared, preparedStride bytes apart); returns the rows done.
    /// </summary>
    /// <remarks>For q4_kx16dots512, blockBytes: a row's super-block (144), and interleaved: w is a group of a tensor in
    /// Ingot's layout (<see cref="Formats.KQuantsX16"/>, whole groups only), whose super-blocks it reads as they are,
    /// blockBytes · 16 apart. The other kernels read neither.</remarks>
    public static int Run(delegate* unmanaged<Args*, void> kernel, int sliceTokens, byte* scratch, byte* w, nint rowBytes, int rows,
        byte* a, nint aStride, byte* prepared, nint preparedStride, int tokens, int blocks, float* y, nint yStride, int blockBytes = 0, bool interleaved = false)
    {
        Args args = default;
        args.W = w;
        args.Scratch = scratch;
        (args.Interleaved, args.BlockStride) = interleaved ? (1, blockBytes * 16) : (0, blockBytes);
        (args.RowBytes, args.Groups, args.AStride, args.PreparedStride, args.Blocks, args.YStride) = (rowBytes, rows / 16, aStride, preparedStride, blocks, yStride * sizeof(float));
        for (int t0 = 0; t0 < tokens; t0 += sliceTokens)
        {
            args.A = a + t0 * aStride;
            args.Prepared = prepared + t0 * preparedStride;
            args.Y = y + t0 * yStride;
            args.Tokens = Math.Min(sliceTokens, tokens - t0);
            kernel(&args);
        }
        return rows / 16 * 16;
    }

    /// <summary>
    /// Q6_Kx16Args, Q4_Kx16Args and Q5_Kx16Args of MachineCode.Q6_Kx16.s, .Q4_Kx16.s and .Q5_Kx16.s: 14 fields of 8
    /// bytes (q6_kx16dots512 and q5_kx16dots512 read the first 12).
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Args
    {
        public byte* W;
        public nint RowBytes, Groups;
        public byte* A;
        public nint AStride;
        public byte* Prepared;
        public nint PreparedStride, Tokens, Blocks;
        public byte* Scratch;
        public float* Y;
        public nint YStride;
        public nint Interleaved, BlockStride;
    }

    /// <summary>
    /// After an x16 kernel did the first <paramref name="done"/> rows (whole groups of 16): false when those were all the
    /// rows, else w, y and rows moved on to the rest, for the per-row kernel.
    /// </summary>
    public static bool Rest(int done, ref byte* w, nint rowBytes, ref int rows, ref float* y)
    {
        if (done == rows) return false;
        w += done * rowBytes;
        y += done;
        rows -= done;
        return true;
    }

    /// <summary>The kernel at offset where 512-bit AVX512-VNNI code may run, else null.</summary>
    public static delegate* unmanaged<Args*, void> Entry(int offset) => (delegate* unmanaged<Args*, void>)Kernels.MachineCode.Avx512VnniEntry(offset);
}
