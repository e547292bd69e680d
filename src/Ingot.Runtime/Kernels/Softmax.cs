namespace Ingot.Runtime.Kernels;

/// <summary>Softmax over one row as ggml: subtract the max, expf in float, sum in double, multiply by 1/sum.</summary>
public static unsafe class Softmax
{
    public static void InPlace(float* x, int n)
    {
        if (n <= 0) return;
        float max = float.NegativeInfinity;
        for (int i = 0; i < n; i++) if (x[i] > max) max = x[i];
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            float e = MathF.Exp(x[i] - max);
            x[i] = e;
            sum += e;
        }
        float inv = (float)(1.0 / sum);
        Vec.Scale(x, inv, x, n);
    }
}
