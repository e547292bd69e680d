using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// F16 weight rows · f32 activations (f16 activations widened once, exactly), each result with
/// <see cref="Dot.F16F16Widened"/>'s bits. Where <see cref="MachineCode"/> runs, the main loop over 32-element steps is
/// <c>f16dots512</c> / <c>f16dots256</c>: one <c>vcvtph2ps</c> per 16 (8) weights, where the C# forms spend 8–11
/// integer instructions on the conversion, which bound F16 decode. The machine code keeps the C# loop's accumulators and
/// their order and returns them; the tail and the horizontal sum are <see cref="Dot"/>'s own (its *Tail methods).
/// </summary>
internal static unsafe class F16Rows
{
    /// <summary>F16Args of MachineCode.s: 8 fields of 8 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Args
    {
        public Half* W;
        public nint RowBytes, Rows;
        public float* X;
        public nint TokenBytes, Tokens, Steps;
        public float* Out;
    }

    /// <summary>The loop for this process's vector width, or null (decided once).</summary>
    private static readonly delegate* unmanaged<Args*, void> s_dots = Choose();

    /// <summary>Whether <see cref="Rows"/> runs machine code here (tests assert the path they check ran).</summary>
    internal static bool MachineCodeRuns => s_dots != null;

    /// <summary>
    /// y[t·yStride + r] = row r of w (cols halves, rowBytes apart) · xw[t·cols ..] for r &lt; rows, t &lt; tokens.
    /// </summary>
    public static void Rows(Half* w, nint rowBytes, int rows, float* xw, int tokens, int cols, float* y, nint yStride)
    {
        if (s_dots == null || cols < 32)
        {
            for (int r = 0; r < rows; r++, w = (Half*)((byte*)w + rowBytes))
                for (int t = 0; t < tokens; t++)
                    y[t * yStride + r] = Dot.F16F16Widened(w, xw + (nint)t * cols, cols);
            return;
        }
        // 32 floats of accumulators per (row, token); calls of up to 64 pairs keep them in 8 KB (L1)
        const int Pairs = 64;
        float* acc = stackalloc float[Pairs * 32];
        Args args = default;
        args.RowBytes = rowBytes;
        args.TokenBytes = (nint)cols * sizeof(float);
        args.Steps = cols / 32;
        args.Out = acc;
        int rowsPerCall = Math.Max(1, Pairs / tokens), tokensPerCall = Math.Min(tokens, Pairs);
        for (int r0 = 0; r0 < rows; r0 += rowsPerCall)
        {
            int n = Math.Min(rowsPerCall, rows - r0);
            for (int t0 = 0; t0 < tokens; t0 += tokensPerCall)
            {
                int m = Math.Min(tokensPerCall, tokens - t0);
                args.W = (Half*)((byte*)w + r0 * rowBytes);
                args.Rows = n;
                args.X = xw + (nint)t0 * cols;
                args.Tokens = m;
                s_dots(&args);
                for (int r = 0; r < n; r++)
                    for (int t = 0; t < m; t++)
                    {
                        Half* row = (Half*)((byte*)w + (r0 + r) * rowBytes);
                        float* x = xw + (nint)(t0 + t) * cols, a = acc + (r * m + t) * 32;
                        y[(t0 + t) * yStride + r0 + r] = Vector512.IsHardwareAccelerated
                            ? Dot.F16F16WidenedV512Tail(row, x, cols, cols & ~31, Vector512.Load(a), Vector512.Load(a + 16))
                            : Dot.F16F32V256Tail(row, x, cols, cols & ~31, Vector256.Load(a), Vector256.Load(a + 8), Vector256.Load(a + 16), Vector256.Load(a + 24));
                    }
            }
        }
    }

    // The machine code's fused multiply-adds are MultiplyAddEstimate's only where FMA is on; the 256-bit form needs F16C
    // (CPUID.1:ECX bit 29, which every x86-64-v3 CPU has), which .NET does not report.
    private static delegate* unmanaged<Args*, void> Choose()
    {
        byte* page = MachineCode.Page;
        if (page == null || !Fma.IsSupported) return null;
        if (Vector512.IsHardwareAccelerated) return Avx512F.IsSupported ? (delegate* unmanaged<Args*, void>)(page + MachineCode.F16Dots512Offset) : null;
        if (Vector256.IsHardwareAccelerated && Avx2.IsSupported && (X86Base.CpuId(1, 0).Ecx & (1 << 29)) != 0)
            return (delegate* unmanaged<Args*, void>)(page + MachineCode.F16Dots256Offset);
        return null;
    }
}
