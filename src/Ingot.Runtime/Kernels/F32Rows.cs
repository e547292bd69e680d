using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// F32 weight rows · f32 activations, each result with <see cref="Dot.F32"/>'s bits. Decode (fewer than 3 tokens) with
/// 512-bit vectors reads rows r and r + rows / 2 in one loop (<see cref="Two"/>: two streams from memory at once, as the
/// per-row gate and up dots of the generated code read before it called this kernel; one stream at a time decoded
/// 0.95×), elsewhere one <see cref="Dot.F32"/> per row and token. Prefill with 512-bit vectors runs 2 rows × 3 tokens per
/// 64-element step: 6 (row, token) pairs' 4 accumulators each in registers (24 vectors), each weight vector loaded once
/// for 3 tokens and each activation vector once for 2 rows, every pair's accumulators and their order those of
/// <see cref="Dot.F32V512(float*, float*, int)"/>, whose tail and sum (<see cref="Dot.F32V512Tail"/>) end each pair.
/// The rows of a block stay in L1 while every token triple passes over them.
/// </summary>
internal static unsafe class F32Rows
{
    /// <summary>Bytes of weight rows a block keeps in L1 (half of a 48 KB L1) while the token triples pass over them.</summary>
    private const int BlockBytes = 24 * 1024;

    /// <summary>y[t·yStride + r] = row r of w (cols floats, rowBytes apart) · x[t·cols ..] for r &lt; rows, t &lt; tokens.</summary>
    public static void Rows(float* w, nint rowBytes, int rows, float* x, int tokens, int cols, float* y, nint yStride)
    {
        if (!Vector512.IsHardwareAccelerated || rows < 2)
        {
            Pairs(w, rowBytes, 0, rows, x, 0, tokens, cols, y, yStride);
            return;
        }
        if (tokens < 3)
        {
            int half = rows / 2;
            for (int t = 0; t < tokens; t++)
                for (int r = 0; r < half; r++)
                    Two((float*)((byte*)w + r * rowBytes), (float*)((byte*)w + (r + half) * rowBytes), x + (nint)t * cols, cols, y + t * yStride + r, half);
            Pairs(w, rowBytes, 2 * half, rows, x, 0, tokens, cols, y, yStride);
            return;
        }
        // the last 1 or 2 tokens run as a triple too, the last token repeated into a discarded output (a dot per pair for
        // them read the rows again: 10 % of a 1B-shape prefill of 64 tokens)
        int even = rows & ~1;
        int block = Math.Max(2, (int)Math.Min(even, BlockBytes / rowBytes) & ~1);
        float* discard = stackalloc float[2];
        for (int r0 = 0; r0 < even; r0 += block)
        {
            int r1 = Math.Min(even, r0 + block);
            for (int t = 0; t < tokens; t += 3)
            {
                int t1 = Math.Min(t + 1, tokens - 1), t2 = Math.Min(t + 2, tokens - 1);
                float* x0 = x + (nint)t * cols, x1 = x + (nint)t1 * cols, x2 = x + (nint)t2 * cols;
                for (int r = r0; r < r1; r += 2)
                    Tile2x3((float*)((byte*)w + r * rowBytes), rowBytes, x0, x1, x2, cols, y + t * yStride + r,
                        t1 > t ? y + t1 * yStride + r : discard, t2 > t1 ? y + t2 * yStride + r : discard);
            }
        }
        Pairs(w, rowBytes, even, rows, x, 0, tokens, cols, y, yStride);
    }

    /// <summary>Rows [r0, r1) × tokens [t0, t1), one <see cref="Dot.F32"/> each.</summary>
    private static void Pairs(float* w, nint rowBytes, int r0, int r1, float* x, int t0, int t1, int cols, float* y, nint yStride)
    {
        for (int r = r0; r < r1; r++)
            for (int t = t0; t < t1; t++)
                y[t * yStride + r] = Dot.F32((float*)((byte*)w + r * rowBytes), x + (nint)t * cols, cols);
    }

    /// <summary>
    /// Rows w0 and w1 · x into y[0] and y[d]: <see cref="Dot.F32V512(float*, float*, int)"/> for each, their loops
    /// interleaved (with its prefetch of both rows from <see cref="Dot.StreamedElements"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Two(float* w0, float* w1, float* x, int n, float* y, nint d)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        bool streamed = n >= Dot.StreamedElements;
        int i = 0;
        for (; i <= n - 64; i += 64)
        {
            if (streamed)
            {
                Quants.Prefetch.Step((byte*)(w0 + i), 256);
                Quants.Prefetch.Step((byte*)(w1 + i), 256);
            }
            Vector512<float> p = Vector512.Load(x + i), q = Vector512.Load(x + i + 16), r = Vector512.Load(x + i + 32), s = Vector512.Load(x + i + 48);
            a0 = Vector512.MultiplyAddEstimate(Vector512.Load(w0 + i), p, a0);
            b0 = Vector512.MultiplyAddEstimate(Vector512.Load(w1 + i), p, b0);
            a1 = Vector512.MultiplyAddEstimate(Vector512.Load(w0 + i + 16), q, a1);
            b1 = Vector512.MultiplyAddEstimate(Vector512.Load(w1 + i + 16), q, b1);
            a2 = Vector512.MultiplyAddEstimate(Vector512.Load(w0 + i + 32), r, a2);
            b2 = Vector512.MultiplyAddEstimate(Vector512.Load(w1 + i + 32), r, b2);
            a3 = Vector512.MultiplyAddEstimate(Vector512.Load(w0 + i + 48), s, a3);
            b3 = Vector512.MultiplyAddEstimate(Vector512.Load(w1 + i + 48), s, b3);
        }
        y[0] = Dot.F32V512Tail(w0, x, n, i, a0, a1, a2, a3);
        y[d] = Dot.F32V512Tail(w1, x, n, i, b0, b1, b2, b3);
    }

    /// <summary>Rows w0, w0 + rowBytes × tokens x0, x1, x2 (n floats each): row k with token j into y<sub>j</sub>[k].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2x3(float* w0, nint rowBytes, float* x0, float* x1, float* x2, int n, float* y0, float* y1, float* y2)
    {
        float* w1 = (float*)((byte*)w0 + rowBytes);
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, b00 = default, b01 = default, b02 = default, b03 = default;
        Vector512<float> b10 = default, b11 = default, b12 = default, b13 = default, b20 = default, b21 = default, b22 = default, b23 = default;
        int i = 0;
        for (; i <= n - 64; i += 64)
        {
            // a<t><k>: row 0 with token t, accumulator k (elements i + 16k ..); b<t><k> the same for row 1
            Step(w0 + i, w1 + i, x0 + i, x1 + i, x2 + i, ref a00, ref a10, ref a20, ref b00, ref b10, ref b20);
            Step(w0 + i + 16, w1 + i + 16, x0 + i + 16, x1 + i + 16, x2 + i + 16, ref a01, ref a11, ref a21, ref b01, ref b11, ref b21);
            Step(w0 + i + 32, w1 + i + 32, x0 + i + 32, x1 + i + 32, x2 + i + 32, ref a02, ref a12, ref a22, ref b02, ref b12, ref b22);
            Step(w0 + i + 48, w1 + i + 48, x0 + i + 48, x1 + i + 48, x2 + i + 48, ref a03, ref a13, ref a23, ref b03, ref b13, ref b23);
        }
        y0[0] = Dot.F32V512Tail(w0, x0, n, i, a00, a01, a02, a03);
        y1[0] = Dot.F32V512Tail(w0, x1, n, i, a10, a11, a12, a13);
        y2[0] = Dot.F32V512Tail(w0, x2, n, i, a20, a21, a22, a23);
        y0[1] = Dot.F32V512Tail(w1, x0, n, i, b00, b01, b02, b03);
        y1[1] = Dot.F32V512Tail(w1, x1, n, i, b10, b11, b12, b13);
        y2[1] = Dot.F32V512Tail(w1, x2, n, i, b20, b21, b22, b23);
    }

    /// <summary>One accumulator's step for the 6 pairs: acc = fma(w, x, acc), as <see cref="Dot.F32V512(float*, float*, int)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(float* w0, float* w1, float* x0, float* x1, float* x2,
        ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> b0, ref Vector512<float> b1, ref Vector512<float> b2)
    {
        Vector512<float> u = Vector512.Load(w0), v = Vector512.Load(w1), p = Vector512.Load(x0), q = Vector512.Load(x1), s = Vector512.Load(x2);
        a0 = Vector512.MultiplyAddEstimate(u, p, a0);
        a1 = Vector512.MultiplyAddEstimate(u, q, a1);
        a2 = Vector512.MultiplyAddEstimate(u, s, a2);
        b0 = Vector512.MultiplyAddEstimate(v, p, b0);
        b1 = Vector512.MultiplyAddEstimate(v, q, b1);
        b2 = Vector512.MultiplyAddEstimate(v, s, b2);
    }
}
