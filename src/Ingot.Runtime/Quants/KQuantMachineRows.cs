using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Quants;

/// <summary>
/// The driver of the Q4_K and Q5_K rows kernels in machine code (<c>q4_kdots512</c>, <c>q5_kdots512</c> in
/// MachineCode.KQuants.s): each ends every (row, token) as its type's vec-dot does and stores it, with one row's accumulators,
/// 64 bytes per token of a slice, in <see cref="RowScratch"/> (q4_kdots512 keeps one token's in registers); the tokens in
/// <see cref="TokenSlices"/> of at least 8.
/// </summary>
internal static unsafe class KQuantMachineRows
{

    /// <summary>The entry where 512-bit vectors are on and the CPU has AVX512-VNNI, else null.</summary>
    public static delegate* unmanaged<Args*, void> Entry(int offset) =>
        (delegate* unmanaged<Args*, void>)Kernels.MachineCode.Avx512VnniEntry(offset);

    public static void Run(delegate* unmanaged<Args*, void> kernel, byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        int blocks = cols / 256, slice = Math.Min(tokens, TokenSlices.Tokens(blocks * 292, 8));
        Args args = default;
        args.W = w;
        args.Scratch = RowScratch.Get((nint)slice * 64 + (nint)tokens * blocks * 16);
        args.Sums = (short*)(args.Scratch + (nint)slice * 64);
        PrepareSums(a, aStride, tokens, blocks, args.Sums);
        (args.RowBytes, args.Rows, args.AStride, args.Blocks, args.YStride, args.SumsStride) = (rowBytes, rows, aStride, blocks, yStride * sizeof(float), blocks * 16);
        short* sums = args.Sums;
        for (int t0 = 0; t0 < tokens; t0 += slice)
        {
            args.A = a + t0 * aStride;
            args.Sums = sums + (nint)t0 * blocks * 8;
            args.Y = y + t0 * yStride;
            args.Tokens = Math.Min(slice, tokens - t0);
            kernel(&args);
        }
    }

    /// <summary>
    /// Each token's bsums as the 8 sub-block sums the min lanes take (phaddw: the vec-dot's MinPairs), 8 words per token
    /// and super-block at sums, once per call.
    /// </summary>
    public static void PrepareSums(byte* a, nint aStride, int tokens, int blocks, short* sums)
    {
        for (int t = 0; t < tokens; t++)
            for (int i = 0; i < blocks; i++)
            {
                short* bsums = ((BlockQ8_K*)(a + t * aStride))[i].BSums;
                Ssse3.HorizontalAdd(Vector128.Load(bsums), Vector128.Load(bsums + 8)).Store(sums + 8 * ((nint)t * blocks + i));
            }
    }

    /// <summary>Q4_KArgs (and Q5_KArgs) of MachineCode.KQuants.s: 12 fields of 8 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Args
    {
        public byte* W;
        public nint RowBytes, Rows;
        public byte* A;
        public nint AStride, Tokens, Blocks;
        public byte* Scratch;
        public float* Y;
        public nint YStride;
        public short* Sums;
        public nint SumsStride;
    }
}
