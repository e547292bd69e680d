using System.Runtime.InteropServices;

namespace Ingot.Formats;

/// <summary>
/// Zeroed native memory in 2 MB pages where Linux grants them (an anonymous mapping aligned to 2 MB and advised
/// MADV_HUGEPAGE, which transparent huge pages honour in their "madvise" and "always" modes), else
/// <see cref="NativeMemory"/>. For the KV cache: a batched decode step writes and reads rows of every sequence, head
/// and layer, a few lines each, scattered over tens of MB, and with 4 KB pages nearly every one of them missed the TLB
/// (perf of 8-stream decode on Zen 4: the F16 cache's new rows, 384 lines a layer, at ~55 ns a line on the main
/// thread while the other idled). For the weights (<see cref="GgufFile.Open(string, long, long, bool)"/>): a decode
/// step streams all of them, and a file's pages are 4 KB (ext4 gives a read-only mapping no huge pages); on Zen 4 one
/// core read 1B-shape Q4_0 weights at 16.6–20.5 GB/s from the mapping and 24.9–26.3 from a copy in 2 MB pages.
/// </summary>
public static unsafe partial class LargePages
{
    private const nuint HugeBytes = 2 << 20;

    /// <summary>
    /// At least <paramref name="bytes"/> of zeroed memory, 64-byte aligned (2 MB where mapped); <paramref name="mapping"/>
    /// and <paramref name="mappedBytes"/> are what <see cref="Free"/> takes back (mapping null: NativeMemory's).
    /// </summary>
    public static byte* Alloc(nuint bytes, out void* mapping, out nuint mappedBytes)
    {
        mapping = null;
        mappedBytes = 0;
        if (OperatingSystem.IsLinux() && bytes >= HugeBytes)
        {
            // 2 MB more than asked, so that an aligned start fits whatever address the kernel picks
            nuint length = (bytes + 2 * HugeBytes - 1) & ~(HugeBytes - 1);
            void* p = Mmap(null, length, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
            if (p != (void*)-1)
            {
                byte* start = (byte*)(((nuint)p + HugeBytes - 1) & ~(HugeBytes - 1));
                _ = Madvise(start, (bytes + HugeBytes - 1) & ~(HugeBytes - 1), MadvHugePage); // advice only: 4 KB pages if refused
                mapping = p;
                mappedBytes = length;
                return start; // an anonymous mapping reads as zeros
            }
        }
        byte* q = (byte*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(q, bytes);
        return q;
    }

    /// <summary>
    /// Whether a copy of <paramref name="bytes"/> in 2 MB pages is worth making: Linux with transparent huge pages not
    /// off, at least one such page, and at most 3/4 of the memory available now (the file's pages in the page cache can
    /// be dropped; the copy cannot, so a model near the machine's memory stays mapped).
    /// </summary>
    public static bool Worthwhile(long bytes)
    {
        if (!OperatingSystem.IsLinux() || bytes < (long)HugeBytes) return false;
        try
        {
            const string Thp = "/sys/kernel/mm/transparent_hugepage/enabled";
            if (!File.Exists(Thp) || File.ReadAllText(Thp).Contains("[never]", StringComparison.Ordinal)) return false;
            foreach (string line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                {
                    string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries); // "MemAvailable:", kB, "kB"
                    return f.Length >= 2 && long.TryParse(f[1], out long kb) && bytes <= kb * 1024 / 4 * 3;
                }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return false;
    }

    /// <summary>
    /// Bytes [offset, offset + length) of an open file, read (not mapped) into <see cref="Alloc"/>'s memory: the
    /// destination takes one fault per 2 MB page where a mapping's copy would take one per 4 KB source page.
    /// </summary>
    public static byte* Read(Microsoft.Win32.SafeHandles.SafeFileHandle file, long offset, long length, out void* mapping, out nuint mappedBytes)
    {
        byte* p = Alloc((nuint)length, out mapping, out mappedBytes);
        try
        {
            // 64 MB pieces on every core: the kernel's copy out of the page cache and the zeroing of each new 2 MB page
            // run on the reading thread, so one thread took 0.6-1.2 s for 760 MB
            const long Piece = 64 << 20;
            long pieces = (length + Piece - 1) / Piece;
            Parallel.For(0, pieces, i =>
            {
                long start = i * Piece, end = Math.Min(length, start + Piece);
                for (long done = start; done < end;)
                {
                    int n = RandomAccess.Read(file, new Span<byte>(p + done, (int)(end - done)), offset + done);
                    if (n <= 0) throw new EndOfStreamException($"the file ended {length - done} bytes before its GGUF");
                    done += n;
                }
            });
            return p;
        }
        catch (AggregateException e) when (e.InnerException is IOException) // EndOfStreamException among them
        {
            Free(p, mapping, mappedBytes);
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
        catch
        {
            Free(p, mapping, mappedBytes);
            throw;
        }
    }

    /// <summary>Frees what <see cref="Alloc"/> returned (start) with the mapping it gave.</summary>
    public static void Free(byte* start, void* mapping, nuint mappedBytes)
    {
        if (mapping != null) _ = Munmap(mapping, mappedBytes);
        else NativeMemory.AlignedFree(start);
    }

    private const int ProtRead = 1, ProtWrite = 2, MapPrivate = 2, MapAnonymous = 0x20, MadvHugePage = 14;

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial void* Mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(void* addr, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* addr, nuint length, int advice);
}
