using System.Runtime.Intrinsics;

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
}
