using System.Buffers.Binary;

namespace Ingot.Host.Verbs;

/// <summary>The ../shared/golden binary format the logits and embed verbs write: int32 rows, int32 cols, float32[rows][cols], little-endian.</summary>
internal static class MatrixFile
{
    /// <summary>Writes <paramref name="rows"/> rows of <paramref name="cols"/> values, row r from <paramref name="row"/>(r).</summary>
    public static void Write(string path, int rows, int cols, Func<int, ReadOnlyMemory<float>> row)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(header, rows);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], cols);
        stream.Write(header);
        var bytes = new byte[cols * sizeof(float)];
        for (int r = 0; r < rows; r++)
        {
            var values = row(r).Span;
            for (int c = 0; c < cols; c++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(c * sizeof(float)), values[c]);
            stream.Write(bytes);
        }
    }
}
