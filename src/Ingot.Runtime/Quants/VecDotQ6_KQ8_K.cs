using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Q6_K weights · Q8_K activations. Each half (128 elements) has ql[64], qh[32], 8 int8 scales (one per 16). Group g
/// (32 elements at 32g) takes low/high nibbles of ql[0..31]/ql[32..63] and 2 bits of qh at 2g; code 0..63, c = code-32.
/// Float order of llama.cpp's x86 ggml_vec_dot_q6_K_q8_K: 8 int lanes per super-block, lane k = Σ over the 8 groups of
/// sc·Σ (code−32)·q8 over bytes 4k..4k+3 of the group (the −32 as maddubs(32, q8), per lane), then
/// acc = fma(lanes, d_a·d_w, acc) and the hsum of <see cref="Q0Order"/> at the end; identical on every path.
/// </summary>
public static unsafe class VecDotQ6_KQ8_K
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(byte* w, byte* a, int n)
    {
        // V256 first: on the AVX-512 machine measured here the 512-bit form (two 256-bit activation halves per vector,
        // emulated byte shifts) was 10-25 % slower; V512 stays as the path for a CPU where it wins (tested either way).
        if (Vector256.IsHardwareAccelerated) return V256(w, a, n);
        if (Vector512.IsHardwareAccelerated) return V512(w, a, n);
        if (Vector128.IsHardwareAccelerated) return V128(w, a, n);
        return Scalar(w, a, n);
    }

    public static float Scalar(byte* w, byte* a, int n) => VecDotScalar.Q6_KQ8_K(w, a, n);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V128(byte* w, byte* a, int n)
    {
        var x = (BlockQ6_K*)w; var y = (BlockQ8_K*)a;
        Vector128<float> accLo = Vector128<float>.Zero, accHi = Vector128<float>.Zero;
        Vector128<byte> mask = Vector128.Create((byte)0x0F), three = Vector128.Create((byte)3), k32 = Vector128.Create((byte)32);
        for (int i = 0; i < n / 256; i++)
        {
            byte* ql = x[i].Ql; byte* qh = x[i].Qh; sbyte* sc = x[i].Scales; sbyte* q8 = y[i].Qs;
            Vector128<int> isumLo = Vector128<int>.Zero, isumHi = Vector128<int>.Zero; // bytes 0..15 / 16..31 of each group
            for (int h = 0; h < 2; h++, ql += 64, qh += 32, sc += 8, q8 += 128)
                for (int part = 0; part < 2; part++)
                {
                    int o = 16 * part;
                    Vector128<byte> qa = Vector128.Load(ql + o), qb = Vector128.Load(ql + 32 + o), hv = Vector128.Load(qh + o);
                    Vector128<byte> c0 = (qa & mask) | Int8Dot.ShiftLeftBytes(hv & three, 4);
                    Vector128<byte> c1 = (qb & mask) | Int8Dot.ShiftLeftBytes(Int8Dot.ShiftRightBytes(hv, 2) & three, 4);
                    Vector128<byte> c2 = Int8Dot.ShiftRightBytes(qa, 4) | Int8Dot.ShiftLeftBytes(Int8Dot.ShiftRightBytes(hv, 4) & three, 4);
                    Vector128<byte> c3 = Int8Dot.ShiftRightBytes(qb, 4) | Int8Dot.ShiftLeftBytes(Int8Dot.ShiftRightBytes(hv, 6), 4);
                    Vector128<sbyte> a0 = Vector128.Load(q8 + o), a1 = Vector128.Load(q8 + 32 + o), a2 = Vector128.Load(q8 + 64 + o), a3 = Vector128.Load(q8 + 96 + o);
                    Vector128<short> s0 = Vector128.Create((short)sc[part]), s1 = Vector128.Create((short)sc[2 + part]);
                    Vector128<short> s2 = Vector128.Create((short)sc[4 + part]), s3 = Vector128.Create((short)sc[6 + part]);
                    Vector128<int> t = Int8Dot.Dot16UScaled(c0, a0, s0) - Int8Dot.Dot16UScaled(k32, a0, s0)
                                     + Int8Dot.Dot16UScaled(c1, a1, s1) - Int8Dot.Dot16UScaled(k32, a1, s1)
                                     + Int8Dot.Dot16UScaled(c2, a2, s2) - Int8Dot.Dot16UScaled(k32, a2, s2)
                                     + Int8Dot.Dot16UScaled(c3, a3, s3) - Int8Dot.Dot16UScaled(k32, a3, s3);
                    if (part == 0) isumLo += t; else isumHi += t;
                }
            Vector128<float> d = Vector128.Create(y[i].D * Fp.F16ToF32(x[i].D));
            accLo = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(isumLo), d, accLo);
            accHi = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(isumHi), d, accHi);
        }
        return Q0Order.Hsum8(accLo, accHi);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V256(byte* w, byte* a, int n)
    {
        var x = (BlockQ6_K*)w; var y = (BlockQ8_K*)a;
        float* f16 = Fp.F16Table; // read once: in the loop its static-init check makes the JIT spill live vectors
        Vector256<float> acc = Vector256<float>.Zero;
        for (int i = 0; i < n / 256; i++)
        {
            Prefetch.Step((byte*)&x[i], 210);
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Lanes(&x[i], y[i].Qs)), Vector256.Create(y[i].D * f16[*(ushort*)&x[i].D]), acc);
        }
        return Q0Order.Hsum8(acc);
    }

    /// <summary>ggml's 8 int lanes of one super-block against q8 (256 bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Lanes(BlockQ6_K* x, sbyte* q8)
    {
        // the 16 int8 scales widened to int16: words 0-7 (first half) in the low lane, 8-15 in the high lane
        Vector256<short> sc16 = Vector256.WidenLower(Vector128.Load(x->Scales).ToVector256());
        var h0 = new Half256(x->Ql, x->Qh, sc16.GetLower());
        Vector256<int> l = h0.Dot(0, q8) + h0.Dot(1, q8 + 32) + h0.Dot(2, q8 + 64) + h0.Dot(3, q8 + 96);
        var h1 = new Half256(x->Ql + 64, x->Qh + 32, sc16.GetUpper());
        return l + h1.Dot(0, q8 + 128) + h1.Dot(1, q8 + 160) + h1.Dot(2, q8 + 192) + h1.Dot(3, q8 + 224);
    }

    /// <summary>The same with the activation's 8 vectors maddubs(32, q8) precomputed at m32 (<see cref="Rows"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Lanes(BlockQ6_K* x, sbyte* q8, short* m32)
    {
        Vector256<short> sc16 = Vector256.WidenLower(Vector128.Load(x->Scales).ToVector256());
        var h0 = new Half256(x->Ql, x->Qh, sc16.GetLower());
        Vector256<int> l = h0.Dot(0, q8, m32) + h0.Dot(1, q8 + 32, m32 + 16) + h0.Dot(2, q8 + 64, m32 + 32) + h0.Dot(3, q8 + 96, m32 + 48);
        var h1 = new Half256(x->Ql + 64, x->Qh + 32, sc16.GetUpper());
        return l + h1.Dot(0, q8 + 128, m32 + 64) + h1.Dot(1, q8 + 160, m32 + 80) + h1.Dot(2, q8 + 192, m32 + 96) + h1.Dot(3, q8 + 224, m32 + 112);
    }

    /// <summary>
    /// One half (128 elements, groups g = 0..3 of 32) of a super-block for the 256-bit paths: its raw bits, decoded one
    /// group at a time (few live registers). Code = low 4 bits | 2 high bits &lt;&lt; 4, 0..63; the group's 16-bit scale
    /// vector has scale 2g for bytes 0-15 and 2g+1 for bytes 16-31.
    /// </summary>
    private readonly struct Half256
    {
        private readonly Vector256<byte> _qa, _qb, _qh, _s;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Half256(byte* ql, byte* qh, Vector128<short> scales)
        {
            _qa = Vector256.Load(ql);
            _qb = Vector256.Load(ql + 32);
            _qh = Vector256.Load(qh);
            _s = Vector256.Create(scales).AsByte(); // this half's 8 scales in both lanes
        }

        /// <summary>Group g's codes: the high bits of group g are bits 2g..2g+1 of qh, moved to bits 4-5 with one 16-bit shift (or none) and one mask (bits that cross bytes land outside 0x30).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<byte> Codes(int g)
        {
            Vector256<byte> mask = Vector256.Create((byte)0x0F), high = Vector256.Create((byte)0x30);
            return g switch
            {
                0 => (_qa & mask) | (Vector256.ShiftLeft(_qh.AsUInt16(), 4).AsByte() & high),
                1 => (_qb & mask) | (Vector256.ShiftLeft(_qh.AsUInt16(), 2).AsByte() & high),
                2 => Int8Dot.ShiftRightBytes(_qa, 4) | (_qh & high),
                _ => Int8Dot.ShiftRightBytes(_qb, 4) | (Vector256.ShiftRightLogical(_qh.AsUInt16(), 2).AsByte() & high),
            };
        }

        /// <summary>Group g's scale vector: vpshufb of 16-bit words (2g, 2g+1) into [8 × word 2g | 8 × word 2g+1] (literal patterns).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<short> Scales(int g) => Int8Dot.ShuffleBytes(_s, g switch
        {
            0 => Vector256.Create(Vector128.Create((ushort)0x0100), Vector128.Create((ushort)0x0302)).AsByte(),
            1 => Vector256.Create(Vector128.Create((ushort)0x0504), Vector128.Create((ushort)0x0706)).AsByte(),
            2 => Vector256.Create(Vector128.Create((ushort)0x0908), Vector128.Create((ushort)0x0B0A)).AsByte(),
            _ => Vector256.Create(Vector128.Create((ushort)0x0D0C), Vector128.Create((ushort)0x0F0E)).AsByte(),
        }).AsInt16();

        /// <summary>
        /// Group g against its 32 activation bytes, ggml's form: maddubs(code, q8) − maddubs(32, q8) in 16 bits
        /// (|Σ(code − 32)·q8| over 2 bytes ≤ 8192), then madd with the scale; the same int32 lanes as scaling both
        /// products apart and subtracting.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<int> Dot(int g, sbyte* q8)
        {
            Vector256<sbyte> a = Vector256.Load(q8);
            return Int8Dot.Madd(Int8Dot.PairProducts(Codes(g), a) - Int8Dot.PairProducts(Vector256.Create((byte)32), a), Scales(g));
        }

        /// <summary>The same with maddubs(32, q8) precomputed at m32.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<int> Dot(int g, sbyte* q8, short* m32) =>
            Int8Dot.Madd(Int8Dot.PairProducts(Codes(g), Vector256.Load(q8)) - Vector256.Load(m32), Scales(g));

        /// <summary>Group g against four tokens (q8 + k·aStep, m32 + k·mStep): codes and scale vector decoded once.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Dot4(int g, sbyte* q8, nint aStep, short* m32, nint mStep, ref Vector256<int> l0, ref Vector256<int> l1, ref Vector256<int> l2, ref Vector256<int> l3)
        {
            Vector256<byte> c = Codes(g);
            Vector256<short> sc = Scales(g);
            l0 += Int8Dot.Madd(Int8Dot.PairProducts(c, Vector256.Load(q8)) - Vector256.Load(m32), sc);
            l1 += Int8Dot.Madd(Int8Dot.PairProducts(c, Vector256.Load(q8 + aStep)) - Vector256.Load(m32 + mStep), sc);
            l2 += Int8Dot.Madd(Int8Dot.PairProducts(c, Vector256.Load(q8 + 2 * aStep)) - Vector256.Load(m32 + 2 * mStep), sc);
            l3 += Int8Dot.Madd(Int8Dot.PairProducts(c, Vector256.Load(q8 + 3 * aStep)) - Vector256.Load(m32 + 3 * mStep), sc);
        }

        /// <summary>Group g against two tokens: codes and scale vector decoded once.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Dot2(int g, sbyte* q8a, short* m32a, sbyte* q8b, short* m32b, ref Vector256<int> la, ref Vector256<int> lb)
        {
            Vector256<byte> c = Codes(g);
            Vector256<short> sc = Scales(g);
            la += Int8Dot.Madd(Int8Dot.PairProducts(c, Vector256.Load(q8a)) - Vector256.Load(m32a), sc);
            lb += Int8Dot.Madd(Int8Dot.PairProducts(c, Vector256.Load(q8b)) - Vector256.Load(m32b), sc);
        }
    }

    /// <summary>
    /// The rows kernel (see <see cref="VecDotRows"/>), AVX2: maddubs(32, q8), which depends on the activation only, once
    /// per token and call; each row's codes and scales decoded once per pair of tokens. Every result is bit-identical
    /// to <see cref="V256"/> (the same integer lanes, the same float steps). (Measured on a 32000×768 output matrix, 2
    /// threads: 1.1× the former kernel, which took the −32 from Q8_K's bsums once per super-block and did not follow
    /// ggml's lanes, for one token and 1.5× for two; the exact V256 per row, with the −32 as its own maddubs and madd per
    /// group, reached 0.87.)
    /// </summary>
    internal static void Rows(byte* w, nint rowBytes, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        if (Q6_Kx16Rows.Runs(tokens, rows))
        {
            // whole groups of 16 rows with the rows in the vector lanes; the rest here
            int done = Q6_Kx16Rows.Rows(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
            if (!KQuantX16.Rest(done, ref w, rowBytes, ref rows, ref y)) return;
        }
        int blocks = cols / 256;
        nint perToken = (nint)blocks * 256; // 8 vectors of 16 shorts per super-block
        // the machine code's accumulators follow m in the same scratch: 8 floats per token of a slice
        int slice = Math.Min(tokens, TokenSlices.Tokens(blocks * (292 + 2 * 256), 8)); // Q8_K rows and their maddubs(32, q8)
        short* m = (short*)RowScratch.Get(perToken * tokens + (s_dots512 != null ? (nint)slice * 32 : 0));
        Vector256<byte> k32 = Vector256.Create((byte)32);
        for (int t = 0; t < tokens; t++)
        {
            var ya = (BlockQ8_K*)(a + t * aStride);
            short* mt = (short*)((byte*)m + t * perToken);
            for (int i = 0; i < blocks; i++)
                for (int j = 0; j < 8; j++)
                    Int8Dot.PairProducts(k32, Vector256.Load(ya[i].Qs + 32 * j)).Store(mt + 128 * i + 16 * j);
        }
        if (s_dots512 != null)
        {
            MachineRows(w, rowBytes, rows, a, aStride, m, perToken, tokens, blocks, slice, (byte*)m + perToken * tokens, y, yStride);
            return;
        }
        for (int r = 0; r < rows; r++, w += rowBytes)
        {
            int t = 0;
            for (; t + 3 < tokens; t += 4)
                Row4(w, a + t * aStride, aStride, (short*)((byte*)m + t * perToken), perToken, blocks, y + t * yStride + r, yStride);
            for (; t + 1 < tokens; t += 2)
                y[t * yStride + r] = Row2(w, a + t * aStride, a + (t + 1) * aStride, (short*)((byte*)m + t * perToken), (short*)((byte*)m + (t + 1) * perToken), blocks, out y[(t + 1) * yStride + r]);
            if (t < tokens) y[t * yStride + r] = Row(w, a + t * aStride, (short*)((byte*)m + t * perToken), blocks);
        }
    }

    /// <summary>
    /// <see cref="Rows"/> in machine code (<c>q6_kdots512</c>), which ends every (row, token) as <see cref="Row"/> does
    /// (Q0Order's 8-lane hsum) and stores it, the tokens in <see cref="TokenSlices"/>; its accumulators are one row's,
    /// 32 bytes per token of a slice, at scratch.
    /// </summary>
    private static void MachineRows(byte* w, nint rowBytes, int rows, byte* a, nint aStride, short* m, nint perToken, int tokens, int blocks, int slice, byte* scratch, float* y, nint yStride)
    {
        Args args = default;
        args.W = w;
        args.Scratch = scratch;
        (args.RowBytes, args.Rows, args.AStride, args.MStride, args.Blocks, args.YStride) = (rowBytes, rows, aStride, perToken, blocks, yStride * sizeof(float));
        for (int t0 = 0; t0 < tokens; t0 += slice)
        {
            args.A = a + t0 * aStride;
            args.M = (short*)((byte*)m + t0 * perToken);
            args.Y = y + t0 * yStride;
            args.Tokens = Math.Min(slice, tokens - t0);
            s_dots512(&args);
        }
    }

    /// <summary>Q6_KArgs of MachineCode.KQuants.s: 12 fields of 8 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Args
    {
        public byte* W;
        public nint RowBytes, Rows;
        public byte* A;
        public nint AStride;
        public short* M;
        public nint MStride, Tokens, Blocks;
        public byte* Scratch;
        public float* Y;
        public nint YStride;
    }

    /// <summary>
    /// The machine-code rows kernel where 512-bit vectors are on and the CPU has AVX512-VNNI, else null (decided once):
    /// per token and super-block 12 vector ops on two groups at a time instead of the 256-bit kernel's 32 on one.
    /// </summary>
    private static readonly delegate* unmanaged<Args*, void> s_dots512 =
        (delegate* unmanaged<Args*, void>)Kernels.MachineCode.Avx512VnniEntry(Kernels.MachineCode.Q6_KDots512Offset);

    /// <summary>Whether the rows kernel runs machine code here (tests assert the path they check ran).</summary>
    internal static bool MachineCodeRuns => s_dots512 != null;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Row(byte* w, byte* a, short* m, int blocks)
    {
        var x = (BlockQ6_K*)w; var y = (BlockQ8_K*)a;
        float* f16 = Fp.F16Table;
        Vector256<float> acc = Vector256<float>.Zero;
        for (int i = 0; i < blocks; i++, m += 128)
        {
            Prefetch.Step((byte*)&x[i], 210);
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Lanes(&x[i], y[i].Qs, m)), Vector256.Create(y[i].D * f16[*(ushort*)&x[i].D]), acc);
        }
        return Q0Order.Hsum8(acc);
    }

    /// <summary>
    /// One row against four tokens (a0 + k·aStride, m0 + k·perToken bytes; results at y0 + k·yStride): each group's codes
    /// and scales decoded once for the four (Row2 decodes them per pair). Each token's result bit-identical to
    /// <see cref="Row"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row4(byte* w, byte* a0, nint aStride, short* m0, nint perToken, int blocks, float* y0, nint yStride)
    {
        var x = (BlockQ6_K*)w;
        float* f16 = Fp.F16Table;
        nint mStep = perToken / sizeof(short);
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int i = 0; i < blocks; i++, m0 += 128)
        {
            Prefetch.Step((byte*)&x[i], 210);
            Vector256<short> sc16 = Vector256.WidenLower(Vector128.Load(x[i].Scales).ToVector256());
            Vector256<int> l0 = Vector256<int>.Zero, l1 = l0, l2 = l0, l3 = l0;
            sbyte* q = ((BlockQ8_K*)a0)[i].Qs;
            var h = new Half256(x[i].Ql, x[i].Qh, sc16.GetLower());
            h.Dot4(0, q, aStride, m0, mStep, ref l0, ref l1, ref l2, ref l3);
            h.Dot4(1, q + 32, aStride, m0 + 16, mStep, ref l0, ref l1, ref l2, ref l3);
            h.Dot4(2, q + 64, aStride, m0 + 32, mStep, ref l0, ref l1, ref l2, ref l3);
            h.Dot4(3, q + 96, aStride, m0 + 48, mStep, ref l0, ref l1, ref l2, ref l3);
            h = new Half256(x[i].Ql + 64, x[i].Qh + 32, sc16.GetUpper());
            h.Dot4(0, q + 128, aStride, m0 + 64, mStep, ref l0, ref l1, ref l2, ref l3);
            h.Dot4(1, q + 160, aStride, m0 + 80, mStep, ref l0, ref l1, ref l2, ref l3);
            h.Dot4(2, q + 192, aStride, m0 + 96, mStep, ref l0, ref l1, ref l2, ref l3);
            h.Dot4(3, q + 224, aStride, m0 + 112, mStep, ref l0, ref l1, ref l2, ref l3);
            float dw = f16[*(ushort*)&x[i].D];
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(l0), Vector256.Create(((BlockQ8_K*)a0)[i].D * dw), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(l1), Vector256.Create(((BlockQ8_K*)(a0 + aStride))[i].D * dw), acc1);
            acc2 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(l2), Vector256.Create(((BlockQ8_K*)(a0 + 2 * aStride))[i].D * dw), acc2);
            acc3 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(l3), Vector256.Create(((BlockQ8_K*)(a0 + 3 * aStride))[i].D * dw), acc3);
        }
        y0[0] = Q0Order.Hsum8(acc0);
        y0[yStride] = Q0Order.Hsum8(acc1);
        y0[2 * yStride] = Q0Order.Hsum8(acc2);
        y0[3 * yStride] = Q0Order.Hsum8(acc3);
    }

    /// <summary>One row against two tokens: each half decoded once; each token's result bit-identical to <see cref="Row"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Row2(byte* w, byte* a0, byte* a1, short* m0, short* m1, int blocks, out float y1)
    {
        var x = (BlockQ6_K*)w; var ya = (BlockQ8_K*)a0; var yb = (BlockQ8_K*)a1;
        float* f16 = Fp.F16Table;
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        for (int i = 0; i < blocks; i++, m0 += 128, m1 += 128)
        {
            Prefetch.Step((byte*)&x[i], 210);
            Vector256<short> sc16 = Vector256.WidenLower(Vector128.Load(x[i].Scales).ToVector256());
            Vector256<int> l0 = Vector256<int>.Zero, l1 = Vector256<int>.Zero;
            var h = new Half256(x[i].Ql, x[i].Qh, sc16.GetLower());
            sbyte* qa = ya[i].Qs, qb = yb[i].Qs;
            h.Dot2(0, qa, m0, qb, m1, ref l0, ref l1);
            h.Dot2(1, qa + 32, m0 + 16, qb + 32, m1 + 16, ref l0, ref l1);
            h.Dot2(2, qa + 64, m0 + 32, qb + 64, m1 + 32, ref l0, ref l1);
            h.Dot2(3, qa + 96, m0 + 48, qb + 96, m1 + 48, ref l0, ref l1);
            h = new Half256(x[i].Ql + 64, x[i].Qh + 32, sc16.GetUpper());
            h.Dot2(0, qa + 128, m0 + 64, qb + 128, m1 + 64, ref l0, ref l1);
            h.Dot2(1, qa + 160, m0 + 80, qb + 160, m1 + 80, ref l0, ref l1);
            h.Dot2(2, qa + 192, m0 + 96, qb + 192, m1 + 96, ref l0, ref l1);
            h.Dot2(3, qa + 224, m0 + 112, qb + 224, m1 + 112, ref l0, ref l1);
            float dw = f16[*(ushort*)&x[i].D];
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(l0), Vector256.Create(ya[i].D * dw), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(l1), Vector256.Create(yb[i].D * dw), acc1);
        }
        y1 = Q0Order.Hsum8(acc1);
        return Q0Order.Hsum8(acc0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Pair16(sbyte lo, sbyte hi) => Vector256.Create(Vector128.Create((short)lo), Vector128.Create((short)hi));

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V512(byte* w, byte* a, int n)
    {
        var x = (BlockQ6_K*)w; var y = (BlockQ8_K*)a;
        Vector256<float> acc = Vector256<float>.Zero;
        Vector512<byte> mask = Vector512.Create((byte)0x0F), three = Vector512.Create((byte)3), k32 = Vector512.Create((byte)32);
        for (int i = 0; i < n / 256; i++)
        {
            byte* ql = x[i].Ql; byte* qh = x[i].Qh; sbyte* sc = x[i].Scales; sbyte* q8 = y[i].Qs;
            Vector512<int> isum = Vector512<int>.Zero;
            for (int h = 0; h < 2; h++, ql += 64, qh += 32, sc += 8, q8 += 128)
            {
                Vector512<byte> qab = Vector512.Load(ql);              // groups 0|1 (low nibbles), 2|3 (high nibbles)
                Vector256<byte> hv = Vector256.Load(qh);
                Vector512<byte> h01 = Vector512.Create(hv, Int8Dot.ShiftRightBytes(hv, 2)); // bits for groups 0|1; >>4 → 2|3
                Vector512<byte> c01 = (qab & mask) | Int8Dot.ShiftLeftBytes(h01 & three, 4);
                Vector512<byte> c23 = Int8Dot.ShiftRightBytes(qab, 4) | Int8Dot.ShiftLeftBytes(Int8Dot.ShiftRightBytes(h01, 4) & three, 4);
                Vector512<sbyte> a01 = Vector512.Load(q8), a23 = Vector512.Load(q8 + 64);
                Vector512<short> s01 = Vector512.Create(Pair16(sc[0], sc[1]), Pair16(sc[2], sc[3])), s23 = Vector512.Create(Pair16(sc[4], sc[5]), Pair16(sc[6], sc[7]));
                isum += Int8Dot.Dot64UScaled(c01, a01, s01) - Int8Dot.Dot64UScaled(k32, a01, s01)
                      + Int8Dot.Dot64UScaled(c23, a23, s23) - Int8Dot.Dot64UScaled(k32, a23, s23);
            }
            // the two 256-bit halves hold different groups: their lanes add (exact ints) into ggml's 8 lanes
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(isum.GetLower() + isum.GetUpper()), Vector256.Create(y[i].D * Fp.F16ToF32(x[i].D)), acc);
        }
        return Q0Order.Hsum8(acc);
    }
}
