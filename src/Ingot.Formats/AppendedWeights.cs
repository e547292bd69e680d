using System.Buffers.Binary;
using System.Text;

namespace Ingot.Formats;

/// <summary>
/// Weights carried inside an executable (<c>ingot build --single-file</c>): the GGUF is appended to the native
/// executable at a page-aligned offset (so the mapping keeps every alignment the GGUF promises), followed by a 32-byte
/// trailer: "INGOTWTS", the GGUF's offset and length (u64 little-endian), "INGOTEND". The executable maps the GGUF
/// from its own file. A copy that lost its end (a truncated download) is told apart from an executable without weights
/// by the ELF header: bytes past the ELF's own end mean weights were appended, so a missing trailer is an error.
/// </summary>
public static class AppendedWeights
{
    public const int TrailerBytes = 32;
    public const int Alignment = 4096;
    private static ReadOnlySpan<byte> Head => "INGOTWTS"u8;
    private static ReadOnlySpan<byte> Tail => "INGOTEND"u8;

    /// <summary>
    /// Finds the weights appended to <paramref name="path"/>: false when there are none (a plain executable or any other
    /// file). An executable whose appended weights are incomplete is an <see cref="InvalidModelFileException"/>.
    /// </summary>
    public static bool TryFind(string path, out long offset, out long length)
    {
        offset = length = 0;
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        long size = fs.Length;
        Span<byte> trailer = stackalloc byte[TrailerBytes];
        if (size >= TrailerBytes)
        {
            fs.Position = size - TrailerBytes;
            fs.ReadExactly(trailer);
            if (trailer[..8].SequenceEqual(Head) && trailer[24..].SequenceEqual(Tail))
            {
                offset = BinaryPrimitives.ReadInt64LittleEndian(trailer[8..]);
                length = BinaryPrimitives.ReadInt64LittleEndian(trailer[16..]);
                if (offset <= 0 || length <= 0 || offset % Alignment != 0 || offset > size - TrailerBytes || length != size - TrailerBytes - offset)
                    throw new InvalidModelFileException(path, "appended weights trailer", size - TrailerBytes,
                        $"it says {length} bytes of weights at offset {offset}, which does not fit a {size}-byte file");
                return true;
            }
        }
        long elfEnd = ElfEnd(fs);
        if (elfEnd > 0 && size > elfEnd)
        {
            long at = (elfEnd + Alignment - 1) / Alignment * Alignment;
            throw new InvalidModelFileException(path, "appended weights", at,
                $"the file is {size} bytes, past the executable's {elfEnd}, but has no weights trailer: it is truncated (copy it again)");
        }
        return false;
    }

    /// <summary>Appends <paramref name="gguf"/> to <paramref name="executable"/> (page-aligned), then the trailer.</summary>
    public static void Append(string executable, string gguf)
    {
        if (TryFind(executable, out _, out _)) throw new IOException($"{executable}: weights are already appended");
        using var exe = new FileStream(executable, FileMode.Open, FileAccess.ReadWrite);
        long offset = (exe.Length + Alignment - 1) / Alignment * Alignment;
        exe.SetLength(offset);
        exe.Position = offset;
        long length;
        using (var src = new FileStream(gguf, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
        {
            src.CopyTo(exe, 1 << 20);
            length = src.Length;
        }
        Span<byte> trailer = stackalloc byte[TrailerBytes];
        Head.CopyTo(trailer);
        BinaryPrimitives.WriteInt64LittleEndian(trailer[8..], offset);
        BinaryPrimitives.WriteInt64LittleEndian(trailer[16..], length);
        Tail.CopyTo(trailer[24..]);
        exe.Write(trailer);
    }

    /// <summary>Where a 64-bit little-endian ELF file's own bytes end (its section header table is last); 0 for anything else.</summary>
    private static long ElfEnd(FileStream fs)
    {
        Span<byte> h = stackalloc byte[64];
        if (fs.Length < 64) return 0;
        fs.Position = 0;
        fs.ReadExactly(h);
        if (h[0] != 0x7F || h[1] != (byte)'E' || h[2] != (byte)'L' || h[3] != (byte)'F' || h[4] != 2 || h[5] != 1) return 0; // ELF, 64-bit, little-endian
        long shoff = BinaryPrimitives.ReadInt64LittleEndian(h[40..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(h[58..]), shnum = BinaryPrimitives.ReadUInt16LittleEndian(h[60..]);
        long end = shoff + (long)shentsize * shnum;
        return shoff > 0 && end > 0 ? end : 0;
    }
}
