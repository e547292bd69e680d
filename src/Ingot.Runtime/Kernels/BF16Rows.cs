using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// BF16 weight rows · bf16 activations, each result with <see cref="Quants.VecDotBF16BF16"/>'s bits. Decode (fewer than
/// 4 tokens) and machines without 512-bit vectors run that vec-dot per row and token. Prefill with 512-bit vectors
/// widens the activations to f32 once per call (exact) and runs 2 rows × 4 tokens per 32-element step: 8 pairs' two
/// accumulators each in registers, each weight vector widened once for 4 tokens, each activation vector loaded once
/// for 2 rows, every pair's accumulators and their order <see cref="Quants.VecDotBF16BF16.V512"/>'s. A block's rows
/// stay in L1 while every token quad passes over them; the last 1–3 tokens run as a quad, the last token repeated into
/// discarded outputs. Without 512-bit vectors (AVX2, x86-64-v3 builds) prefill runs 2 rows × 2 tokens per 16-element
/// step with the 256-bit vec-dot's accumulators: pp128 of the 110M shape 1.6× the vec-dot per row and token (424 vs
/// 263 t/s, best of 4).
/// </summary>
internal static unsafe class BF16Rows
{
    /// <summary>Bytes of a block's rows kept in L1 (half of a 48 KB L1) while the token quads pass over them.</summary>
    private const int BlockBytes = 24 * 1024;

    /// <summary>y[t·yStride + r] = row r of w (cols bf16, rowBytes apart) · activation t (cols bf16 at a + t·aStride).</summary>
    public static void Rows(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) =>
        Rows(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride, Vector512.IsHardwareAccelerated);

    /// <summary>
    /// <see cref="Rows(byte*, nint, int, byte*, nint, int, int, float*, nint)"/> with the 512-bit tiles where wide, else
    /// (AVX2 machines, x86-64-v3 builds) 2 rows × 2 tokens per 16-element step with <see cref="Quants.VecDotBF16BF16.V256"/>'s
    /// accumulators and order (<see cref="Tile2x2V256"/>); tests run both.
    /// </summary>
    internal static void Rows(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride, bool wide)
    {
        if (rows >= 2 && (wide ? Vector512.IsHardwareAccelerated && tokens >= 4 : Vector256.IsHardwareAccelerated && tokens >= 2))
            Tiled(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride, wide);
        else Pairs(w, rowBytes, 0, rows, a, aStride, tokens, cols, y, yStride);
    }

    /// <summary>
    /// The tiled prefill: the activations widened once, then per block of rows (kept in L1) the token quads (wide) or
    /// pairs over 2-row tiles, the last group's missing tokens repeated into discarded outputs; an odd last row by the
    /// vec-dot of the same width.
    /// </summary>
    private static void Tiled(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride, bool wide)
    {
        float* xw = (float*)Quants.RowScratch.Get((nint)tokens * cols * sizeof(float));
        for (int t = 0; t < tokens; t++) Vec.Convert.BF16ToF32((ushort*)(a + t * aStride), xw + (nint)t * cols, cols);
        int even = rows & ~1, step = wide ? 4 : 2;
        int block = Math.Max(2, (int)Math.Min(even, BlockBytes / rowBytes) & ~1);
        float* discard = stackalloc float[2];
        for (int r0 = 0; r0 < even; r0 += block)
        {
            int r1 = Math.Min(even, r0 + block);
            for (int t = 0; t < tokens; t += step)
            {
                int t1 = Math.Min(t + 1, tokens - 1), t2 = Math.Min(t + 2, tokens - 1), t3 = Math.Min(t + 3, tokens - 1);
                float* x0 = xw + (nint)t * cols, x1 = xw + (nint)t1 * cols, x2 = xw + (nint)t2 * cols, x3 = xw + (nint)t3 * cols;
                for (int r = r0; r < r1; r += 2)
                {
                    ushort* w0 = (ushort*)(w + r * rowBytes), w1 = (ushort*)(w + (r + 1) * rowBytes);
                    if (wide)
                        Tile2x4(w0, w1, x0, x1, x2, x3, cols, y + t * yStride + r, t1 > t ? y + t1 * yStride + r : discard,
                            t2 > t1 ? y + t2 * yStride + r : discard, t3 > t2 ? y + t3 * yStride + r : discard);
                    else Tile2x2V256(w0, w1, x0, x1, cols, y + t * yStride + r, t1 > t ? y + t1 * yStride + r : discard);
                }
            }
        }
        Pairs(w, rowBytes, even, rows, a, aStride, tokens, cols, y, yStride, wide);
    }

    /// <summary>
    /// Rows w0, w1 × widened tokens x0, x1 (n each): row k with token j into y<sub>j</sub>[k], <see cref="Quants.VecDotBF16BF16.V256"/>'s
    /// two accumulators per pair (elements i .. i + 7 and i + 8 .. i + 15 of each 16-element step), the sum and tail its
    /// own; 8 accumulators, 4 widened weight and 2 activation vectors: 14 of AVX2's 16 registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2x2V256(ushort* w0, ushort* w1, float* x0, float* x1, int n, float* y0, float* y1)
    {
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, b00 = default, b01 = default, b10 = default, b11 = default;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            Vector256<float> u0 = HalfBits.LoadBF16x256(w0 + i), u1 = HalfBits.LoadBF16x256(w0 + i + 8);
            Vector256<float> v0 = HalfBits.LoadBF16x256(w1 + i), v1 = HalfBits.LoadBF16x256(w1 + i + 8);
            Vector256<float> p = Vector256.Load(x0 + i), q = Vector256.Load(x0 + i + 8);
            a00 = Vector256.FusedMultiplyAdd(u0, p, a00); a01 = Vector256.FusedMultiplyAdd(u1, q, a01);
            b00 = Vector256.FusedMultiplyAdd(v0, p, b00); b01 = Vector256.FusedMultiplyAdd(v1, q, b01);
            p = Vector256.Load(x1 + i); q = Vector256.Load(x1 + i + 8);
            a10 = Vector256.FusedMultiplyAdd(u0, p, a10); a11 = Vector256.FusedMultiplyAdd(u1, q, a11);
            b10 = Vector256.FusedMultiplyAdd(v0, p, b10); b11 = Vector256.FusedMultiplyAdd(v1, q, b11);
        }
        y0[0] = Tail(w0, x0, n, i, Vector256.Sum(a00 + a01));
        y1[0] = Tail(w0, x1, n, i, Vector256.Sum(a10 + a11));
        y0[1] = Tail(w1, x0, n, i, Vector256.Sum(b00 + b01));
        y1[1] = Tail(w1, x1, n, i, Vector256.Sum(b10 + b11));
    }

    /// <summary>Rows [r0, r1) × every token, one <see cref="Quants.VecDotBF16BF16.Dot"/> each (<see cref="Quants.VecDotBF16BF16.V256"/> where not wide).</summary>
    private static void Pairs(byte* w, nint rowBytes, int r0, int r1, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride, bool wide = true)
    {
        for (int r = r0; r < r1; r++)
            for (int t = 0; t < tokens; t++)
                y[t * yStride + r] = wide ? Quants.VecDotBF16BF16.Dot(w + r * rowBytes, a + t * aStride, cols) : Quants.VecDotBF16BF16.V256(w + r * rowBytes, a + t * aStride, cols);
    }

    /// <summary>Rows w0, w1 × widened tokens x0..x3 (n each): row k with token j into y<sub>j</sub>[k].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2x4(ushort* w0, ushort* w1, float* x0, float* x1, float* x2, float* x3, int n, float* y0, float* y1, float* y2, float* y3)
    {
        // a<t><k>: row 0 with token t, accumulator k (elements i + 16k ..); b<t><k> the same for row 1
        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        Vector512<float> b00 = default, b01 = default, b10 = default, b11 = default, b20 = default, b21 = default, b30 = default, b31 = default;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            Vector512<float> u0 = HalfBits.LoadBF16x512(w0 + i), u1 = HalfBits.LoadBF16x512(w0 + i + 16);
            Vector512<float> v0 = HalfBits.LoadBF16x512(w1 + i), v1 = HalfBits.LoadBF16x512(w1 + i + 16);
            Step(u0, u1, v0, v1, x0 + i, ref a00, ref a01, ref b00, ref b01);
            Step(u0, u1, v0, v1, x1 + i, ref a10, ref a11, ref b10, ref b11);
            Step(u0, u1, v0, v1, x2 + i, ref a20, ref a21, ref b20, ref b21);
            Step(u0, u1, v0, v1, x3 + i, ref a30, ref a31, ref b30, ref b31);
        }
        y0[0] = Tail(w0, x0, n, i, Vector512.Sum(a00 + a01));
        y1[0] = Tail(w0, x1, n, i, Vector512.Sum(a10 + a11));
        y2[0] = Tail(w0, x2, n, i, Vector512.Sum(a20 + a21));
        y3[0] = Tail(w0, x3, n, i, Vector512.Sum(a30 + a31));
        y0[1] = Tail(w1, x0, n, i, Vector512.Sum(b00 + b01));
        y1[1] = Tail(w1, x1, n, i, Vector512.Sum(b10 + b11));
        y2[1] = Tail(w1, x2, n, i, Vector512.Sum(b20 + b21));
        y3[1] = Tail(w1, x3, n, i, Vector512.Sum(b30 + b31));
    }

    /// <summary>One token's step for both rows: acc = fma(w, x, acc), as the vec-dot's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(Vector512<float> u0, Vector512<float> u1, Vector512<float> v0, Vector512<float> v1, float* x,
        ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> b0, ref Vector512<float> b1)
    {
        Vector512<float> p = Vector512.Load(x), q = Vector512.Load(x + 16);
        a0 = Vector512.FusedMultiplyAdd(u0, p, a0);
        a1 = Vector512.FusedMultiplyAdd(u1, q, a1);
        b0 = Vector512.FusedMultiplyAdd(v0, p, b0);
        b1 = Vector512.FusedMultiplyAdd(v1, q, b1);
    }

    /// <summary>
    /// The vec-dot's end after its vector loop (<see cref="Quants.VecDotBF16BF16.V512"/>'s or <see cref="Quants.VecDotBF16BF16.V256"/>'s):
    /// sum, the sum of its two accumulators (the caller's width), then the scalar tail from element i (the activation
    /// already widened).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Tail(ushort* w, float* x, int n, int i, float sum)
    {
        for (; i < n; i++) sum += HalfBits.BF16ToF32(w[i]) * x[i];
        return sum;
    }
}
