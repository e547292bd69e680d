using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// The few loops that need x86 instructions .NET 10 has no intrinsics for: AMX's tile instructions (<c>perm</c>,
/// <c>gemm</c>, used by <see cref="Quants.Amx"/>) and the exact f16 → f32 conversion <c>vcvtph2ps</c> (<c>f16dots512</c>,
/// <c>f16dots256</c>, used by <see cref="F16Rows"/>). They are <c>MachineCode.s</c> beside this file assembled
/// (<see cref="Code"/>; a test assembles the source where GNU as is present and compares the bytes), copied once into a
/// page of their own that is then made executable and never writable again. Linux on x64 only; elsewhere
/// <see cref="Page"/> is null and the callers run their C# forms.
/// </summary>
internal static unsafe partial class MachineCode
{
    /// <summary>The executable copy of <see cref="Code"/>, or null where there is none.</summary>
    public static readonly byte* Page;

    public const int PermOffset = 0, GemmOffset = 0x15, F16Dots512Offset = 0xd0, F16Dots256Offset = 0x160;

    static MachineCode()
    {
        if (!OperatingSystem.IsLinux() || !X86Base.X64.IsSupported) return;
        byte* page = (byte*)Mmap(null, PageBytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (page == (byte*)-1) return;
        Code.CopyTo(new Span<byte>(page, PageBytes));
        if (Mprotect(page, PageBytes, ProtRead | ProtExec) != 0) return;
        Page = page;
    }

    private const int PageBytes = 4096, ProtRead = 1, ProtWrite = 2, ProtExec = 4, MapPrivate = 2, MapAnonymous = 0x20;

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial void* Mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect")]
    private static partial int Mprotect(void* addr, nuint length, int prot);

    /// <summary>MachineCode.s assembled (GNU as 2.40, <c>as --64</c>), with objdump's listing.</summary>
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
        0xcc,                                                // int3
        // 00000000000000d0 <f16dots512>:
        0x4c, 0x8b, 0x07,                                    // mov r8,[rdi]
        0x4c, 0x8b, 0x4f, 0x10,                              // mov r9,[rdi+0x10]
        0x4c, 0x8b, 0x57, 0x38,                              // mov r10,[rdi+0x38]
        0x48, 0x8b, 0x47, 0x18,                              // mov rax,[rdi+0x18]
        0x4c, 0x8b, 0x5f, 0x28,                              // mov r11,[rdi+0x28]
        0xc5, 0xf8, 0x57, 0xc0,                              // vxorps xmm0,xmm0,xmm0
        0xc5, 0xf0, 0x57, 0xc9,                              // vxorps xmm1,xmm1,xmm1
        0x4c, 0x89, 0xc6,                                    // mov rsi,r8
        0x48, 0x89, 0xc2,                                    // mov rdx,rax
        0x48, 0x8b, 0x4f, 0x30,                              // mov rcx,[rdi+0x30]
        0x48, 0x85, 0xc9,                                    // test rcx,rcx
        0x74, 0x38,                                          // je 132 <f16dots512+0x62>
        0x0f, 0x18, 0x8e, 0x00, 0x10, 0x00, 0x00,            // prefetcht0 [rsi+0x1000]
        0x0f, 0x18, 0x8e, 0x30, 0x10, 0x00, 0x00,            // prefetcht0 [rsi+0x1030]
        0x62, 0xf2, 0x7d, 0x48, 0x13, 0x16,                  // vcvtph2ps zmm2,[rsi]
        0x62, 0xf2, 0x7d, 0x48, 0x13, 0x5e, 0x01,            // vcvtph2ps zmm3,[rsi+0x20]
        0x62, 0xf2, 0x6d, 0x48, 0xb8, 0x02,                  // vfmadd231ps zmm0,zmm2,[rdx]
        0x62, 0xf2, 0x65, 0x48, 0xb8, 0x4a, 0x01,            // vfmadd231ps zmm1,zmm3,[rdx+0x40]
        0x48, 0x83, 0xc6, 0x40,                              // add rsi,0x40
        0x48, 0x81, 0xc2, 0x80, 0x00, 0x00, 0x00,            // add rdx,0x80
        0x48, 0xff, 0xc9,                                    // dec rcx
        0x75, 0xc8,                                          // jne fa <f16dots512+0x2a>
        0x62, 0xd1, 0x7c, 0x48, 0x11, 0x02,                  // vmovups [r10],zmm0
        0x62, 0xd1, 0x7c, 0x48, 0x11, 0x4a, 0x01,            // vmovups [r10+0x40],zmm1
        0x49, 0x81, 0xc2, 0x80, 0x00, 0x00, 0x00,            // add r10,0x80
        0x48, 0x03, 0x47, 0x20,                              // add rax,[rdi+0x20]
        0x49, 0xff, 0xcb,                                    // dec r11
        0x75, 0x94,                                          // jne e3 <f16dots512+0x13>
        0x4c, 0x03, 0x47, 0x08,                              // add r8,[rdi+0x8]
        0x49, 0xff, 0xc9,                                    // dec r9
        0x75, 0x83,                                          // jne db <f16dots512+0xb>
        0xc5, 0xf8, 0x77,                                    // vzeroupper
        0xc3,                                                // ret
        0xcc,                                                // int3
        0xcc,                                                // int3
        0xcc,                                                // int3
        0xcc,                                                // int3
        // 0000000000000160 <f16dots256>:
        0x4c, 0x8b, 0x07,                                    // mov r8,[rdi]
        0x4c, 0x8b, 0x4f, 0x10,                              // mov r9,[rdi+0x10]
        0x4c, 0x8b, 0x57, 0x38,                              // mov r10,[rdi+0x38]
        0x48, 0x8b, 0x47, 0x18,                              // mov rax,[rdi+0x18]
        0x4c, 0x8b, 0x5f, 0x28,                              // mov r11,[rdi+0x28]
        0xc5, 0xf8, 0x57, 0xc0,                              // vxorps xmm0,xmm0,xmm0
        0xc5, 0xf0, 0x57, 0xc9,                              // vxorps xmm1,xmm1,xmm1
        0xc5, 0xe8, 0x57, 0xd2,                              // vxorps xmm2,xmm2,xmm2
        0xc5, 0xe0, 0x57, 0xdb,                              // vxorps xmm3,xmm3,xmm3
        0x4c, 0x89, 0xc6,                                    // mov rsi,r8
        0x48, 0x89, 0xc2,                                    // mov rdx,rax
        0x48, 0x8b, 0x4f, 0x30,                              // mov rcx,[rdi+0x30]
        0x48, 0x85, 0xc9,                                    // test rcx,rcx
        0x74, 0x4c,                                          // je 1de <f16dots256+0x7e>
        0x0f, 0x18, 0x8e, 0x00, 0x10, 0x00, 0x00,            // prefetcht0 [rsi+0x1000]
        0x0f, 0x18, 0x8e, 0x30, 0x10, 0x00, 0x00,            // prefetcht0 [rsi+0x1030]
        0xc4, 0xe2, 0x7d, 0x13, 0x26,                        // vcvtph2ps ymm4,[rsi]
        0xc4, 0xe2, 0x7d, 0x13, 0x6e, 0x10,                  // vcvtph2ps ymm5,[rsi+0x10]
        0xc4, 0xe2, 0x7d, 0x13, 0x76, 0x20,                  // vcvtph2ps ymm6,[rsi+0x20]
        0xc4, 0xe2, 0x7d, 0x13, 0x7e, 0x30,                  // vcvtph2ps ymm7,[rsi+0x30]
        0xc4, 0xe2, 0x5d, 0xb8, 0x02,                        // vfmadd231ps ymm0,ymm4,[rdx]
        0xc4, 0xe2, 0x55, 0xb8, 0x4a, 0x20,                  // vfmadd231ps ymm1,ymm5,[rdx+0x20]
        0xc4, 0xe2, 0x4d, 0xb8, 0x52, 0x40,                  // vfmadd231ps ymm2,ymm6,[rdx+0x40]
        0xc4, 0xe2, 0x45, 0xb8, 0x5a, 0x60,                  // vfmadd231ps ymm3,ymm7,[rdx+0x60]
        0x48, 0x83, 0xc6, 0x40,                              // add rsi,0x40
        0x48, 0x81, 0xc2, 0x80, 0x00, 0x00, 0x00,            // add rdx,0x80
        0x48, 0xff, 0xc9,                                    // dec rcx
        0x75, 0xb4,                                          // jne 192 <f16dots256+0x32>
        0xc4, 0xc1, 0x7c, 0x11, 0x02,                        // vmovups [r10],ymm0
        0xc4, 0xc1, 0x7c, 0x11, 0x4a, 0x20,                  // vmovups [r10+0x20],ymm1
        0xc4, 0xc1, 0x7c, 0x11, 0x52, 0x40,                  // vmovups [r10+0x40],ymm2
        0xc4, 0xc1, 0x7c, 0x11, 0x5a, 0x60,                  // vmovups [r10+0x60],ymm3
        0x49, 0x81, 0xc2, 0x80, 0x00, 0x00, 0x00,            // add r10,0x80
        0x48, 0x03, 0x47, 0x20,                              // add rax,[rdi+0x20]
        0x49, 0xff, 0xcb,                                    // dec r11
        0x0f, 0x85, 0x6a, 0xff, 0xff, 0xff,                  // jne 173 <f16dots256+0x13>
        0x4c, 0x03, 0x47, 0x08,                              // add r8,[rdi+0x8]
        0x49, 0xff, 0xc9,                                    // dec r9
        0x0f, 0x85, 0x55, 0xff, 0xff, 0xff,                  // jne 16b <f16dots256+0xb>
        0xc5, 0xf8, 0x77,                                    // vzeroupper
        0xc3,                                                // ret
    ];
}
