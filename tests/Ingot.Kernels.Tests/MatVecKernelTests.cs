using Ingot.Runtime.Kernels;
using Xunit;

namespace Ingot.Kernels.Tests;

public unsafe class MatVecKernelTests
{
    private delegate void Dot4F32Fn(float* w0, int cols, float* x, float* y4);
    private delegate void Dot4F16Fn(ushort* w0, int cols, float* x, float* y4);

    [Fact]
    public void FourRowKernels_AllWidths_MatchScalarDots_Cols0To256()
    {
        var rng = new Random(77);
        var f32 = new (string, Dot4F32Fn)[] { ("V256", MatVec.Dot4F32V256), ("V512", MatVec.Dot4F32V512) };
        var f16 = new (string, Dot4F16Fn)[] { ("V256", MatVec.Dot4F16F32V256), ("V512", MatVec.Dot4F16F32V512) };
        for (int cols = 0; cols <= 256; cols++)
        {
            using var w = TestData.Floats(rng, 4 * cols);
            using var wh = TestData.Halves(rng, 4 * cols);
            using var x = TestData.Floats(rng, cols);
            using var y = new NativeBuf<float>(4);
            foreach (var (name, f) in f32)
            {
                f(w.P, cols, x.P, y.P);
                for (int r = 0; r < 4; r++) Check(Dot.F32Scalar(w.P + r * cols, x.P, cols), y.P[r], w.P + r * cols, null, x.P, cols, $"F32 {name} cols {cols} row {r}");
            }
            foreach (var (name, f) in f16)
            {
                f((ushort*)wh.P, cols, x.P, y.P);
                for (int r = 0; r < 4; r++) Check(Dot.F16F32Scalar(wh.P + r * cols, x.P, cols), y.P[r], null, wh.P + r * cols, x.P, cols, $"F16 {name} cols {cols} row {r}");
            }
        }
    }

    private static void Check(float reference, float actual, float* w, Half* wh, float* x, int cols, string what)
    {
        double abs = 0;
        for (int i = 0; i < cols; i++) abs += Math.Abs((w != null ? w[i] : (float)wh[i]) * (double)x[i]);
        Assert.True(Math.Abs(reference - actual) <= 1e-6 * abs + 1e-7, $"{what}: {reference} vs {actual}");
    }
}
