using System.Reflection;
using System.Runtime.Intrinsics;
using Ingot.Formats;
using Ingot.Runtime.Kernels;
using Ingot.Runtime.Quants;
using Xunit;

namespace Ingot.Quants.Tests;

/// <summary>
/// Every SIMD path of every vec-dot against the scalar reference, over row lengths 0..256 in block multiples
/// (K types also 512..1024 to exercise pairs and tails), fixed seed. Paths are called directly, so the Vector512
/// path runs (emulated) even without AVX-512 and the Vector256 path even with DOTNET_EnableAVX2=0.
/// </summary>
public unsafe class SimdPathTests
{
    public static IEnumerable<object[]> Types() => QuantTraits.WeightTypesArray.Select(t => new object[] { t });

    /// <summary>Types that must have Scalar/V128/V256/V512 paths (the rest may still be scalar-only).</summary>
    private static readonly GgmlType[] Vectorized =
        [GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q6_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.IQ4_NL, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.IQ4_XS, GgmlType.F16, GgmlType.BF16];

    [Theory]
    [MemberData(nameof(Types))]
    public void EveryPathMatchesScalar(GgmlType type)
    {
        var paths = Paths(type);
        if (Vectorized.Contains(type))
            foreach (string p in new[] { "V128", "V256", "V512" })
                Assert.True(paths.ContainsKey(p), $"{type}: missing path {p}");
        paths["Dispatch"] = (nint)VecDot.For(type);

        GgmlType act = QuantTraits.ActivationType(type);
        int qk = QuantTraits.BlockSize(type) == 1 ? 32 : QuantTraits.BlockSize(type);
        int max = qk == 256 ? 1280 : 256;
        var rng = new Random(20250220 + (int)type);
        var scalar = VecDot.ScalarFor(type);
        int checkedCount = 0;
        for (int n = 0; n <= max; n += (QuantTraits.BlockSize(type) == 1 ? 8 : qk))
        {
            var x = new float[n + 1];
            var y = new float[n + 1];
            for (int i = 0; i < n; i++) { x[i] = Normal(rng) * (i % 37 == 0 ? 8f : 1f); y[i] = Normal(rng); }
            var w = new byte[QuantTraits.RowBytes(type, n) + 1];
            var a = new byte[QuantTraits.RowBytes(act, n) + 1];
            var wf = new float[n + 1];
            var af = new float[n + 1];
            fixed (float* px = x, py = y, pwf = wf, paf = af)
            fixed (byte* pw = w, pa = a)
            {
                Quantize.WeightRow(type, px, pw, n);
                Quantize.ActivationRow(act, py, pa, n);
                Dequantize.Row(type, pw, pwf, n);
                Dequantize.Row(act, pa, paf, n);
                double mag = 0;
                for (int i = 0; i < n; i++) mag += Math.Abs((double)pwf[i] * paf[i]);
                float expected = scalar(pw, pa, n);
                foreach (var (name, fp) in paths)
                {
                    float got = ((delegate*<byte*, byte*, int, float>)fp)(pw, pa, n);
                    double tol = 2e-6 * mag + 1e-6;
                    Assert.True(Math.Abs(got - expected) <= tol, $"{type} {name} n={n}: {got:R} vs scalar {expected:R} (tol {tol:g3})");
                    checkedCount++;
                }
            }
        }
        Assert.True(checkedCount > 0);
    }

    /// <summary>
    /// The types whose float order follows llama.cpp's x86 matmul (Q8_0/Q5_0/IQ4_NL: tinyBLAS lanes; Q4_0: the repacked
    /// kernels' per-block FMA; Q4_1/Q5_1: ggml's vec_dot lanes and summs; Q2_K/Q3_K/Q4_K/Q5_K/Q6_K/IQ4_XS: ggml's vec_dot lanes): every
    /// path gives the scalar reference's bits,
    /// so the next activation quantization rounds the same way on every machine.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.IQ4_NL)]
    [InlineData(GgmlType.Q4_1)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.Q2_K)]
    [InlineData(GgmlType.Q3_K)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.IQ4_XS)]
    public void GgmlOrderPathsAreBitIdentical(GgmlType type)
    {
        var paths = Paths(type);
        paths["Dispatch"] = (nint)VecDot.For(type);
        int qk = QuantTraits.BlockSize(type);
        int max = qk == 256 ? 1280 : 512;
        var rng = new Random(20250221 + (int)type);
        var scalar = VecDot.ScalarFor(type);
        for (int n = qk; n <= max; n += qk)
        {
            var (w, a) = RandomRows(type, n, rng, outliers: true);
            fixed (byte* pw = w, pa = a)
            {
                float expected = scalar(pw, pa, n);
                foreach (var (name, fp) in paths)
                {
                    float got = ((delegate*<byte*, byte*, int, float>)fp)(pw, pa, n);
                    Assert.True(BitConverter.SingleToInt32Bits(got) == BitConverter.SingleToInt32Bits(expected), $"{type} {name} n={n}: {got:R} vs scalar {expected:R}");
                }
                var rows = new float[1];
                fixed (float* pr = rows) VecDotRows.For(type)(pw, w.Length, 1, pa, a.Length, 1, n, pr, 1);
                Assert.True(BitConverter.SingleToInt32Bits(rows[0]) == BitConverter.SingleToInt32Bits(expected), $"{type} rows kernel n={n}: {rows[0]:R} vs scalar {expected:R}");
            }
        }
    }

    /// <summary>
    /// VecDot.For must run exactly the documented path (bit-identical result), so the environment-variable
    /// runs (DOTNET_EnableAVX2=0 → V128, DOTNET_EnableHWIntrinsic=0 → Scalar) really exercise those paths.
    /// </summary>
    [Theory]
    [MemberData(nameof(Types))]
    public void DispatchRunsTheWidestAcceleratedPath(GgmlType type)
    {
        var paths = Paths(type);
        // quantized types prefer V256 over V512 (measured); the float rows (F32/F16 = Kernels.Dot, BF16) and IQ4_XS
        // (its V512 with AVX-512 BW: two sub-blocks per step) take the widest
        bool prefer256 = type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.IQ4_XS);
        string expectedPath = prefer256 && Vector256.IsHardwareAccelerated ? "V256"
            : Vector512.IsHardwareAccelerated ? "V512" : Vector256.IsHardwareAccelerated ? "V256" : Vector128.IsHardwareAccelerated ? "V128" : "Scalar";
        Assert.True(paths.ContainsKey(expectedPath), $"{type}: no {expectedPath} path");
        int n = 1024;
        var (w, a) = RandomRows(type, n, new Random(11), outliers: false);
        fixed (byte* pw = w, pa = a)
        {
            float viaDispatch = VecDot.For(type)(pw, pa, n);
            float viaPath = ((delegate*<byte*, byte*, int, float>)paths[expectedPath])(pw, pa, n);
            Assert.Equal(BitConverter.SingleToInt32Bits(viaPath), BitConverter.SingleToInt32Bits(viaDispatch));
        }
    }

    internal static Dictionary<string, nint> PathsOf(GgmlType type) => Paths(type);

    private static Dictionary<string, nint> Paths(GgmlType type)
    {
        // VecDot.F32F32 / F16F16 forward to Kernels.Dot: its paths, behind byte* adapters, stand in the same table
        if (type == GgmlType.F32)
            return new() { ["Scalar"] = P(&F32Scalar), ["V128"] = P(&F32V128), ["V256"] = P(&F32V256), ["V512"] = P(&F32V512) };
        if (type == GgmlType.F16)
            return new() { ["Scalar"] = P(&F16Scalar), ["V128"] = P(&F16V128), ["V256"] = P(&F16V256), ["V512"] = P(&F16V512) };
        string suffix = GgmlTypeTraits.Name(type).ToUpperInvariant() + GgmlTypeTraits.Name(QuantTraits.ActivationType(type)).ToUpperInvariant();
        var result = new Dictionary<string, nint>();
        Type? cls = typeof(VecDot).Assembly.GetType("Ingot.Runtime.Quants.VecDot" + suffix);
        if (cls == null) return result;
        foreach (string name in new[] { "Scalar", "V128", "V256", "V512" })
        {
            MethodInfo? m = cls.GetMethod(name, BindingFlags.Public | BindingFlags.Static, [typeof(byte*), typeof(byte*), typeof(int)]);
            if (m != null && m.ReturnType == typeof(float)) result[name] = m.MethodHandle.GetFunctionPointer();
        }
        return result;
    }

    private static nint P(delegate*<byte*, byte*, int, float> f) => (nint)f;
    private static float F32Scalar(byte* w, byte* a, int n) => Dot.F32Scalar((float*)w, (float*)a, n);
    private static float F32V128(byte* w, byte* a, int n) => Dot.F32V128((float*)w, (float*)a, n);
    private static float F32V256(byte* w, byte* a, int n) => Dot.F32V256((float*)w, (float*)a, n);
    private static float F32V512(byte* w, byte* a, int n) => Dot.F32V512((float*)w, (float*)a, n);
    private static float F16Scalar(byte* w, byte* a, int n) => Dot.F16F16Scalar((Half*)w, (Half*)a, n);
    private static float F16V128(byte* w, byte* a, int n) => Dot.F16F16V128((Half*)w, (Half*)a, n);
    private static float F16V256(byte* w, byte* a, int n) => Dot.F16F16V256((Half*)w, (Half*)a, n);
    private static float F16V512(byte* w, byte* a, int n) => Dot.F16F16V512((Half*)w, (Half*)a, n);

    /// <summary>A random weight row (optionally with outliers every 37th element) and a random activation row, quantized.</summary>
    private static (byte[] W, byte[] A) RandomRows(GgmlType type, int n, Random rng, bool outliers)
    {
        GgmlType act = QuantTraits.ActivationType(type);
        var x = new float[n];
        var y = new float[n];
        for (int i = 0; i < n; i++) { x[i] = Normal(rng) * (outliers && i % 37 == 0 ? 8f : 1f); y[i] = Normal(rng); }
        var w = new byte[QuantTraits.RowBytes(type, n)];
        var a = new byte[QuantTraits.RowBytes(act, n)];
        fixed (float* px = x, py = y)
        fixed (byte* pw = w, pa = a)
        {
            Quantize.WeightRow(type, px, pw, n);
            Quantize.ActivationRow(act, py, pa, n);
        }
        return (w, a);
    }

    private static float Normal(Random r)
    {
        double u1 = 1.0 - r.NextDouble(), u2 = r.NextDouble();
        return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
