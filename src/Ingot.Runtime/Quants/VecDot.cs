using System.Runtime.CompilerServices;
using Ingot.Formats;
using Ingot.Runtime.Kernels;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Row dot products of a quantized weight row w with an activation row a already quantized to the partner type
/// (<see cref="QuantTraits.ActivationType"/>); n = elements, a multiple of the block size. Each entry picks the widest
/// path the machine accelerates (Vector512 → Vector256 → Vector128 → scalar); the JIT/NativeAOT folds the checks.
/// F32 and F16 rows forward to <see cref="Dot"/> (the kernels generated code calls as Dot.F32 / Dot.F16F16), so a
/// float row gives the same bits whichever entry reaches it.
/// </summary>
public static unsafe class VecDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)] public static float F32F32(byte* w, byte* a, int n) => Dot.F32((float*)w, (float*)a, n);
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)] public static float F16F16(byte* w, byte* a, int n) => Dot.F16F16((Half*)w, (Half*)a, n);
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)] public static float BF16BF16(byte* w, byte* a, int n) => VecDotBF16BF16.Dot(w, a, n);
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)] public static float Q8_0Q8_0(byte* w, byte* a, int n) => VecDotQ8_0Q8_0.Dot(w, a, n);
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)] public static float Q4_0Q8_0(byte* w, byte* a, int n) => VecDotQ4_0Q8_0.Dot(w, a, n);
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)] public static float Q4_1Q8_1(byte* w, byte* a, int n) => VecDotQ4_1Q8_1.Dot(w, a, n);
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)] public static float Q5_0Q8_0(byte* w, byte* a, int n) => VecDotQ5_0Q8_0.Dot(w, a, n);
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)] public static float Q5_1Q8_1(byte* w, byte* a, int n) => VecDotQ5_1Q8_1.Dot(w, a, n);
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)] public static float IQ4_NLQ8_0(byte* w, byte* a, int n) => VecDotIQ4_NLQ8_0.Dot(w, a, n);
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)] public static float Q2_KQ8_K(byte* w, byte* a, int n) => VecDotQ2_KQ8_K.Dot(w, a, n);
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)] public static float Q3_KQ8_K(byte* w, byte* a, int n) => VecDotQ3_KQ8_K.Dot(w, a, n);
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)] public static float Q4_KQ8_K(byte* w, byte* a, int n) => VecDotQ4_KQ8_K.Dot(w, a, n);
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)] public static float Q5_KQ8_K(byte* w, byte* a, int n) => VecDotQ5_KQ8_K.Dot(w, a, n);
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)] public static float Q6_KQ8_K(byte* w, byte* a, int n) => VecDotQ6_KQ8_K.Dot(w, a, n);
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)] public static float IQ4_XSQ8_K(byte* w, byte* a, int n) => VecDotIQ4_XSQ8_K.Dot(w, a, n);

    /// <summary>The best vec-dot for a weight type (activation in <see cref="QuantTraits.ActivationType"/>).</summary>
    public static delegate*<byte*, byte*, int, float> For(GgmlType weightType) => weightType switch
    {
        GgmlType.F32 => &F32F32,
        GgmlType.F16 => &F16F16,
        GgmlType.BF16 => &BF16BF16,
        GgmlType.Q8_0 => &Q8_0Q8_0,
        GgmlType.Q4_0 => &Q4_0Q8_0,
        GgmlType.Q4_1 => &Q4_1Q8_1,
        GgmlType.Q5_0 => &Q5_0Q8_0,
        GgmlType.Q5_1 => &Q5_1Q8_1,
        GgmlType.IQ4_NL => &IQ4_NLQ8_0,
        GgmlType.Q2_K => &Q2_KQ8_K,
        GgmlType.Q3_K => &Q3_KQ8_K,
        GgmlType.Q4_K => &Q4_KQ8_K,
        GgmlType.Q5_K => &Q5_KQ8_K,
        GgmlType.Q6_K => &Q6_KQ8_K,
        GgmlType.IQ4_XS => &IQ4_XSQ8_K,
        _ => throw new NotSupportedException($"no vec-dot for weight type {weightType}"),
    };

    /// <summary>The scalar reference vec-dot for a weight type (tests, and HW-intrinsic-free builds).</summary>
    public static delegate*<byte*, byte*, int, float> ScalarFor(GgmlType weightType) => weightType switch
    {
        GgmlType.F32 => &VecDotScalar.F32F32,
        GgmlType.F16 => &VecDotScalar.F16F16,
        GgmlType.BF16 => &VecDotScalar.BF16BF16,
        GgmlType.Q8_0 => &VecDotScalar.Q8_0Q8_0,
        GgmlType.Q4_0 => &VecDotScalar.Q4_0Q8_0,
        GgmlType.Q4_1 => &VecDotScalar.Q4_1Q8_1,
        GgmlType.Q5_0 => &VecDotScalar.Q5_0Q8_0,
        GgmlType.Q5_1 => &VecDotScalar.Q5_1Q8_1,
        GgmlType.IQ4_NL => &VecDotScalar.IQ4_NLQ8_0,
        GgmlType.Q2_K => &VecDotScalar.Q2_KQ8_K,
        GgmlType.Q3_K => &VecDotScalar.Q3_KQ8_K,
        GgmlType.Q4_K => &VecDotScalar.Q4_KQ8_K,
        GgmlType.Q5_K => &VecDotScalar.Q5_KQ8_K,
        GgmlType.Q6_K => &VecDotScalar.Q6_KQ8_K,
        GgmlType.IQ4_XS => &VecDotScalar.IQ4_XSQ8_K,
        _ => throw new NotSupportedException($"no vec-dot for weight type {weightType}"),
    };
}
