using System.Runtime.CompilerServices;
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

    /// <summary>The 2 × 4 tiled loop where 512-bit vectors are on (<see cref="Choose"/>'s 512-bit condition), else null.</summary>
    private static readonly delegate* unmanaged<Args*, void> s_tile =
        s_dots != null && Vector512.IsHardwareAccelerated ? (delegate* unmanaged<Args*, void>)(MachineCode.Page + MachineCode.F16Tile512Offset) : null;

    /// <summary>Whether <see cref="Rows"/> runs machine code here (tests assert the path they check ran).</summary>
    internal static bool MachineCodeRuns => s_dots != null;

    /// <summary>Whether 2 rows × 4 tokens run the tiled loop here.</summary>
    internal static bool TileRuns => s_tile != null;

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
        // prefill: 2 rows × 4 tokens per step of f16tile512 (each weight converted once for 4 tokens, each activation
        // loaded once for 2 rows), the rows and tokens left over by the pair loop; every pair keeps the same
        // accumulators in the same order either way
        int tiledRows = 0, tiledTokens = 0;
        if (s_tile != null && rows >= 2 && tokens >= 4)
        {
            (tiledRows, tiledTokens) = (rows & ~1, tokens & ~3);
            Calls(s_tile, 2, 4, TileRowsPerCall, w, rowBytes, 0, tiledRows, xw, 0, tiledTokens, cols, y, yStride);
            if (tiledTokens < tokens) Calls(s_dots, 1, 1, 1, w, rowBytes, 0, tiledRows, xw, tiledTokens, tokens - tiledTokens, cols, y, yStride);
        }
        if (tiledRows < rows) Calls(s_dots, 1, 1, 1, w, rowBytes, tiledRows, rows - tiledRows, xw, 0, tokens, cols, y, yStride);
    }

    /// <summary>Accumulator pairs per call: 32 floats each, 32 KB on the stack (read back from L2).</summary>
    private const int Pairs = 256;

    /// <summary>
    /// Rows per call of the tiled loop (so 4 tokens per call): a generated 64-row tile whole, its weights in L2 while
    /// one group of 4 tokens passes over them. 1B-shape F16 pp64 against 6 rows × 24 tokens: 12 rows 1.04×, 24 rows
    /// 1.06×, 64 rows 1.08× (89.2–89.9 vs 82.3–83.5 t/s); 110M level; 2 rows 0.91×.
    /// </summary>
    private const int TileRowsPerCall = 64;

    /// <summary>
    /// Rows [r0, r0 + rows) × tokens [t0, t0 + tokens) through kernel in calls of up to <see cref="Pairs"/> pairs
    /// (rows and tokens per call multiples of rowUnit and tokenUnit, which divide the counts; at least minRows rows
    /// where there are as many), then each pair's tail and sum (<see cref="Dot"/>'s own).
    /// </summary>
    [SkipLocalsInit] // the accumulators are written by the kernel before they are read: no 32 KB zeroing per call (decode calls per tile too)
    private static void Calls(delegate* unmanaged<Args*, void> kernel, int rowUnit, int tokenUnit, int minRows, Half* w, nint rowBytes, int r0, int rows, float* xw, int t0, int tokens, int cols, float* y, nint yStride)
    {
        float* acc = stackalloc float[Pairs * 32];
        Args args = default;
        args.RowBytes = rowBytes;
        args.TokenBytes = (nint)cols * sizeof(float);
        args.Steps = cols / 32;
        args.Out = acc;
        int rowsPerCall = Math.Max(minRows, Math.Min(rows, Pairs / tokens) / rowUnit * rowUnit);
        int tokensPerCall = Math.Min(tokens, Pairs / rowsPerCall / tokenUnit * tokenUnit);
        for (int rc = r0; rc < r0 + rows; rc += rowsPerCall)
        {
            int n = Math.Min(rowsPerCall, r0 + rows - rc);
            for (int tc = t0; tc < t0 + tokens; tc += tokensPerCall)
            {
                int m = Math.Min(tokensPerCall, t0 + tokens - tc);
                args.W = (Half*)((byte*)w + rc * rowBytes);
                args.Rows = n;
                args.X = xw + (nint)tc * cols;
                args.Tokens = m;
                kernel(&args);
                for (int r = 0; r < n; r++)
                    for (int t = 0; t < m; t++)
                    {
                        Half* row = (Half*)((byte*)w + (rc + r) * rowBytes);
                        float* x = xw + (nint)(tc + t) * cols, a = acc + (r * m + t) * 32;
                        y[(tc + t) * yStride + rc + r] = Vector512.IsHardwareAccelerated
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
