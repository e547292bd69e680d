using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// The vector widths the kernels are compiled for and the one this machine runs (the JIT / NativeAOT fold the
/// IsHardwareAccelerated checks to constants): what a compiled model's Description reports.
/// </summary>
public static class IsaPaths
{
    /// <summary>Widest first; the scalar reference always exists.</summary>
    public static readonly string[] Compiled = ["vector512", "vector256", "vector128", "scalar"];

    public static string InUse =>
        Vector512.IsHardwareAccelerated ? "vector512" :
        Vector256.IsHardwareAccelerated ? "vector256" :
        Vector128.IsHardwareAccelerated ? "vector128" : "scalar";

    /// <summary>
    /// Whether the CPU has AVX512-VNNI (CPUID.7:ECX bit 11, which .NET does not report) with AVX-512 BW on in this
    /// process: what the machine-code Q4_0 kernels of Ingot's weights layout need, and what <c>ingot build</c>'s default
    /// layout asks of the building CPU.
    /// </summary>
    public static bool Avx512Vnni => Avx512BW.IsSupported && (X86Base.CpuId(7, 0).Ecx & (1 << 11)) != 0;

    /// <summary>An AMD Zen 4: vendor "AuthenticAMD" (CPUID 0: EBX, EDX, ECX), display family 19h, AVX-512 on (Zen 3 is family 19h without it).</summary>
    internal static bool Zen4 => X86Base.IsSupported && IsAmd() && Family() == 0x19 && Avx512F.IsSupported;

    private static bool IsAmd()
    {
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        return ebx == 0x68747541 && edx == 0x69746e65 && ecx == 0x444d4163;
    }

    /// <summary>CPUID 1's display family: the base family, plus the extended family when the base is 0xF.</summary>
    private static int Family()
    {
        int eax = X86Base.CpuId(1, 0).Eax, family = (eax >> 8) & 0xF;
        return family == 0xF ? family + ((eax >> 20) & 0xFF) : family;
    }
}
