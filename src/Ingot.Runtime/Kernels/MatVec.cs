using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// y = W x for a row-major W (rows × cols, row r = output r), split over the pool by rows. These are the library
/// fallback / benchmark kernels; generated code fuses its own epilogues into IRangeBody structs calling Dot.*.
/// Measured on Zen 4 (AVX-512, 1 thread, weights from DRAM): one sequential row stream per Dot beats the 4-row
/// kernels (which share each x load over 4 weight streams) whenever rows are short — 32000×768 F32: 1-row 20-26 GB/s
/// vs 4-row 13-15; F16 15 vs 8.7 GB/s — because 4 interleaved 1.5-8 KB streams defeat the L2 stream prefetcher.
/// With rows of ≥ 16 KB (cols ≥ 4096 F32) the 4-row kernel wins (23 vs 20 GB/s), so F32 switches there; F16 always
/// uses 1 row. The Dot4 kernels stay public (tested) for generated code that wants them.
/// </summary>
public static unsafe class MatVec
{
    public static void F32(WorkerPool pool, float* w, float* x, float* y, int rows, int cols)
    {
        var body = new F32Body { W = w, X = x, Y = y, Cols = cols };
        pool.For(rows, ref body);
    }

    /// <summary>F16 weights: x is rounded to f16 first (as ggml's CPU backend), then f32-accumulated dots.</summary>
    public static void F16(WorkerPool pool, Half* w, float* x, float* y, int rows, int cols)
    {
        if (cols <= 16384)
        {
            Half* xh = stackalloc Half[cols];
            Vec.Convert.F32ToF16(x, xh, cols);
            F16(pool, w, xh, y, rows, cols);
        }
        else
        {
            Half* xh = (Half*)NativeMemory.Alloc((nuint)cols, (nuint)sizeof(Half));
            try
            {
                Vec.Convert.F32ToF16(x, xh, cols);
                F16(pool, w, xh, y, rows, cols);
            }
            finally
            {
                NativeMemory.Free(xh);
            }
        }
    }

    /// <summary>
    /// F16 weights times an already-f16 activation. xh is widened to f32 once (exact), so the row loop converts only
    /// the weights (half the conversion work of an F16·F16 dot) and 4 rows share each x load.
    /// </summary>
    public static void F16(WorkerPool pool, Half* w, Half* xh, float* y, int rows, int cols)
    {
        if (cols <= 16384)
        {
            float* xf = stackalloc float[cols];
            Vec.Convert.F16ToF32(xh, xf, cols);
            var body = new F16Body { W = w, X = xf, Y = y, Cols = cols };
            pool.For(rows, ref body);
        }
        else
        {
            float* xf = (float*)NativeMemory.AlignedAlloc((nuint)cols * sizeof(float), 64);
            try
            {
                Vec.Convert.F16ToF32(xh, xf, cols);
                var body = new F16Body { W = w, X = xf, Y = y, Cols = cols };
                pool.For(rows, ref body);
            }
            finally
            {
                NativeMemory.AlignedFree(xf);
            }
        }
    }

    /// <summary>Rows [start, end) of y = W x for F16 W and f32 x (x already f16-rounded if ggml parity is wanted).</summary>
    public static void F16Rows(Half* w, float* x, float* y, int cols, int start, int end)
    {
        for (int r = start; r < end; r++) y[r] = Dot.F16F32(w + (nint)r * cols, x, cols);
    }

    /// <summary>Four consecutive F16 rows (stride cols) dotted with f32 x, 256-bit.</summary>
    public static void Dot4F16F32V256(ushort* w0, int cols, float* x, float* y4)
    {
        ushort* w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int i = 0;
        for (; i <= cols - 8; i += 8)
        {
            Vector256<float> xa = Vector256.Load(x + i);
            a0 = Vector256.MultiplyAddEstimate(HalfBits.Load8x256(w0 + i), xa, a0);
            a1 = Vector256.MultiplyAddEstimate(HalfBits.Load8x256(w1 + i), xa, a1);
            a2 = Vector256.MultiplyAddEstimate(HalfBits.Load8x256(w2 + i), xa, a2);
            a3 = Vector256.MultiplyAddEstimate(HalfBits.Load8x256(w3 + i), xa, a3);
        }
        float s0 = Vector256.Sum(a0), s1 = Vector256.Sum(a1), s2 = Vector256.Sum(a2), s3 = Vector256.Sum(a3);
        for (; i < cols; i++)
        {
            float xv = x[i];
            s0 += HalfBits.F16ToF32(w0[i]) * xv; s1 += HalfBits.F16ToF32(w1[i]) * xv;
            s2 += HalfBits.F16ToF32(w2[i]) * xv; s3 += HalfBits.F16ToF32(w3[i]) * xv;
        }
        y4[0] = s0; y4[1] = s1; y4[2] = s2; y4[3] = s3;
    }

    /// <summary>Four consecutive F16 rows (stride cols) dotted with f32 x, 512-bit.</summary>
    public static void Dot4F16F32V512(ushort* w0, int cols, float* x, float* y4)
    {
        ushort* w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int i = 0;
        for (; i <= cols - 16; i += 16)
        {
            Vector512<float> xa = Vector512.Load(x + i);
            a0 = Vector512.MultiplyAddEstimate(HalfBits.Load16x512(w0 + i), xa, a0);
            a1 = Vector512.MultiplyAddEstimate(HalfBits.Load16x512(w1 + i), xa, a1);
            a2 = Vector512.MultiplyAddEstimate(HalfBits.Load16x512(w2 + i), xa, a2);
            a3 = Vector512.MultiplyAddEstimate(HalfBits.Load16x512(w3 + i), xa, a3);
        }
        float s0 = Vector512.Sum(a0), s1 = Vector512.Sum(a1), s2 = Vector512.Sum(a2), s3 = Vector512.Sum(a3);
        for (; i < cols; i++)
        {
            float xv = x[i];
            s0 += HalfBits.F16ToF32(w0[i]) * xv; s1 += HalfBits.F16ToF32(w1[i]) * xv;
            s2 += HalfBits.F16ToF32(w2[i]) * xv; s3 += HalfBits.F16ToF32(w3[i]) * xv;
        }
        y4[0] = s0; y4[1] = s1; y4[2] = s2; y4[3] = s3;
    }

    /// <summary>F32 rows at least this long use the 4-row kernel (see the class remarks).</summary>
    public const int FourRowMinColsF32 = 4096;

    /// <summary>Rows [start, end) of y = W x, single thread.</summary>
    public static void F32Rows(float* w, float* x, float* y, int cols, int start, int end)
    {
        int r = start;
        if ((Vector256.IsHardwareAccelerated || Vector512.IsHardwareAccelerated) && cols >= FourRowMinColsF32)
        {
            for (; r <= end - 4; r += 4)
            {
                float* w0 = w + (nint)r * cols;
                if (Vector512.IsHardwareAccelerated) Dot4F32V512(w0, cols, x, y + r);
                else Dot4F32V256(w0, cols, x, y + r);
            }
        }
        for (; r < end; r++) y[r] = Dot.F32(w + (nint)r * cols, x, cols);
    }

    /// <summary>Four consecutive rows (stride cols) dotted with x, 256-bit.</summary>
    public static void Dot4F32V256(float* w0, int cols, float* x, float* y4)
    {
        float* w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
        int i = 0;
        for (; i <= cols - 16; i += 16)
        {
            Vector256<float> xa = Vector256.Load(x + i), xb = Vector256.Load(x + i + 8);
            a0 = Vector256.MultiplyAddEstimate(Vector256.Load(w0 + i), xa, a0);
            a1 = Vector256.MultiplyAddEstimate(Vector256.Load(w1 + i), xa, a1);
            a2 = Vector256.MultiplyAddEstimate(Vector256.Load(w2 + i), xa, a2);
            a3 = Vector256.MultiplyAddEstimate(Vector256.Load(w3 + i), xa, a3);
            b0 = Vector256.MultiplyAddEstimate(Vector256.Load(w0 + i + 8), xb, b0);
            b1 = Vector256.MultiplyAddEstimate(Vector256.Load(w1 + i + 8), xb, b1);
            b2 = Vector256.MultiplyAddEstimate(Vector256.Load(w2 + i + 8), xb, b2);
            b3 = Vector256.MultiplyAddEstimate(Vector256.Load(w3 + i + 8), xb, b3);
        }
        for (; i <= cols - 8; i += 8)
        {
            Vector256<float> xa = Vector256.Load(x + i);
            a0 = Vector256.MultiplyAddEstimate(Vector256.Load(w0 + i), xa, a0);
            a1 = Vector256.MultiplyAddEstimate(Vector256.Load(w1 + i), xa, a1);
            a2 = Vector256.MultiplyAddEstimate(Vector256.Load(w2 + i), xa, a2);
            a3 = Vector256.MultiplyAddEstimate(Vector256.Load(w3 + i), xa, a3);
        }
        float s0 = Vector256.Sum(a0 + b0), s1 = Vector256.Sum(a1 + b1), s2 = Vector256.Sum(a2 + b2), s3 = Vector256.Sum(a3 + b3);
        for (; i < cols; i++)
        {
            float xv = x[i];
            s0 += w0[i] * xv; s1 += w1[i] * xv; s2 += w2[i] * xv; s3 += w3[i] * xv;
        }
        y4[0] = s0; y4[1] = s1; y4[2] = s2; y4[3] = s3;
    }

    /// <summary>Four consecutive rows (stride cols) dotted with x, 512-bit.</summary>
    public static void Dot4F32V512(float* w0, int cols, float* x, float* y4)
    {
        float* w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
        int i = 0;
        for (; i <= cols - 32; i += 32)
        {
            Vector512<float> xa = Vector512.Load(x + i), xb = Vector512.Load(x + i + 16);
            a0 = Vector512.MultiplyAddEstimate(Vector512.Load(w0 + i), xa, a0);
            a1 = Vector512.MultiplyAddEstimate(Vector512.Load(w1 + i), xa, a1);
            a2 = Vector512.MultiplyAddEstimate(Vector512.Load(w2 + i), xa, a2);
            a3 = Vector512.MultiplyAddEstimate(Vector512.Load(w3 + i), xa, a3);
            b0 = Vector512.MultiplyAddEstimate(Vector512.Load(w0 + i + 16), xb, b0);
            b1 = Vector512.MultiplyAddEstimate(Vector512.Load(w1 + i + 16), xb, b1);
            b2 = Vector512.MultiplyAddEstimate(Vector512.Load(w2 + i + 16), xb, b2);
            b3 = Vector512.MultiplyAddEstimate(Vector512.Load(w3 + i + 16), xb, b3);
        }
        for (; i <= cols - 16; i += 16)
        {
            Vector512<float> xa = Vector512.Load(x + i);
            a0 = Vector512.MultiplyAddEstimate(Vector512.Load(w0 + i), xa, a0);
            a1 = Vector512.MultiplyAddEstimate(Vector512.Load(w1 + i), xa, a1);
            a2 = Vector512.MultiplyAddEstimate(Vector512.Load(w2 + i), xa, a2);
            a3 = Vector512.MultiplyAddEstimate(Vector512.Load(w3 + i), xa, a3);
        }
        float s0 = Vector512.Sum(a0 + b0), s1 = Vector512.Sum(a1 + b1), s2 = Vector512.Sum(a2 + b2), s3 = Vector512.Sum(a3 + b3);
        for (; i < cols; i++)
        {
            float xv = x[i];
            s0 += w0[i] * xv; s1 += w1[i] * xv; s2 += w2[i] * xv; s3 += w3[i] * xv;
        }
        y4[0] = s0; y4[1] = s1; y4[2] = s2; y4[3] = s3;
    }

    private struct F32Body : IRangeBody
    {
        public float* W, X, Y;
        public int Cols;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(int start, int end) => F32Rows(W, X, Y, Cols, start, end);
    }

    private struct F16Body : IRangeBody
    {
        public Half* W;
        public float* X, Y;
        public int Cols;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(int start, int end) => F16Rows(W, X, Y, Cols, start, end);
    }
}
