using Ingot.Formats;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Q4_K rows of a tensor in Ingot's interleaved layout (<see cref="KQuantsX16"/>: per 16-row group and super-block the
/// rows already transposed by dwords). Where the x16 machine code runs (AVX512-VNNI) a tile of whole groups goes to it
/// for any token count, reading the groups as they are: the transposes it does per call on GGUF's rows are gone, which
/// is what makes it the faster kernel down to one token (decode; the per-row kernel's scalar scale unpacking is what it
/// beats). Otherwise (AMX tiles, no AVX512-VNNI, a tile that does not cover whole groups) the tile's groups are put
/// back into GGUF's layout in a scratch buffer and take the GGUF kernels. Every (row, token) has the vec-dot's bits
/// either way.
/// </summary>
internal static unsafe class KQuantsX16Rows
{
    /// <summary>Rows [0, rows) of an interleaved Q4_K tensor (region) at w, as <see cref="VecDotRows.Q4_KQ8_KTiles"/>.</summary>
    public static void Rows(in Q4_0x16.Region region, byte* w, nint rowBytes, int rows, byte* a, byte* tiles, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        nint groupBytes = KQuantsX16.GroupRows * rowBytes, skip = region.TileSkip(GgmlType.Q4_K, w, rowBytes, rows);
        if (skip == 0 && rows % KQuantsX16.GroupRows == 0 && DirectRuns(tokens))
        {
            Q4_KQ5_Kx16Rows.Q4_K(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride, interleaved: true);
            return;
        }
        int first = (int)(skip / rowBytes), groups = (first + rows + KQuantsX16.GroupRows - 1) / KQuantsX16.GroupRows;
        byte* tile = RowScratch.GetForWeights(groups * groupBytes);
        KQuantsX16.Deinterleave(w - skip, groups * KQuantsX16.GroupRows, cols, tile);
        // not a registered region: the GGUF kernels, no recursion
        VecDotRows.Q4_KQ8_KTiles(tile + first * rowBytes, rowBytes, rows, a, tiles, aStride, tokens, cols, y, yStride);
    }

    /// <summary>Whether a call of whole groups with this many tokens runs the x16 kernel on the groups as they are.</summary>
    internal static bool DirectRuns(int tokens) => !KQuantAmx.Runs(tokens) && Q4_KQ5_Kx16Rows.MachineCodeRuns;
}
