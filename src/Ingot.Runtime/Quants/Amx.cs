using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Intel AMX (Advanced Matrix Extensions: Sapphire Rapids and later) for the int8 prefill GEMMs. .NET 10 has no AMX
/// intrinsics, so the two routines that need AMX instructions are machine code (<see cref="Code"/>, assembled from
/// <c>Amx.s</c> beside this file; a test assembles that source where GNU as is present and compares the bytes), copied
/// once into a page of their own that is then made executable and never writable again. Everything around them (the
/// weight unpacking, the float epilogue in ggml's order) is C#.
/// <list type="bullet">
/// <item><c>perm</c>: arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA), which Linux requires once per process before
/// any thread touches the tile registers;</item>
/// <item><c>gemm</c>: per 32-element block b, two 16×16 int32 tiles C[b][i] = A_i[b]·B[b] (tdpbssd, both sides signed
/// int8), where A_0, A_1 are two tiles of up to 16 tokens read straight from their Q8_0 rows (32 codes per row at a
/// stride) and B[b] is 16 weight rows' codes in AMX's pair layout (row k = dword k of each weight row, 512 bytes per
/// block); C is 2 KB per block, [C0: 16 tokens × 16 rows | C1].</item>
/// </list>
/// Used only where the CPU reports AMX-TILE and AMX-INT8, 512-bit vectors are accelerated (the epilogue), the kernel
/// grants the tile data permission, and <c>INGOT_AMX</c> is not <c>0</c> (to measure or test the AVX paths on an AMX
/// machine).
/// </summary>
internal static unsafe partial class Amx
{
    /// <summary>Whether the AMX kernels run on this machine (decided once).</summary>
    public static readonly bool Supported;

    private static readonly delegate* unmanaged<Args*, void> s_gemm;

    /// <summary>The arguments of <c>gemm</c> (Amx.s), by reference: 7 fields of 8 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Args
    {
        public byte* Config;        // 64-byte tile configuration (ldtilecfg, <see cref="Configure"/>)
        public byte* A0, A1;        // the codes of block 0 of each token tile's first row
        public nint AStride;        // bytes between token rows
        public sbyte* B;            // block 0 of the weight tile in pair layout
        public int* C;
        public nint Blocks;
    }

    /// <summary>
    /// gemm's tile shapes for token tiles of m0 and m1 rows (1..16; a tile never reads a row past its last token):
    /// tmm0/tmm1 m × 32 bytes (A), tmm2 8 × 64 (B), tmm4/tmm5 m × 64 (C).
    /// </summary>
    public static void Configure(byte* config, int m0, int m1)
    {
        new Span<byte>(config, 64).Clear();
        config[0] = 1; // palette 1
        SetTile(config, 0, (byte)m0, 32);
        SetTile(config, 1, (byte)m1, 32);
        SetTile(config, 2, 8, 64);
        SetTile(config, 4, (byte)m0, 64);
        SetTile(config, 5, (byte)m1, 64);
    }

    /// <summary>
    /// The config to pass for token tiles of m0 and m1 rows: written at config and returned when this thread's tiles are
    /// configured otherwise, else null (gemm then skips ldtilecfg, which costs about as much as a few blocks of work;
    /// the tiles stay configured between calls, as the kernel keeps a thread's AMX state across switches).
    /// </summary>
    public static byte* ConfigureOnce(byte* config, int m0, int m1)
    {
        int shape = m0 | m1 << 8;
        if (t_shape == shape) return null;
        Configure(config, m0, m1);
        t_shape = shape;
        return config;
    }

    [ThreadStatic] private static int t_shape;

    private static void SetTile(byte* config, int tile, byte rows, ushort bytesPerRow)
    {
        ((ushort*)(config + 16))[tile] = bytesPerRow;
        config[48 + tile] = rows;
    }

    public static void Gemm(Args* args) => s_gemm(args);

    static Amx()
    {
        if (!Available()) return;
        byte* page = (byte*)Mmap(null, PageBytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (page == (byte*)-1) return;
        Code.CopyTo(new Span<byte>(page, PageBytes));
        if (Mprotect(page, PageBytes, ProtRead | ProtExec) != 0) return;
        if (((delegate* unmanaged<long>)(page + PermOffset))() != 0) return; // the kernel refused (older than 5.16, or no AMX)
        s_gemm = (delegate* unmanaged<Args*, void>)(page + GemmOffset);
        Supported = true;
    }

    private static bool Available()
    {
        if (!OperatingSystem.IsLinux() || !X86Base.IsSupported || !Vector512.IsHardwareAccelerated || !Avx512F.IsSupported) return false;
        if (Environment.GetEnvironmentVariable("INGOT_AMX") == "0") return false;
        if (X86Base.CpuId(0, 0).Eax < 7) return false;
        int edx = X86Base.CpuId(7, 0).Edx;
        return (edx & (1 << 24)) != 0 && (edx & (1 << 25)) != 0; // AMX-TILE, AMX-INT8
    }

    private const int PageBytes = 4096, ProtRead = 1, ProtWrite = 2, ProtExec = 4, MapPrivate = 2, MapAnonymous = 0x20;
    private const int PermOffset = 0, GemmOffset = 0x15;

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial void* Mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect")]
    private static partial int Mprotect(void* addr, nuint length, int prot);

    /// <summary>Amx.s assembled (GNU as 2.40, <c>as --64</c>), with objdump's listing.</summary>
    internal static ReadOnlySpan<byte> Code =>
    [
        // 0000000000000000 <perm>:
        0xb8, 0x9e, 0x00, 0x00, 0x00,                        // mov eax,0x9e
        0xbf, 0x23, 0x10, 0x00, 0x00,                        // mov edi,0x1023
        0xbe, 0x12, 0x00, 0x00, 0x00,                        // mov esi,0x12
        0x0f, 0x05,                                          // syscall
        0xc3,                                                // ret
        0xcc,                                                // int3
        0xcc,                                                // int3
        0xcc,                                                // int3
        // 0000000000000015 <gemm>:
        0x48, 0x8b, 0x07,                                    // mov rax,[rdi]
        0x48, 0x85, 0xc0,                                    // test rax,rax
        0x74, 0x05,                                          // je 22 <gemm+0xd>
        0xc4, 0xe2, 0x78, 0x49, 0x00,                        // ldtilecfg [rax]
        0x48, 0x8b, 0x77, 0x08,                              // mov rsi,[rdi+0x8]
        0x48, 0x8b, 0x4f, 0x10,                              // mov rcx,[rdi+0x10]
        0x48, 0x8b, 0x57, 0x18,                              // mov rdx,[rdi+0x18]
        0x4c, 0x8b, 0x47, 0x20,                              // mov r8,[rdi+0x20]
        0x4c, 0x8b, 0x4f, 0x28,                              // mov r9,[rdi+0x28]
        0x4c, 0x8b, 0x57, 0x30,                              // mov r10,[rdi+0x30]
        0x49, 0xc7, 0xc3, 0x40, 0x00, 0x00, 0x00,            // mov r11,0x40
        0x48, 0x85, 0xc9,                                    // test rcx,rcx
        0x74, 0x55,                                          // je 9b <gemm+0x86>
        0xc4, 0xe2, 0x7b, 0x4b, 0x04, 0x16,                  // tileloadd tmm0,[rsi+rdx*1]
        0xc4, 0xe2, 0x7b, 0x4b, 0x0c, 0x11,                  // tileloadd tmm1,[rcx+rdx*1]
        0xc4, 0x82, 0x7b, 0x4b, 0x14, 0x18,                  // tileloadd tmm2,[r8+r11*1]
        0xc4, 0xe2, 0x7b, 0x49, 0xe0,                        // tilezero tmm4
        0xc4, 0xe2, 0x7b, 0x49, 0xe8,                        // tilezero tmm5
        0xc4, 0xe2, 0x6b, 0x5e, 0xe0,                        // tdpbssd tmm4,tmm0,tmm2
        0xc4, 0xe2, 0x6b, 0x5e, 0xe9,                        // tdpbssd tmm5,tmm1,tmm2
        0xc4, 0x82, 0x7a, 0x4b, 0x24, 0x19,                  // tilestored [r9+r11*1],tmm4
        0x49, 0x8d, 0x81, 0x00, 0x04, 0x00, 0x00,            // lea rax,[r9+0x400]
        0xc4, 0xa2, 0x7a, 0x4b, 0x2c, 0x18,                  // tilestored [rax+r11*1],tmm5
        0x48, 0x83, 0xc6, 0x22,                              // add rsi,0x22
        0x48, 0x83, 0xc1, 0x22,                              // add rcx,0x22
        0x49, 0x81, 0xc0, 0x00, 0x02, 0x00, 0x00,            // add r8,0x200
        0x49, 0x81, 0xc1, 0x00, 0x08, 0x00, 0x00,            // add r9,0x800
        0x49, 0xff, 0xca,                                    // dec r10
        0x75, 0xac,                                          // jne 46 <gemm+0x31>
        0xc3,                                                // ret
        0xc4, 0xe2, 0x7b, 0x4b, 0x04, 0x16,                  // tileloadd tmm0,[rsi+rdx*1]
        0xc4, 0x82, 0x7b, 0x4b, 0x14, 0x18,                  // tileloadd tmm2,[r8+r11*1]
        0xc4, 0xe2, 0x7b, 0x49, 0xe0,                        // tilezero tmm4
        0xc4, 0xe2, 0x6b, 0x5e, 0xe0,                        // tdpbssd tmm4,tmm0,tmm2
        0xc4, 0x82, 0x7a, 0x4b, 0x24, 0x19,                  // tilestored [r9+r11*1],tmm4
        0x48, 0x83, 0xc6, 0x22,                              // add rsi,0x22
        0x49, 0x81, 0xc0, 0x00, 0x02, 0x00, 0x00,            // add r8,0x200
        0x49, 0x81, 0xc1, 0x00, 0x08, 0x00, 0x00,            // add r9,0x800
        0x49, 0xff, 0xca,                                    // dec r10
        0x75, 0xcd,                                          // jne 9b <gemm+0x86>
        0xc3,                                                // ret
    ];
}
