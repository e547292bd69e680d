using System.Runtime.InteropServices;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// Zeroed native memory in 2 MB pages where Linux grants them (an anonymous mapping aligned to 2 MB and advised
/// MADV_HUGEPAGE, which transparent huge pages honour in their "madvise" and "always" modes), else
/// <see cref="NativeMemory"/>. For the KV cache: a batched decode step writes and reads rows of every sequence, head
/// and layer, a few lines each, scattered over tens of MB, and with 4 KB pages nearly every one of them missed the TLB
/// (perf of 8-stream decode on Zen 4: the F16 cache's new rows, 384 lines a layer, at ~55 ns a line on the main
/// thread while the other idled).
/// </summary>
internal static unsafe partial class LargePages
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
