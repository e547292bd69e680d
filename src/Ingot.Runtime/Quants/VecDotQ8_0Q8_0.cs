using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Q8_0 weights · Q8_0 activations. Block: f16 d | int8 q[32]; result = Σ_blocks d_w*d_a*Σ q_w*q_a, accumulated in
/// llama.cpp's order (<see cref="Q0Order"/>), identically on every path.
/// </summary>
public static unsafe class VecDotQ8_0Q8_0
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(byte* w, byte* a, int n)
    {
        if (Vector256.IsHardwareAccelerated) return V256(w, a, n);
        if (Vector512.IsHardwareAccelerated) return V512(w, a, n);
        if (Vector128.IsHardwareAccelerated) return V128(w, a, n);
        return Scalar(w, a, n);
    }

    public static float Scalar(byte* w, byte* a, int n) => VecDotScalar.Q8_0Q8_0(w, a, n);

    /// <summary>The 8 lanes as two Vector128 (lanes 0..3 from bytes 0..15, 4..7 from bytes 16..31).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V128(byte* w, byte* a, int n)
    {
        var x = (BlockQ8_0*)w; var y = (BlockQ8_0*)a;
        Vector128<float> lo = Vector128<float>.Zero, hi = Vector128<float>.Zero;
        for (int i = 0; i < n / 32; i++)
        {
            Vector128<float> d = Vector128.Create(Fp.F16ToF32(x[i].D) * Fp.F16ToF32(y[i].D));
            lo = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(Int8Dot.Dot16S(Vector128.Load(x[i].Qs), Vector128.Load(y[i].Qs))), d, lo);
            hi = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(Int8Dot.Dot16S(Vector128.Load(x[i].Qs + 16), Vector128.Load(y[i].Qs + 16))), d, hi);
        }
        return Q0Order.Hsum8(lo, hi);
    }

    /// <summary>One block per Vector256 (the 8 lanes), scales widened four blocks at a time, one accumulator.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V256(byte* w, byte* a, int n)
    {
        var x = (BlockQ8_0*)w; var y = (BlockQ8_0*)a;
        int nb = n / 32, i = 0;
        Vector256<float> acc = Vector256<float>.Zero;
        for (; i + 3 < nb; i += 4)
        {
            Prefetch.Step((byte*)&x[i], 4 * 34);
            Vector128<float> d = BlockScales.Products4((byte*)&x[i], 34, (byte*)&y[i], 34);
            Vector256<int> p0 = Int8Dot.Dot32S(Vector256.Load(x[i].Qs), Vector256.Load(y[i].Qs));
            Vector256<int> p1 = Int8Dot.Dot32S(Vector256.Load(x[i + 1].Qs), Vector256.Load(y[i + 1].Qs));
            Vector256<int> p2 = Int8Dot.Dot32S(Vector256.Load(x[i + 2].Qs), Vector256.Load(y[i + 2].Qs));
            Vector256<int> p3 = Int8Dot.Dot32S(Vector256.Load(x[i + 3].Qs), Vector256.Load(y[i + 3].Qs));
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p0), Vector256.Create(d.GetElement(0)), acc);
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p1), Vector256.Create(d.GetElement(1)), acc);
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p2), Vector256.Create(d.GetElement(2)), acc);
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p3), Vector256.Create(d.GetElement(3)), acc);
        }
        for (; i < nb; i++)
        {
            Vector256<int> p0 = Int8Dot.Dot32S(Vector256.Load(x[i].Qs), Vector256.Load(y[i].Qs));
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p0), Vector256.Create(Fp.F16ToF32(x[i].D) * Fp.F16ToF32(y[i].D)), acc);
        }
        return Q0Order.Hsum8(acc);
    }

    /// <summary>Two blocks' integer dots per Vector512; the FMAs stay in block order on 256-bit halves.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V512(byte* w, byte* a, int n)
    {
        var x = (BlockQ8_0*)w; var y = (BlockQ8_0*)a;
        int nb = n / 32, i = 0;
        Vector256<float> acc = Vector256<float>.Zero;
        for (; i + 1 < nb; i += 2)
        {
            Vector512<sbyte> w01 = Vector512.Create(Vector256.Load(x[i].Qs), Vector256.Load(x[i + 1].Qs));
            Vector512<sbyte> a01 = Vector512.Create(Vector256.Load(y[i].Qs), Vector256.Load(y[i + 1].Qs));
            Vector512<float> p = Vector512.ConvertToSingle(Int8Dot.Dot64S(w01, a01));
            acc = Vector256.FusedMultiplyAdd(p.GetLower(), Vector256.Create(Fp.F16ToF32(x[i].D) * Fp.F16ToF32(y[i].D)), acc);
            acc = Vector256.FusedMultiplyAdd(p.GetUpper(), Vector256.Create(Fp.F16ToF32(x[i + 1].D) * Fp.F16ToF32(y[i + 1].D)), acc);
        }
        if (i < nb)
        {
            Vector256<int> p0 = Int8Dot.Dot32S(Vector256.Load(x[i].Qs), Vector256.Load(y[i].Qs));
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p0), Vector256.Create(Fp.F16ToF32(x[i].D) * Fp.F16ToF32(y[i].D)), acc);
        }
        return Q0Order.Hsum8(acc);
    }

    /// <summary>
    /// The rows kernel (see <see cref="VecDotRows"/>), AVX2: the activation's block scales widened and broadcast once
    /// per call, so a block's float step is one table load, one multiply and the FMA; four blocks per iteration with
    /// one prefetch step; the two-token tile takes each weight block's |w| and scale once for both tokens. Every result
    /// is bit-identical to <see cref="V256"/> (the same integer lanes, the same products d_w·d_a, the same FMA order).
    /// (Measured against the former two-accumulator kernel, which did not follow llama.cpp's order: 1.00-1.04 of its
    /// decode throughput, where <see cref="V256"/> per row reached 0.87-0.93; two rows interleaved lost 15 % from DRAM.)
    /// </summary>
    internal static void Rows(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride, byte* pairs = null, bool machine = true)
    {
        if (machine && ReadsPairs(tokens))
        {
            MachineRows(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride, pairs);
            return;
        }
        int nb = cols / 32;
        nint perToken = (nint)nb * 8; // floats: d_a of every block, 8 copies
        float* da = (float*)RowScratch.Get(perToken * sizeof(float) * tokens);
        float* f16 = Fp.F16Table;
        for (int t = 0; t < tokens; t++)
            for (int i = 0; i < nb; i++)
                Vector256.Create(f16[*(ushort*)(a + t * aStride + 34 * i)]).Store(da + t * perToken + 8 * i);
        // the tokens in TokenSlices (activation rows and their scales, 8 copies), whole passes of Row4
        int slice = TokenSlices.Tokens(nb * (34 + 32), 4) & ~3;
        for (int t0 = 0; t0 < tokens; t0 += slice)
        {
            int t1 = Math.Min(tokens, t0 + slice);
            byte* wr = w;
            for (int r = 0; r < rows; r++, wr += rowBytes)
            {
                int t = t0;
                for (; t + 3 < t1; t += 4)
                    Row4(wr, a + t * aStride, aStride, da + t * perToken, perToken, nb, y + t * yStride + r, yStride);
                for (; t + 1 < t1; t += 2)
                    y[t * yStride + r] = Row2(wr, a + t * aStride, a + (t + 1) * aStride, da + t * perToken, da + (t + 1) * perToken, nb, out y[(t + 1) * yStride + r]);
                if (t < t1) y[t * yStride + r] = Row(wr, a + t * aStride, da + t * perToken, nb);
            }
        }
    }

    /// <summary>
    /// <c>q8_0dots512</c> (MachineCode.s) where 512-bit AVX512-VNNI code may run, else null: two tokens per vector, so
    /// the float steps, which ggml's order fixes at one convert, multiply and FMA per 8 lanes, run at twice the width of
    /// <see cref="Row4"/>'s; each result bit-identical to <see cref="V256"/>.
    /// </summary>
    private static readonly delegate* unmanaged<MachineArgs*, void> Machine =
        (delegate* unmanaged<MachineArgs*, void>)Kernels.MachineCode.Avx512VnniEntry(Kernels.MachineCode.Q8_0Dots512Offset);

    /// <summary>Whether <see cref="Rows"/> runs the machine code for two tokens and more.</summary>
    internal static bool MachineCodeRuns => Machine != null;

    /// <summary>
    /// The tokens in pairs through <c>q8_0dots512</c> (whole groups of 16 rows from 12 tokens through <see cref="Q8_0x16Rows"/>), after preparing each pair's blocks (128 bytes: both tokens' codes
    /// + 128, then both d_a ×8) in <see cref="RowScratch"/>; an odd last token through <see cref="Row"/>.
    /// </summary>
    private static void MachineRows(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride, byte* prepared = null)
    {
        int nb = cols / 32, pairs = tokens / 2;
        float* f16 = Fp.F16Table;
        byte* scratch = RowScratch.Get((prepared == null ? PairsBytes(tokens, cols) : 0) + (nint)nb * 32);
        if (prepared == null)
        {
            prepared = scratch;
            PreparePairs(a, aStride, tokens, cols, prepared);
        }
        // whole groups of 16 rows with the rows in the vector lanes from Q8_0x16Rows.MinTokens, the rest here
        int done = Q8_0x16Rows.Runs(tokens, rows, rowBytes) ? Q8_0x16Rows.Rows(w, rowBytes, rows, prepared, pairs, nb, y, yStride) : 0;
        if (done < rows)
        {
            var args = new MachineArgs { W = w + done * rowBytes, RowBytes = rowBytes, Rows = rows - done, Prepared = prepared, Pairs = pairs, Blocks = nb, Y = y + done, YStride = yStride * sizeof(float), F16 = f16 };
            Machine(&args);
        }
        if ((tokens & 1) == 0) return;
        int last = tokens - 1;
        float* da = (float*)(scratch + (scratch == prepared ? PairsBytes(tokens, cols) : 0));
        for (int i = 0; i < nb; i++) Vector256.Create(f16[*(ushort*)(a + last * aStride + 34 * i)]).Store(da + 8 * i);
        for (int r = 0; r < rows; r++) y[last * yStride + r] = Row(w + r * rowBytes, a + last * aStride, da, nb);
    }

    /// <summary>Bytes of the token pairs <see cref="PreparePairs"/> writes: per pair and block 128.</summary>
    internal static nint PairsBytes(int tokens, int cols) => (nint)(tokens / 2) * (cols / 32) * 128;

    /// <summary>Whether the rows kernels read token pairs for this many tokens (the machine code runs, two tokens and more).</summary>
    internal static bool ReadsPairs(int tokens) => tokens > 1 && Machine != null;

    /// <summary>
    /// The Q8_0 rows' token pairs as <c>q8_0dots512</c> reads them, at s (<see cref="PairsBytes"/>): per pair and block,
    /// both tokens' codes + 128 (32 bytes each), then both d_a, 8 copies each; an odd last token is left out. actBlock:
    /// 34 (Q8_0 rows) or 36 (Q8_1 rows: d, s, then the same codes).
    /// </summary>
    internal static void PreparePairs(byte* a, nint aStride, int tokens, int cols, byte* s, int actBlock = 34)
    {
        int nb = cols / 32;
        nint pairBytes = (nint)nb * 128;
        float* f16 = Fp.F16Table;
        Vector256<byte> offset = Vector256.Create((byte)0x80);
        for (int t = 0; t < tokens / 2 * 2; t++)
        {
            byte* src = a + t * aStride, dst = s + (t >> 1) * pairBytes + 32 * (t & 1);
            for (int i = 0; i < nb; i++, src += actBlock, dst += 128)
            {
                (Vector256.Load(src + actBlock - 32) ^ offset).Store(dst);
                Vector256.Create(f16[*(ushort*)src]).Store((float*)(dst + 64));
            }
        }
    }

    /// <summary>
    /// Q5_0 and IQ4_NL weights (TBlock; llama.cpp hands them to the same tinyBLAS order as Q8_0, <see cref="Q0Order"/>)
    /// through Q8_0's rows kernel (<see cref="Rows"/>: <c>q8_0dots512</c>, else AVX2): the call's weight rows decoded once
    /// into Q8_0 blocks (the block's f16 d, every such block type's first field, then the 32 int8 values its vec-dot
    /// multiplies), so every result is bit-identical to that vec-dot; false (nothing done) below two tokens or without
    /// AVX2. Without the machine code (x86-64-v3 builds) IQ4_NL pp128 of the 110M shape: 2.1× the vec-dot per token (564
    /// vs 271 t/s, best of 4). machine: false takes the AVX2 kernel where the machine code runs too (tests).
    /// </summary>
    internal static bool DecodedRows<TBlock>(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride, byte* pairs = null, bool machine = true)
        where TBlock : struct, IBlock32
    {
        if (TBlock.HasBias || !DecodedRuns(tokens)) return false;
        int nb = cols / 32;
        nint qRowBytes = (nint)nb * 34;
        byte* q = RowScratch.GetForWeights(rows * qRowBytes);
        DecodeRows<TBlock>(w, rowBytes, rows, nb, q, null);
        Rows(q, qRowBytes, rows, a, aStride, tokens, cols, y, yStride, pairs, machine);
        return true;
    }

    /// <summary>Whether the block types' decoded rows run Q8_0's rows kernel: from 2 tokens, with the machine code or AVX2.</summary>
    private static bool DecodedRuns(int tokens) => tokens >= 2 && (Machine != null || System.Runtime.Intrinsics.X86.Avx2.IsSupported);

    /// <summary>
    /// Rows [0, rows) at w as Q8_0 blocks at q (34 bytes each: the block's f16 d, every such block type's first field, then
    /// the 32 int8 values its vec-dot multiplies); mins (the min types; or null): each block's f16 m, its second field, as
    /// f32 at mins[row · nb + block].
    /// </summary>
    private static void DecodeRows<TBlock>(byte* w, nint rowBytes, int rows, int nb, byte* q, float* mins)
        where TBlock : struct, IBlock32
    {
        float* f16 = Fp.F16Table;
        for (int r = 0; r < rows; r++)
        {
            byte* src = w + r * rowBytes, dst = q + (nint)r * nb * 34;
            for (int i = 0; i < nb; i++, src += TBlock.WeightBytes, dst += 34)
            {
                Prefetch.Step(src, TBlock.WeightBytes); // the weights stream from memory once per call
                *(ushort*)dst = *(ushort*)src;
                TBlock.Decode256(src).Store((sbyte*)dst + 2);
                if (mins != null) mins[r * nb + i] = f16[*(ushort*)(src + 2)];
            }
        }
    }

    /// <summary>
    /// Q4_1 and Q5_1 weights (TBlock) · Q8_1 activations in ggml's order (<see cref="VecDotBlock32{TBlock}"/>): the 8 code
    /// lanes through <c>q8_0dots512</c> as <see cref="DecodedRows{TBlock}"/> (the rows decoded to Q8_0 blocks; the token
    /// pairs prepared from the q8_1 rows, whose d and codes are a Q8_0 block's; an odd last token's row copied to Q8_0
    /// blocks for <see cref="Row"/>), then per row and token y = hsum + summs with summs = fma(m_w, s_a, summs) over the
    /// blocks in order, 32 tokens per pass in four vectors. Without the machine code (or machine: false, tests) every
    /// token's row is copied to Q8_0 blocks for the AVX2 rows kernel (x86-64-v3 builds, Q4_1 pp128 of the 110M shape:
    /// 1.9× the vec-dot per token, 636 vs 335 t/s best of 4). False (nothing done) below two tokens or without AVX2.
    /// </summary>
    internal static bool DecodedMinRows<TBlock>(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride, bool machine = true)
        where TBlock : struct, IBlock32
    {
        if (!TBlock.HasBias || !DecodedRuns(tokens)) return false;
        machine &= Machine != null;
        int nb = cols / 32, tp = (tokens + 31) & ~31;
        nint qRowBytes = (nint)nb * 34;
        byte* q = RowScratch.GetForWeights(rows * qRowBytes + tokens * qRowBytes + ((nint)rows * nb + (nint)tp * nb) * sizeof(float));
        byte* aq = q + rows * qRowBytes;
        float* mw = (float*)(aq + tokens * qRowBytes); // [row][block]
        float* sa = mw + (nint)rows * nb;              // [block][token], padding tokens 0
        float* f16 = Fp.F16Table;
        DecodeRows<TBlock>(w, rowBytes, rows, nb, q, mw); // every min type's block starts with f16 d, f16 m
        for (int t = 0; t < tp; t++)
        {
            byte* src = a + t * aStride;
            for (int i = 0; i < nb; i++, src += 36) sa[i * tp + t] = t < tokens ? f16[*(ushort*)(src + 2)] : 0; // s
        }
        // machine code: the pairs straight from the q8_1 rows, an odd last token's row copied to Q8_0 blocks for Row;
        // else (AVX2) every token's row copied to Q8_0 blocks for the AVX2 rows kernel
        byte* pairs = null;
        if (machine)
        {
            pairs = RowScratch.Get(PairsBytes(tokens, cols) + (nint)nb * 32);
            PreparePairs(a, aStride, tokens, cols, pairs, actBlock: 36);
        }
        for (int t = machine ? tokens & ~1 : 0; t < tokens; t++)
        {
            byte* src = a + t * aStride, dst = aq + t * qRowBytes;
            for (int i = 0; i < nb; i++, src += 36, dst += 34)
            {
                *(ushort*)dst = *(ushort*)src;                    // d
                Vector256.Load(src + 4).Store(dst + 2);           // the 32 codes
            }
        }
        if (machine) MachineRows(q, qRowBytes, rows, aq, qRowBytes, tokens, cols, y, yStride, pairs);
        else Rows(q, qRowBytes, rows, aq, qRowBytes, tokens, cols, y, yStride, machine: false);
        // 32 tokens per pass: four independent fma chains (one alone waits on the fma latency)
        float* v = stackalloc float[32];
        for (int r = 0; r < rows; r++)
            for (int t0 = 0; t0 < tokens; t0 += 32)
            {
                Vector256<float> s0 = Vector256<float>.Zero, s1 = Vector256<float>.Zero, s2 = Vector256<float>.Zero, s3 = Vector256<float>.Zero;
                float* mr = mw + (nint)r * nb, sp = sa + t0;
                for (int i = 0; i < nb; i++, sp += tp)
                {
                    Vector256<float> m = Vector256.Create(mr[i]);
                    s0 = Vector256.FusedMultiplyAdd(m, Vector256.Load(sp), s0);
                    s1 = Vector256.FusedMultiplyAdd(m, Vector256.Load(sp + 8), s1);
                    s2 = Vector256.FusedMultiplyAdd(m, Vector256.Load(sp + 16), s2);
                    s3 = Vector256.FusedMultiplyAdd(m, Vector256.Load(sp + 24), s3);
                }
                s0.Store(v); s1.Store(v + 8); s2.Store(v + 16); s3.Store(v + 24);
                for (int t = t0; t < Math.Min(t0 + 32, tokens); t++) y[t * yStride + r] += v[t - t0];
            }
        return true;
    }

    /// <summary>Q8_0Args of MachineCode.s: 9 fields of 8 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MachineArgs
    {
        public byte* W;
        public nint RowBytes, Rows;
        public byte* Prepared;
        public nint Pairs, Blocks;
        public float* Y;
        public nint YStride;
        public float* F16;
    }

    /// <summary>acc = fma(lane dots of block (w, a), d_w · d_a, acc): one block of <see cref="V256"/>; da = d_a ×8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Block(byte* w, byte* a, float* da, float* f16, Vector256<float> acc) =>
        Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Int8Dot.Dot32S(Vector256.Load((sbyte*)w + 2), Vector256.Load((sbyte*)a + 2))),
                                   Vector256.Create(f16[*(ushort*)w]) * Vector256.Load(da), acc);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Row(byte* w, byte* a, float* da, int nb)
    {
        float* f16 = Fp.F16Table;
        Vector256<float> acc = Vector256<float>.Zero;
        int i = 0;
        for (; i + 3 < nb; i += 4, w += 4 * 34, a += 4 * 34, da += 32)
        {
            Prefetch.Step(w, 4 * 34);
            acc = Block(w, a, da, f16, acc);
            acc = Block(w + 34, a + 34, da + 8, f16, acc);
            acc = Block(w + 68, a + 68, da + 16, f16, acc);
            acc = Block(w + 102, a + 102, da + 24, f16, acc);
        }
        for (; i < nb; i++, w += 34, a += 34, da += 8) acc = Block(w, a, da, f16, acc);
        return Q0Order.Hsum8(acc);
    }

    /// <summary>
    /// One row against four tokens (a0 + k·aStride, da0 + k·perToken; results at y0 + k·yStride): four independent FMA
    /// chains, so the loop is not bound by one chain's latency as <see cref="Row2"/>'s two are; |q| and the weight
    /// scale serve all four. Each token's result bit-identical to <see cref="Row"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row4(byte* w, byte* a0, nint aStride, float* da0, nint perToken, int nb, float* y0, nint yStride)
    {
        float* f16 = Fp.F16Table;
        byte* a1 = a0 + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
        float* da1 = da0 + perToken, da2 = da1 + perToken, da3 = da2 + perToken;
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero, acc2 = Vector256<float>.Zero, acc3 = Vector256<float>.Zero;
        for (int i = 0; i < nb; i++, w += 34, a0 += 34, a1 += 34, a2 += 34, a3 += 34, da0 += 8, da1 += 8, da2 += 8, da3 += 8)
        {
            if ((i & 3) == 0) Prefetch.Step(w, 4 * 34);
            Vector256<sbyte> q = Vector256.Load((sbyte*)w + 2);
            Vector256<byte> u = Int8Dot.Abs(q);
            Vector256<float> dw = Vector256.Create(f16[*(ushort*)w]);
            acc0 = TokenStep(u, q, dw, a0, da0, acc0);
            acc1 = TokenStep(u, q, dw, a1, da1, acc1);
            acc2 = TokenStep(u, q, dw, a2, da2, acc2);
            acc3 = TokenStep(u, q, dw, a3, da3, acc3);
        }
        y0[0] = Q0Order.Hsum8(acc0);
        y0[yStride] = Q0Order.Hsum8(acc1);
        y0[2 * yStride] = Q0Order.Hsum8(acc2);
        y0[3 * yStride] = Q0Order.Hsum8(acc3);
    }

    /// <summary>One token's step of a shared weight block (u = |q|, dw its scale): fma(lane dots, d_w · d_a, acc), as <see cref="Block"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> TokenStep(Vector256<byte> u, Vector256<sbyte> q, Vector256<float> dw, byte* a, float* da, Vector256<float> acc) =>
        Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Int8Dot.Dot32U(u, Int8Dot.Sign(Vector256.Load((sbyte*)a + 2), q))), dw * Vector256.Load(da), acc);

    /// <summary>One row against two tokens; each token's result bit-identical to <see cref="Row"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Row2(byte* w, byte* a0, byte* a1, float* da0, float* da1, int nb, out float y1)
    {
        float* f16 = Fp.F16Table;
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        for (int i = 0; i < nb; i++, w += 34, a0 += 34, a1 += 34, da0 += 8, da1 += 8)
        {
            if ((i & 3) == 0) Prefetch.Step(w, 4 * 34);
            Vector256<sbyte> q = Vector256.Load((sbyte*)w + 2);
            Vector256<byte> u = Int8Dot.Abs(q);
            Vector256<float> dw = Vector256.Create(f16[*(ushort*)w]);
            acc0 = TokenStep(u, q, dw, a0, da0, acc0);
            acc1 = TokenStep(u, q, dw, a1, da1, acc1);
        }
        y1 = Q0Order.Hsum8(acc1);
        return Q0Order.Hsum8(acc0);
    }
}

/// <summary>
/// The float order of llama.cpp's x86 matmul for the Q8_0-activation block types it hands to tinyBLAS (Q8_0, Q5_0,
/// IQ4_NL; llamafile/sgemm.cpp, tinyBLAS_Q0_AVX): per output 8 float lanes, lane k holding the integer dot of bytes
/// 4k..4k+3 of each block; per block, lane = fma(lane dot, d_w·d_a, lane), blocks in order; at the end hsum:
/// t_k = lane k + lane k+4, then (t0 + t2) + (t1 + t3). Activation rounding flips on near-ties depend on these bits.
/// </summary>
internal static unsafe class Q0Order
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Hsum8(Vector256<float> acc) => Hsum8(acc.GetLower(), acc.GetUpper());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Hsum8(Vector128<float> lo, Vector128<float> hi)
    {
        Vector128<float> t = lo + hi;
        return (t.GetElement(0) + t.GetElement(2)) + (t.GetElement(1) + t.GetElement(3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Hsum8(float* lanes) => ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));

    /// <summary>Scalar form of one block: lanes[k] = fma(Σ_{j=4k}^{4k+3} w[j]·a[j], d, lanes[k]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block(sbyte* w, sbyte* a, float d, float* lanes)
    {
        for (int k = 0; k < 8; k++)
        {
            int s = w[4 * k] * a[4 * k] + w[4 * k + 1] * a[4 * k + 1] + w[4 * k + 2] * a[4 * k + 2] + w[4 * k + 3] * a[4 * k + 3];
            lanes[k] = MathF.FusedMultiplyAdd(s, d, lanes[k]);
        }
    }
}
