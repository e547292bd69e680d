using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// The few loops that need x86 instructions .NET 10 has no intrinsics for: AMX's tile instructions (<c>perm</c>,
/// <c>gemm</c>, used by <see cref="Quants.Amx"/>) and the exact f16 → f32 conversion <c>vcvtph2ps</c> (<c>f16dots512</c>,
/// <c>f16dots256</c>, <c>f16tile512</c>, used by <see cref="F16Rows"/>) and 512-bit <c>vpdpbusd</c> (AVX512-VNNI: <c>q4_0x16dot512</c>, <c>q4_0x16x4dot512</c>, <c>q4_0x16x8dot512</c>, used by
/// <see cref="Quants.Q4_0x16Rows"/>; <c>q8_0dots512</c>, used by the Q8_0 rows kernel) and 512-bit <c>vpdpwssd</c> (<c>q6_kdots512</c>, <c>q4_kdots512</c>, <c>q5_kdots512</c>, used by the Q6_K, Q4_K and Q5_K rows
/// kernels; <c>q6_kx16dots512</c>, used by <see cref="Quants.Q6_Kx16Rows"/>; <c>q4_kx16dots512</c> and <c>q5_kx16dots512</c>, used by <see cref="Quants.Q4_KQ5_Kx16Rows"/>; <c>q8_0x16dots512</c>, used by <see cref="Quants.Q8_0x16Rows"/>) and a run of <c>vcvtph2ps</c> and <c>vcvtps2ph</c> (<c>f16widen512</c>,
/// <c>f32narrow512</c>, <c>f32roundf16_512</c>, used by <see cref="Vec.Convert"/>; <c>f32narrow512nt</c>, used by <see cref="KvCache"/>). They are <c>MachineCode.s</c>, <c>MachineCode.Q4_0x16.s</c>, <c>MachineCode.Q8_0.s</c>, <c>MachineCode.KQuants.s</c>, <c>MachineCode.Q6_Kx16.s</c>, <c>MachineCode.F16Widen.s</c>, <c>MachineCode.Q4_Kx16.s</c>, <c>MachineCode.Q8_0x16.s</c> and <c>MachineCode.Q5_Kx16.s</c> beside this file
/// assembled in one run (<see cref="CodeMain"/>, <see cref="CodeQ4_0x16"/>, <see cref="CodeQ8_0"/>, <see cref="CodeQ6_K"/>, <see cref="CodeQ4_KQ5_K"/>, <see cref="CodeQ6_Kx16"/>, <see cref="CodeF16Widen"/>, <see cref="CodeQ4_Kx16"/>, <see cref="CodeQ8_0x16"/> and <see cref="CodeQ5_Kx16"/>, split at
/// <c>q4_0x16dot512</c>, <c>q8_0dots512</c>, <c>q6_kdots512</c>, <c>q4_kdots512</c>, <c>q6_kx16dots512</c>, <c>f16widen512</c>, <c>q4_kx16dots512</c>, <c>q8_0x16dots512</c> and <c>q5_kx16dots512</c>, in generated files of their own; a test assembles the sources where GNU as is present and compares the bytes), copied once into
/// pages of their own that are then made executable and never writable again. Linux on x64 only; elsewhere
/// <see cref="Page"/> is null and the callers run their C# forms.
/// </summary>
internal static unsafe partial class MachineCode
{
    /// <summary>The executable copy of <see cref="CodeMain"/>, <see cref="CodeQ4_0x16"/>, <see cref="CodeQ8_0"/>, <see cref="CodeQ6_K"/>, <see cref="CodeQ4_KQ5_K"/>, <see cref="CodeQ6_Kx16"/>, <see cref="CodeF16Widen"/>, <see cref="CodeQ4_Kx16"/>, <see cref="CodeQ8_0x16"/> and <see cref="CodeQ5_Kx16"/> one after the other, or null where there is none.</summary>
    public static readonly byte* Page;

    public const int PermOffset = 0, GemmOffset = 0x15, F16Dots512Offset = 0xd0, F16Dots256Offset = 0x170, F16Tile512Offset = 0x240, Q4_0x16Dot512Offset = 0x450,
        Q4_0x16x4Dot512Offset = 0x5f0, Q4_0x16x8Dot512Offset = 0x950, Q8_0Dots512Offset = 0xf20, Q6_KDots512Offset = 0x1580, Q4_KDots512Offset = 0x1a70,
        Q5_KDots512Offset = 0x1ff0, Q6_Kx16Dots512Offset = 0x2370, F16Widen512Offset = 0x2c4b, F32Narrow512Offset = 0x2c7d, F32RoundF16_512Offset = 0x2cb9,
        F32Narrow512NtOffset = 0x2d08, Q4_Kx16Dots512Offset = 0x2d50, Q8_0x16Dots512Offset = 0x37f0, Q5_Kx16Dots512Offset = 0x3fb0;

    static MachineCode()
    {
        if (!OperatingSystem.IsLinux() || !X86Base.X64.IsSupported) return;
        byte* page = (byte*)Mmap(null, PageBytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (page == (byte*)-1) return;
        int at = Copy(CodeMain, page, 0);
        at = Copy(CodeQ4_0x16, page, at);
        at = Copy(CodeQ8_0, page, at);
        at = Copy(CodeQ6_K, page, at);
        at = Copy(CodeQ4_KQ5_K, page, at);
        at = Copy(CodeQ6_Kx16, page, at);
        at = Copy(CodeF16Widen, page, at);
        at = Copy(CodeQ4_Kx16, page, at);
        at = Copy(CodeQ8_0x16, page, at);
        Copy(CodeQ5_Kx16, page, at);
        if (!Q4_0x16DecodePrefetches()) DropQ4_0x16DecodePrefetches(page);
        if (Mprotect(page, PageBytes, ProtRead | ProtExec) != 0) return;
        Page = page;
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            F16Widen512 = (delegate* unmanaged[SuppressGCTransition]<Half*, float*, nint, void>)(page + F16Widen512Offset);
            F32Narrow512 = (delegate* unmanaged[SuppressGCTransition]<float*, Half*, nint, void>)(page + F32Narrow512Offset);
            F32RoundF16_512 = (delegate* unmanaged[SuppressGCTransition]<float*, float*, nint, void>)(page + F32RoundF16_512Offset);
            F32Narrow512Nt = (delegate* unmanaged[SuppressGCTransition]<float*, Half*, nint, void>)(page + F32Narrow512NtOffset);
        }
    }

    /// <summary>Copies code to page + at; returns the offset after it.</summary>
    private static int Copy(ReadOnlySpan<byte> code, byte* page, int at)
    {
        code.CopyTo(new Span<byte>(page + at, PageBytes - at));
        return at + code.Length;
    }

    /// <summary>
    /// q4_0x16dot512's software prefetches (its q4x16_block's <c>ahead</c>): 12 instructions of 7 bytes from this offset,
    /// <c>prefetcht0</c> 24 blocks ahead then <c>prefetcht2</c> 64 blocks ahead (MachineCodeTests checks them against the
    /// assembler's listing).
    /// </summary>
    public const int Q4_0x16Dot512PrefetchOffset = 0x481, Q4_0x16Dot512Prefetches = 12, PrefetchBytes = 7;

    /// <summary>
    /// Whether the one-token Q4_0 x16 kernel keeps its software prefetches: not on AMD Zen 4 (family 19h with AVX-512),
    /// where its stream, one contiguous run of 16-row blocks per thread, is what the hardware prefetchers follow best
    /// and the prefetches only cost: 1B-shape Q4_0 decode in Ingot's layout, 2 threads, alternating, 38.8-52.5 t/s
    /// with NOPs vs 36.3-37.3 with the prefetches (L1-only or L2-only prefetching measured in between), 110M-shape
    /// tg64 +5-10 %. Elsewhere they stay (the machines they were tuned on). <c>INGOT_X16_PREFETCH</c> = 0 | 1 overrides,
    /// to measure either way on any machine.
    /// </summary>
    internal static bool Q4_0x16DecodePrefetches()
    {
        string? env = Environment.GetEnvironmentVariable("INGOT_X16_PREFETCH");
        if (env == "0") return false;
        if (env == "1") return true;
        return !IsaPaths.Zen4;
    }

    /// <summary>Overwrites q4_0x16dot512's prefetches in the (still writable) page with 7-byte NOPs (<c>nop dword [rax + 0]</c>).</summary>
    internal static void DropQ4_0x16DecodePrefetches(byte* page)
    {
        ReadOnlySpan<byte> nop7 = [0x0f, 0x1f, 0x80, 0, 0, 0, 0];
        for (int i = 0; i < Q4_0x16Dot512Prefetches; i++) Copy(nop7, page, Q4_0x16Dot512PrefetchOffset + i * PrefetchBytes);
    }

    /// <summary>
    /// The routine at offset where it may run 512-bit AVX512-VNNI code (the page exists, 512-bit vectors are on in this
    /// process and the CPU has AVX512-VNNI), else null: the x16 and K-quant kernels' common condition.
    /// </summary>
    public static byte* Avx512VnniEntry(int offset) =>
        Page != null && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && IsaPaths.Avx512Vnni ? Page + offset : null;

    /// <summary>
    /// f16widen512, f32narrow512 and f32roundf16_512 where 512-bit code may run (the page exists, 512-bit vectors are on
    /// in this process, AVX-512F), else null. Called without the GC transition: they run a few hundred cycles at most
    /// and never call back, and the attention of an 8-stream decode step calls them some 30 000 times.
    /// </summary>
    public static readonly delegate* unmanaged[SuppressGCTransition]<Half*, float*, nint, void> F16Widen512;
    public static readonly delegate* unmanaged[SuppressGCTransition]<float*, Half*, nint, void> F32Narrow512;
    public static readonly delegate* unmanaged[SuppressGCTransition]<float*, float*, nint, void> F32RoundF16_512;

    /// <summary>f32narrow512nt (non-temporal stores, 32-byte aligned halves; the caller fences) where f32narrow512 runs, else null.</summary>
    public static readonly delegate* unmanaged[SuppressGCTransition]<float*, Half*, nint, void> F32Narrow512Nt;

    private const int PageBytes = 20480 /* five pages: the code is past 16 KB (it ends before 0x4a50) */, ProtRead = 1, ProtWrite = 2, ProtExec = 4, MapPrivate = 2, MapAnonymous = 0x20;

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial void* Mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect")]
    private static partial int Mprotect(void* addr, nuint length, int prot);
}
