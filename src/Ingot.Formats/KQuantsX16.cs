namespace Ingot.Formats;

/// <summary>
/// The K-quant part of Ingot's interleaved weights layout (<see cref="Q4_0x16"/>, layout <see cref="Q4_0x16.Name"/>):
/// Q4_K matmul weights, 16 rows per group as for Q4_0. A tensor of R rows (R a multiple of 16) is R / 16 groups of 16
/// consecutive rows; group g holds, per 256-element super-block in order, the 16 rows' super-blocks transposed by
/// dwords: vector i (64 bytes) = dword i (bytes 4i .. 4i + 3) of each row's super-block, row r at 4r: 36 vectors, 2304
/// bytes (vector 0 = d | dmin, 1..3 = the 12 scale bytes, 4..35 = the codes). These are the vectors
/// <c>q4_kx16dots512</c> transposes GGUF's rows into per call, so on this layout it reads them as they are, for one
/// token too. A group takes the bytes of its 16 rows in GGUF's layout and starts where row 16g starts; values never
/// change, only their places.
/// <para>Q5_K and Q6_K are not interleaved: given the same layout, their x16 kernels were slower at one token than
/// their per-row kernels on GGUF's rows (tried on AMD Zen 4, 110M shape: Q5_K_M decode 0.86–0.99×, the Q6_K rows of a
/// Q4_K_M file 1.29× the time), and decode is what a layout must not slow.</para>
/// </summary>
public static unsafe class KQuantsX16
{
    public const int GroupRows = Q4_0x16.GroupRows;

    /// <summary>Whether a weight type is interleaved by this part of the layout.</summary>
    public static bool IsType(GgmlType type) => type == GgmlType.Q4_K;

    /// <summary>Bytes of one row's super-block (256 elements).</summary>
    public const int BlockBytes = 144;

    /// <summary>GGUF-layout rows (rows a multiple of 16, cols elements each, a multiple of 256) into this layout.</summary>
    public static void Interleave(byte* src, long rows, long cols, byte* dst) => Move(src, rows, cols, dst, toGroups: true);

    /// <summary>The inverse of <see cref="Interleave"/>: groups of this layout back into GGUF rows.</summary>
    public static void Deinterleave(byte* src, long rows, long cols, byte* dst) => Move(dst, rows, cols, src, toGroups: false);

    /// <summary>Copies between GGUF's rows at plain and the groups at groups, in the direction toGroups says.</summary>
    private static void Move(byte* plain, long rows, long cols, byte* groups, bool toGroups)
    {
        const int bytes = BlockBytes, dwords = bytes / 4;
        long blocks = cols / 256, rowBytes = blocks * bytes;
        for (long g = 0; g < rows / GroupRows; g++)
        {
            byte* rowsOfGroup = plain + g * GroupRows * rowBytes, group = groups + g * GroupRows * rowBytes;
            for (long b = 0; b < blocks; b++, group += GroupRows * bytes)
                for (int r = 0; r < GroupRows; r++)
                {
                    byte* block = rowsOfGroup + r * rowBytes + b * bytes;
                    for (int i = 0; i < dwords; i++)
                    {
                        uint* v = (uint*)(group + 64 * i + 4 * r), p = (uint*)(block + 4 * i);
                        if (toGroups) *v = *p; else *p = *v;
                    }
                }
        }
    }
}
