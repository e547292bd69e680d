using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ingot.Formats;

namespace Ingot.Runtime.Quants;

/// <summary>
/// A tile of a quantized matmul: y[t * yStride + i] = W[i, :] · A[t, :] for rows i &lt; rows and tokens t &lt; tokens,
/// W row i at w + i * rowBytes, activation row t (already in the weight type's partner form) at a + t * aStride,
/// cols elements per row. The generated decode and prefill bodies call one of these per tile of rows; each weight
/// row is read from memory once and reused from L1 for every token of the tile. Every row's result is computed by the
/// same sequence of operations whatever the tile size or token count, so decode, prefill and any thread split agree
/// bit for bit.
/// Types without a dedicated kernel loop over <see cref="VecDot"/>; Q4_0 has a restructured AVX2 kernel (below), Q8_0 and
/// Q6_K AVX2 rows kernels that do the activation's share of the work once per call (VecDotQ8_0Q8_0.Rows, VecDotQ6_KQ8_K.Rows);
/// Q5_0 and IQ4_NL from two tokens run Q8_0's rows kernel (machine code, else AVX2) on their rows decoded to Q8_0 blocks
/// (VecDotQ8_0Q8_0.DecodedRows).
/// </summary>
public static unsafe class VecDotRows
{
    /// <summary>Decode of a 32-element block type: rows in pairs (<see cref="VecDotBlock32{TBlock}.V256Rows2"/>), the V256 vec-dot's bits.</summary>
    private static void Rows2<TBlock>(byte* w, nint rowBytes, int rows, byte* a, int cols, float* y) where TBlock : struct, IBlock32
    {
        int r = 0;
        for (; r + 1 < rows; r += 2) VecDotBlock32<TBlock>.V256Rows2(w + r * rowBytes, rowBytes, a, cols, y + r);
        if (r < rows) y[r] = VecDotBlock32<TBlock>.V256(w + r * rowBytes, a, cols);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Loop(delegate*<byte*, byte*, int, float> dot, byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        for (int i = 0; i < rows; i++, w += rowBytes)
            for (int t = 0; t < tokens; t++)
                y[t * yStride + i] = dot(w, a + t * aStride, cols);
    }

    public static void Q4_1Q8_1(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Block32Rows<Q4_1Block>(&VecDot.Q4_1Q8_1, w, rowBytes, rows, a, null, aStride, tokens, cols, y, yStride);
    public static void Q5_0Q8_0(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Q5_0Q8_0Pairs(w, rowBytes, rows, a, null, aStride, tokens, cols, y, yStride);
    public static void Q5_1Q8_1(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Block32Rows<Q5_1Block>(&VecDot.Q5_1Q8_1, w, rowBytes, rows, a, null, aStride, tokens, cols, y, yStride);

    /// <summary>
    /// The 32-element block types (Q5_0, IQ4_NL; Q4_1, Q5_1 with their mins): from two tokens Q8_0's machine code on the
    /// rows decoded to Q8_0 blocks (<see cref="VecDotQ8_0Q8_0.DecodedRows{TBlock}"/>, the token pairs as
    /// <see cref="Q8_0Q8_0Pairs"/>; the min types plus their mins' sums, <see cref="VecDotQ8_0Q8_0.DecodedMinRows{TBlock}"/>,
    /// pairs prepared per call), decode two rows at a time, else the vec-dot (dot) per row and token.
    /// </summary>
    private static void Block32Rows<TBlock>(delegate*<byte*, byte*, int, float> dot, byte* w, nint rowBytes, int rows, byte* a, byte* pairs, nint aStride, int tokens, int cols, float* y, nint yStride)
        where TBlock : struct, IBlock32
    {
        if (TBlock.HasBias ? VecDotQ8_0Q8_0.DecodedMinRows<TBlock>(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride)
                           : VecDotQ8_0Q8_0.DecodedRows<TBlock>(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride, pairs)) return;
        if (tokens == 1 && Avx2.IsSupported && Vector256.IsHardwareAccelerated) Rows2<TBlock>(w, rowBytes, rows, a, cols, y);
        else Loop(dot, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    }
    public static void IQ4_NLQ8_0(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => IQ4_NLQ8_0Pairs(w, rowBytes, rows, a, null, aStride, tokens, cols, y, yStride);
    public static void Q2_KQ8_K(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Q2_KQ8_KTiles(w, rowBytes, rows, a, null, aStride, tokens, cols, y, yStride);

    /// <summary>Q2_K weights · Q8_K activations: as <see cref="IQ4_XSQ8_KTiles"/> (AMX in the vec-dot's exact sums and double combination).</summary>
    public static void Q2_KQ8_KTiles(byte* w, nint rowBytes, int rows, byte* a, byte* tiles, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        if (KQuantAmx.Runs(tokens)) KQuantAmx.Rows<Q2_KAmxWeights>(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride, tiles);
        else Loop(&VecDot.Q2_KQ8_K, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    }
    public static void Q3_KQ8_K(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Q3_KQ8_KTiles(w, rowBytes, rows, a, null, aStride, tokens, cols, y, yStride);

    /// <summary>Q3_K weights · Q8_K activations: as <see cref="IQ4_XSQ8_KTiles"/>.</summary>
    public static void Q3_KQ8_KTiles(byte* w, nint rowBytes, int rows, byte* a, byte* tiles, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        if (KQuantAmx.Runs(tokens)) KQuantAmx.Rows<Q3_KAmxWeights>(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride, tiles);
        else if (KQuantWordRows.Runs(tokens)) KQuantWordRows.Rows<Q3_KWords>(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
        else Loop(&VecDot.Q3_KQ8_K, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    }
    public static void Q5_KQ8_K(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Q5_KQ8_KTiles(w, rowBytes, rows, a, null, aStride, tokens, cols, y, yStride);
    public static void IQ4_XSQ8_K(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => IQ4_XSQ8_KTiles(w, rowBytes, rows, a, null, aStride, tokens, cols, y, yStride);

    /// <summary>
    /// IQ4_XS weights · Q8_K activations: from <see cref="KQuantAmx.MinTokens"/> on AMX in ggml's order (tiles: as
    /// <see cref="Q4_KQ8_KTiles"/>'s), else from 2 tokens each row decoded once (<see cref="KQuantWordRows"/>), else the
    /// vec-dot per row and token.
    /// </summary>
    public static void IQ4_XSQ8_KTiles(byte* w, nint rowBytes, int rows, byte* a, byte* tiles, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        if (KQuantAmx.Runs(tokens)) KQuantAmx.Rows<IQ4_XSAmxWeights>(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride, tiles);
        else if (KQuantWordRows.Runs(tokens)) KQuantWordRows.Rows<IQ4_XSWords>(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
        else Loop(&VecDot.IQ4_XSQ8_K, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    }
    public static void BF16BF16(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Kernels.BF16Rows.Rows(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);

    /// <summary>F32 weights · the f32 activation (a: rows of cols floats): <see cref="Kernels.F32Rows"/>, <see cref="Kernels.Dot.F32"/>'s bits.</summary>
    public static void F32(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        if (aStride != (nint)cols * sizeof(float)) throw new ArgumentException($"f32 activation rows {aStride} bytes apart, not {cols * sizeof(float)}");
        Kernels.F32Rows.Rows((float*)w, rowBytes, rows, (float*)a, tokens, cols, y, yStride);
    }

    /// <summary>
    /// F16 weights · the f16 activation (a: rows of cols halves): the activation is widened to f32 once per call, then
    /// <see cref="Kernels.F16Rows"/> (<see cref="Kernels.Dot.F16F16Widened"/>'s bits, machine code where it runs), which
    /// gives <see cref="Kernels.Dot.F16F16"/>'s bits with half its conversions or none.
    /// </summary>
    public static void F16F16(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        float* xw = (float*)RowScratch.Get((nint)tokens * cols * sizeof(float));
        for (int t = 0; t < tokens; t++) Kernels.Vec.Convert.F16ToF32((Half*)(a + t * aStride), xw + (nint)t * cols, cols);
        Kernels.F16Rows.Rows((Half*)w, rowBytes, rows, xw, tokens, cols, y, yStride);
    }

    /// <summary>
    /// Q4_0 weights · Q8_0 activations: from 8 tokens the GEMM (AMX tiles, or tokens in the AVX lanes), else the grouped
    /// AVX2 kernel when cols is a multiple of 256, else per-row dots. All give the vec-dot's bits. Rows of a tensor in
    /// Ingot's interleaved layout (<see cref="Q4_0x16"/>) take <see cref="Q4_0x16Rows"/>, with the same bits.
    /// </summary>
    public static void Q4_0Q8_0(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        if (Q4_0x16.Any && Q4_0x16.TryFind(w, out var region)) Q4_0x16Rows.Rows(region, w, rowBytes, rows, a, null, aStride, tokens, cols, y, yStride);
        else if (GemmQ4_0Q8_0.Runs(tokens)) GemmQ4_0Q8_0.Rows(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
        else if (Avx2.IsSupported && cols % Q4_0Groups.Elements == 0) Q4_0Groups.Rows(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
        else Loop(&VecDot.Q4_0Q8_0, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    }

    /// <summary>
    /// <see cref="Q4_0Q8_0"/> for generated code, which prepares what the GEMM reads once per matmul input
    /// (<see cref="Q8_0Lanes.PrepareForGemm"/> into <paramref name="lanes"/>: the token lanes for an AVX GEMM, the scales
    /// table for AMX) instead of once per call; fewer tokens take the rows kernels on a. The same bits either way.
    /// </summary>
    public static void Q4_0Q8_0Lanes(byte* w, nint rowBytes, int rows, byte* a, byte* lanes, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        if (Q4_0x16.Any && Q4_0x16.TryFind(w, out var region)) Q4_0x16Rows.Rows(region, w, rowBytes, rows, a, lanes, aStride, tokens, cols, y, yStride);
        else if (GemmQ4_0Q8_0.ReadsLanes(tokens)) GemmQ4_0Q8_0.RowsPrepared(w, rowBytes, rows, lanes, tokens, cols, y, yStride);
        else if (Q4_0AmxTiles.Runs(tokens)) AmxGemm.Rows<Q4_0AmxTiles>(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride, (float*)lanes);
        else Q4_0Q8_0(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    }

    /// <summary>Q8_0 weights · Q8_0 activations: the rows kernel (two tokens per 512-bit vector in machine code, else AVX2 with the activation scales once per call), else per-row dots.</summary>
    public static void Q8_0Q8_0(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Q8_0Q8_0Pairs(w, rowBytes, rows, a, null, aStride, tokens, cols, y, yStride);

    /// <summary>Q4_K weights · Q8_K activations: <see cref="Q4_KQ8_KTiles"/> preparing its own tiles.</summary>
    public static void Q4_KQ8_K(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Q4_KQ8_KTiles(w, rowBytes, rows, a, null, aStride, tokens, cols, y, yStride);

    /// <summary>Q6_K weights · Q8_K activations: <see cref="Q6_KQ8_KTiles"/> preparing its own tiles.</summary>
    public static void Q6_KQ8_K(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride) => Q6_KQ8_KTiles(w, rowBytes, rows, a, null, aStride, tokens, cols, y, yStride);

    /// <summary>
    /// Q8_0 weights · Q8_0 activations: the rows kernel (two tokens per 512-bit vector in machine code, else AVX2 with the
    /// activation scales once per call), else per-row dots. Generated code prepares the q8_0 rows in token pairs once per
    /// matmul input (<see cref="Q8_0Pairs.Prepare"/> into <paramref name="pairs"/>), read where the machine code runs
    /// (from 2 tokens); null: prepared per call.
    /// </summary>
    public static void Q8_0Q8_0Pairs(byte* w, nint rowBytes, int rows, byte* a, byte* pairs, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        if (Avx2.IsSupported) VecDotQ8_0Q8_0.Rows(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride, pairs);
        else Loop(&VecDot.Q8_0Q8_0, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    }

    /// <summary>Q5_0 weights · Q8_0 activations (<see cref="Block32Rows{TBlock}"/>; pairs: as <see cref="Q8_0Q8_0Pairs"/>).</summary>
    public static void Q5_0Q8_0Pairs(byte* w, nint rowBytes, int rows, byte* a, byte* pairs, nint aStride, int tokens, int cols, float* y, nint yStride) =>
        Block32Rows<Q5_0Block>(&VecDot.Q5_0Q8_0, w, rowBytes, rows, a, pairs, aStride, tokens, cols, y, yStride);

    /// <summary>IQ4_NL weights · Q8_0 activations, as <see cref="Q5_0Q8_0Pairs"/>.</summary>
    public static void IQ4_NLQ8_0Pairs(byte* w, nint rowBytes, int rows, byte* a, byte* pairs, nint aStride, int tokens, int cols, float* y, nint yStride) =>
        Block32Rows<IQ4_NLBlock>(&VecDot.IQ4_NLQ8_0, w, rowBytes, rows, a, pairs, aStride, tokens, cols, y, yStride);

    /// <summary>
    /// Q4_K weights · Q8_K activations: from <see cref="KQuantAmx.MinTokens"/> on AMX (generated code prepares the q8_K
    /// rows as its tiles once per matmul input, <see cref="Q8_KTiles.Prepare"/> into <paramref name="tiles"/>; null:
    /// prepared per call), else the rows kernel (machine code for any token count; AVX2 from two tokens), else per-row dots.
    /// Rows of a tensor in Ingot's interleaved layout take <see cref="KQuantsX16Rows"/>, with the same bits.
    /// </summary>
    public static void Q4_KQ8_KTiles(byte* w, nint rowBytes, int rows, byte* a, byte* tiles, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        if (Q4_0x16.Any && Q4_0x16.TryFind(w, out var region)) KQuantsX16Rows.Rows(region, w, rowBytes, rows, a, tiles, aStride, tokens, cols, y, yStride);
        else if (KQuantAmx.Runs(tokens)) KQuantAmx.Rows<Q4_KAmxWeights>(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride, tiles);
        else if ((tokens > 1 || VecDotQ4_KQ8_K.MachineCodeRuns) && Avx2.IsSupported) VecDotQ4_KQ8_K.Rows(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
        else Loop(&VecDot.Q4_KQ8_K, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    }

    /// <summary>
    /// Q5_K weights · Q8_K activations, as <see cref="Q4_KQ8_KTiles"/> (its rows kernel: machine code only; without it,
    /// from 2 tokens each row decoded once, <see cref="KQuantWordRows"/>).
    /// </summary>
    public static void Q5_KQ8_KTiles(byte* w, nint rowBytes, int rows, byte* a, byte* tiles, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        if (KQuantAmx.Runs(tokens)) KQuantAmx.Rows<Q5_KAmxWeights>(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride, tiles);
        else if (VecDotQ5_KQ8_K.MachineCodeRuns) VecDotQ5_KQ8_K.Rows(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
        else if (KQuantWordRows.Runs(tokens)) KQuantWordRows.Rows<Q5_KWords>(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
        else Loop(&VecDot.Q5_KQ8_K, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    }

    /// <summary>Q6_K weights · Q8_K activations, as <see cref="Q4_KQ8_KTiles"/> (its rows kernel: activation offsets once per call).</summary>
    public static void Q6_KQ8_KTiles(byte* w, nint rowBytes, int rows, byte* a, byte* tiles, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        if (KQuantAmx.Runs(tokens)) KQuantAmx.Rows<Q6_KAmxWeights>(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride, tiles);
        else if (Avx2.IsSupported) VecDotQ6_KQ8_K.Rows(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
        else Loop(&VecDot.Q6_KQ8_K, w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    }

    /// <summary>The rows kernel for a weight type (tests and benchmarks; generated code names the method directly).</summary>
    public static delegate*<byte*, nint, int, byte*, nint, int, int, float*, nint, void> For(GgmlType type) => type switch
    {
        GgmlType.Q8_0 => &Q8_0Q8_0,
        GgmlType.Q4_0 => &Q4_0Q8_0,
        GgmlType.Q4_1 => &Q4_1Q8_1,
        GgmlType.Q5_0 => &Q5_0Q8_0,
        GgmlType.Q5_1 => &Q5_1Q8_1,
        GgmlType.IQ4_NL => &IQ4_NLQ8_0,
        GgmlType.Q2_K => &Q2_KQ8_K,
        GgmlType.Q3_K => &Q3_KQ8_K,
        GgmlType.Q4_K => &Q4_KQ8_K,
        GgmlType.Q5_K => &Q5_KQ8_K,
        GgmlType.Q6_K => &Q6_KQ8_K,
        GgmlType.IQ4_XS => &IQ4_XSQ8_K,
        GgmlType.BF16 => &BF16BF16,
        GgmlType.F16 => &F16F16,
        _ => throw new NotSupportedException($"no rows kernel for weight type {type}"),
    };
}

/// <summary>A per-thread buffer for the rows kernels' prepared activations, 64-byte aligned; grows, never shrinks (no allocation per token).</summary>
internal static unsafe class RowScratch
{
    [ThreadStatic] private static ThreadBuffer t_rows, t_weights;

    /// <summary>At least <paramref name="bytes"/>; the contents are the caller's until its next call on this thread.</summary>
    public static byte* Get(nint bytes) => t_rows.Get(bytes);

    /// <summary>
    /// A second buffer, for weight rows a caller rearranges before handing them to kernels that use <see cref="Get"/>
    /// (<see cref="Q4_0x16Rows"/>).
    /// </summary>
    public static byte* GetForWeights(nint bytes) => t_weights.Get(bytes);
}

/// <summary>
/// A native buffer, 64-byte aligned, that grows to what is asked and is never shrunk: held in a [ThreadStatic] field, a
/// thread's scratch that costs no allocation once it is large enough (<see cref="RowScratch"/>, attention's widened rows).
/// </summary>
internal unsafe struct ThreadBuffer
{
    private byte* _p;
    private nint _bytes;

    /// <summary>At least <paramref name="bytes"/>; what it held before is lost when it grows.</summary>
    public byte* Get(nint bytes)
    {
        if (_bytes < bytes)
        {
            if (_p != null) NativeMemory.AlignedFree(_p);
            _p = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
            _bytes = bytes;
        }
        return _p;
    }
}
