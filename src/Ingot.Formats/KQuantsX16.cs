namespace Ingot.Formats;

/// <summary>
/// The K-quant part of Ingot's interleaved weights layout (<see cref="Q4_0x16"/>, layout <see cref="Q4_0x16.Name"/>):
/// Q4_K and Q6_K matmul weights, 16 rows per group as for Q4_0. A tensor of R rows (R a multiple of 16) is R / 16
/// groups of 16 consecutive rows; group g holds, per 256-element super-block in order, the 16 rows' super-blocks
/// transposed by dwords: vector i (64 bytes) = dword i (bytes 4i .. 4i + 3) of each row's super-block, row r at 4r, for
/// i below the super-block's whole dwords; a 2-byte tail (Q6_K's d at byte 208) follows as 16 halves, row r at 2r.
/// <list type="bullet">
/// <item>Q4_K (144 bytes): 36 vectors, 2304 bytes: vector 0 = d | dmin, 1..3 = the 12 scale bytes, 4..35 = the codes.</item>
/// <item>Q6_K (210 bytes): 52 vectors (ql 0..31, qh 32..47, scales 48..51), then the 16 rows' d: 3360 bytes.</item>
/// </list>
/// These are the vectors the x16 kernels (<c>q4_kx16dots512</c>, <c>q6_kx16dots512</c>) transpose GGUF's rows into
/// per call, so on this layout they read them as they are. A group takes the bytes of its 16 rows in GGUF's layout and
/// starts where row 16g starts; values never change, only their places.
/// </summary>
public static unsafe class KQuantsX16
{
    public const int GroupRows = Q4_0x16.GroupRows;

    /// <summary>Whether a weight type is interleaved by this part of the layout.</summary>
    public static bool IsType(GgmlType type) => type is GgmlType.Q4_K or GgmlType.Q6_K;

    /// <summary>Bytes of one row's super-block (256 elements) of an interleaved type.</summary>
    public static int BlockBytes(GgmlType type) => type switch
    {
        GgmlType.Q4_K => 144,
        GgmlType.Q6_K => 210,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a type of Ingot's K-quant layout"),
    };

    /// <summary>GGUF-layout rows (rows a multiple of 16, cols elements each, a multiple of 256) into this layout.</summary>
    public static void Interleave(GgmlType type, byte* src, long rows, long cols, byte* dst) => Move(type, src, rows, cols, dst, toGroups: true);

    /// <summary>The inverse of <see cref="Interleave"/>: groups of this layout back into GGUF rows.</summary>
    public static void Deinterleave(GgmlType type, byte* src, long rows, long cols, byte* dst) => Move(type, dst, rows, cols, src, toGroups: false);

    /// <summary>Copies between GGUF's rows at plain and the groups at groups, in the direction toGroups says.</summary>
    private static void Move(GgmlType type, byte* plain, long rows, long cols, byte* groups, bool toGroups)
    {
        int bytes = BlockBytes(type), dwords = bytes / 4;
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
                    if (bytes % 4 == 0) continue;
                    ushort* th = (ushort*)(group + 64 * dwords + 2 * r), tp = (ushort*)(block + bytes - 2);
                    if (toGroups) *th = *tp; else *tp = *th;
                }
        }
    }
}
