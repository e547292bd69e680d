using System.Runtime.Intrinsics;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// RMSNorm and LayerNorm over one row of n floats, numerically as ggml's CPU backend:
/// sums accumulated in double from float products, the mean / variance rounded to float, scale = 1/sqrtf(. + eps),
/// then y = (x * scale) * weight (ggml runs the norm and the weight multiply as two ops, so two float roundings).
/// x and y may alias.
/// </summary>
public static unsafe class Norms
{
    public static void RmsNorm(float* x, float* weight, float* y, int n, float eps)
    {
        float mean = (float)(SumOfSquares(x, n) / n);
        float scale = 1.0f / MathF.Sqrt(mean + eps);
        ScaleMul(x, scale, weight, y, n);
    }

    /// <summary>Sum of x[i]*x[i] (each product rounded to float, as ggml) accumulated in double.</summary>
    public static double SumOfSquares(float* x, int n)
    {
        int i = 0;
        double s = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<double> a0 = default, a1 = default;
            for (; i <= n - 8; i += 8)
            {
                Vector256<float> v = Vector256.Load(x + i);
                Vector256<float> sq = v * v;
                a0 += Vector256.WidenLower(sq);
                a1 += Vector256.WidenUpper(sq);
            }
            s = Vector256.Sum(a0 + a1);
        }
        for (; i < n; i++) s += (double)(x[i] * x[i]);
        return s;
    }

    /// <summary>y = (x * scale) * weight; weight may be null (no weight).</summary>
    public static void ScaleMul(float* x, float scale, float* weight, float* y, int n)
    {
        int i = 0;
        if (weight == null)
        {
            Vec.Scale(x, scale, y, n);
            return;
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(scale);
            for (; i <= n - 8; i += 8) Vector256.Store(Vector256.Load(x + i) * s * Vector256.Load(weight + i), y + i);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var s = Vector128.Create(scale);
            for (; i <= n - 4; i += 4) Vector128.Store(Vector128.Load(x + i) * s * Vector128.Load(weight + i), y + i);
        }
        for (; i < n; i++) y[i] = x[i] * scale * weight[i];
    }

    /// <summary>
    /// LayerNorm: mean = (float)(Σx / n) (double sum), v = x - mean, var = (float)(Σv² / n) (double sum, biased),
    /// y = (v * 1/sqrtf(var + eps)) * weight + bias. weight and bias may be null. x and y may alias.
    /// </summary>
    public static void LayerNorm(float* x, float* weight, float* bias, float* y, int n, float eps)
    {
        double sum = 0;
        for (int i = 0; i < n; i++) sum += x[i];
        float mean = (float)(sum / n);
        double sum2 = 0;
        for (int i = 0; i < n; i++)
        {
            float v = x[i] - mean;
            y[i] = v;
            sum2 += (double)(v * v);
        }
        float variance = (float)(sum2 / n);
        float scale = 1.0f / MathF.Sqrt(variance + eps);
        for (int i = 0; i < n; i++)
        {
            float v = y[i] * scale;
            if (weight != null) v *= weight[i];
            if (bias != null) v += bias[i];
            y[i] = v;
        }
    }
}
