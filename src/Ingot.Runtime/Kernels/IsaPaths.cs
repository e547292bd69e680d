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
}
