using System.Runtime.CompilerServices;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// Activation functions, faithful to ggml's CPU backend:
/// SiLU in float, silu(x) = x / (1 + exp(-x)) with ggml's vectorized exp (bit for bit, see GgmlMath); GELU is the tanh approximation looked up through a 64K-entry
/// F16 table indexed by the f16 bits of x (what llama.cpp does on x86), with y = 0 for x &lt;= -10 and y = x for
/// x &gt;= 10. <see cref="GeluExact"/> is the same tanh formula in float without the table.
/// Gated variants compute act(gate) then multiply by up (two float roundings, as ggml's two ops).
/// </summary>
public static unsafe class Activations
{
    private const float Sqrt2OverPi = 0.79788456080286535587989211986876f;
    private const float GeluCoefA = 0.044715f;

    /// <summary>ggml_v_silu: x / (1 + exp(0 − x)) with ggml's exp (<see cref="GgmlMath.Silu"/>), so the product rounds as llama.cpp's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Silu(float x) => GgmlMath.Silu(x);

    /// <summary>
    /// GELU tanh approximation in float: 0.5x(1 + tanh(√(2/π) x (1 + 0.044715 x²))), with 1 + (0.044715 x)·x as one fused
    /// multiply-add: GCC contracts it in ggml_gelu_f32 (-ffp-contract=fast, its default for C), and ggml's table holds
    /// that (one of the 37376 f16 inputs in (−10, 10) differs from the unfused form; checked against libggml).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float GeluExact(float x) => 0.5f * x * (1.0f + MathF.Tanh(Sqrt2OverPi * x * MathF.FusedMultiplyAdd(GeluCoefA * x, x, 1.0f)));

    /// <summary>Exact GELU: 0.5x(1 + erf(x / √2)) (HF's "gelu"; ggml's gelu_erf), erf in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float GeluErf(float x) => (float)(0.5 * x * (1.0 + Erf(x * 0.70710678118654752440)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Relu(float x) => x > 0.0f ? x : 0.0f;

    /// <summary>
    /// erf(x) to double precision (|error| &lt; 1.2e-16 relative): the Maclaurin series below |x| 2.5, the continued
    /// fraction of erfc above (.NET has no Math.Erf).
    /// </summary>
    public static double Erf(double x)
    {
        double ax = Math.Abs(x);
        if (ax >= 6.0) return Math.Sign(x);
        if (ax < 2.5)
        {
            // erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
            double term = ax, sum = ax, x2 = ax * ax;
            for (int n = 1; n < 60; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            return Math.Sign(x) * sum * 1.1283791670955125739;
        }
        // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))) evaluated backwards.
        double f = ax;
        for (int k = 60; k >= 1; k--) f = ax + k * 0.5 / f;
        double erfc = Math.Exp(-ax * ax) / (f * 1.7724538509055160273);
        return Math.Sign(x) * (1.0 - erfc);
    }

    /// <summary>GELU through ggml's F16 table: y = f16(gelu(f16(x))) for -10 &lt; x &lt; 10.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Gelu(float x)
    {
        if (x <= -10.0f) return 0.0f;
        if (x >= 10.0f) return x;
        ushort bits = BitConverter.HalfToUInt16Bits((Half)x);
        return (float)GeluTable.Values[bits];
    }

    /// <summary>y = silu(gate) * up (<see cref="GgmlMath.SiluMul"/>, vectorized). y may alias gate or up.</summary>
    public static void SwiGlu(float* gate, float* up, float* y, int n) => GgmlMath.SiluMul(gate, up, y, n);

    /// <summary>y = gelu(gate) * up with ggml's table GELU. y may alias gate or up.</summary>
    public static void GeGlu(float* gate, float* up, float* y, int n)
    {
        for (int i = 0; i < n; i++) y[i] = Gelu(gate[i]) * up[i];
    }

    /// <summary>y = geluExact(gate) * up (no table).</summary>
    public static void GeGluExact(float* gate, float* up, float* y, int n)
    {
        for (int i = 0; i < n; i++) y[i] = GeluExact(gate[i]) * up[i];
    }

    /// <summary>y = silu(x).</summary>
    public static void SiluRow(float* x, float* y, int n)
    {
        for (int i = 0; i < n; i++) y[i] = Silu(x[i]);
    }

    /// <summary>y = gelu(x) with ggml's table.</summary>
    public static void GeluRow(float* x, float* y, int n)
    {
        for (int i = 0; i < n; i++) y[i] = Gelu(x[i]);
    }

    /// <summary>y = geluExact(x).</summary>
    public static void GeluExactRow(float* x, float* y, int n)
    {
        for (int i = 0; i < n; i++) y[i] = GeluExact(x[i]);
    }

    /// <summary>The 64K f16 GELU table, built once on first use (~1 ms): Values[h] = f16(geluExact(f32(h))).</summary>
    private static class GeluTable
    {
        public static readonly Half[] Values = Build();

        private static Half[] Build()
        {
            var t = new Half[65536];
            for (int i = 0; i < t.Length; i++) t[i] = (Half)GeluExact((float)BitConverter.UInt16BitsToHalf((ushort)i));
            return t;
        }
    }
}
