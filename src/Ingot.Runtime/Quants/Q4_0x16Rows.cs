using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ingot.Formats;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Q4_0 · Q8_0 on weights in Ingot's interleaved layout (<see cref="Q4_0x16"/>: 16 rows per group, per block their
/// scales, then code dword k of all 16 rows). Every row's result has the vec-dot's bits
/// (acc = fma(Σ(c − 8)·q, d_w·d_a, acc) per block in order), as <see cref="Q4_0Groups"/> and the GEMMs give them from
/// GGUF's layout.
/// <list type="bullet">
/// <item>Below the GEMM's token count (decode): per block two 8-row vectors of int32 sums from 16 vpdpbusd (8 rows ×
/// 4 codes each, against the activation's dword broadcast), so no horizontal reduction, and the 16 scales from one
/// 32-byte load; with AVX512-VNNI one 16-row vector from 8 vpdpbusd, in machine code. AVX2 without VNNI uses maddubs +
/// pmaddwd (codes ≤ 15: no 16-bit saturation).</item>
/// <item>AMX (<see cref="Q4_0x16AmxTiles"/>, from 12 tokens): the dword-k vectors are the B tiles' pair layout, so
/// building a tile is a nibble split.</item>
/// <item>Otherwise (the AVX GEMMs from 8 tokens, machines without AVX2) the call's rows are put back into GGUF's layout
/// in a scratch buffer and take the GGUF kernels.</item>
/// </list>
/// </summary>
internal static unsafe class Q4_0x16Rows
{
    /// <summary>
    /// Rows [0, rows) of an interleaved tensor (region) at w; the same contract as <see cref="VecDotRows.Q4_0Q8_0Lanes"/>
    /// (lanes null: not prepared; else the AMX scales table where <see cref="Q8_0Lanes.ScalesPrepared"/>).
    /// </summary>
    public static void Rows(in Q4_0x16.Region region, byte* w, nint rowBytes, int rows, byte* a, byte* lanes, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        nint groupBytes = Q4_0x16.GroupRows * rowBytes, skip = region.TileSkip(GgmlType.Q4_0, w, rowBytes, rows);
        if (skip != 0 || rows % Q4_0x16.GroupRows != 0)
        {
            // a tile that does not cover whole groups (the pool and the generated tiles start on multiples of 16, so
            // only an unusual head size gets here): its groups put back into GGUF's layout, then the GGUF kernels,
            // which prepare their own activations (Q8_0Lanes.PrepareForGemm leaves the token lanes out where it takes
            // the direct kernel to read every Q4_0 matrix)
            int first = (int)(skip / rowBytes), groups = (first + rows + Q4_0x16.GroupRows - 1) / Q4_0x16.GroupRows;
            byte* tile = RowScratch.GetForWeights(groups * groupBytes);
            Q4_0x16.Deinterleave(w - skip, groups * Q4_0x16.GroupRows, cols, tile);
            Plain(tile + first * rowBytes, rowBytes, rows, a, null, aStride, tokens, cols, y, yStride);
            return;
        }
        if (Amx.Supported && tokens >= Q4_0x16AmxTiles.MinTokens)
        {
            AmxGemm.Rows<Q4_0x16AmxTiles>(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride, lanes != null && Q8_0Lanes.ScalesPrepared(tokens) ? (float*)lanes : null);
            return;
        }
        if (DirectRuns(tokens))
        {
            Direct(w, rows, a, aStride, tokens, cols, y, yStride, lanes == null ? null : Q8_0Lanes.Offsets(lanes, tokens, cols));
            return;
        }
        byte* plain = RowScratch.GetForWeights(rows * rowBytes);
        Q4_0x16.Deinterleave(w, rows, cols, plain);
        Plain(plain, rowBytes, rows, a, lanes, aStride, tokens, cols, y, yStride);
    }

    /// <summary>The GGUF-layout kernels on rows put back into that layout (not a registered region, so no recursion).</summary>
    private static void Plain(byte* w, nint rowBytes, int rows, byte* a, byte* lanes, nint aStride, int tokens, int cols, float* y, nint yStride)
    {
        if (lanes != null) VecDotRows.Q4_0Q8_0Lanes(w, rowBytes, rows, a, lanes, aStride, tokens, cols, y, yStride);
        else VecDotRows.Q4_0Q8_0(w, rowBytes, rows, a, aStride, tokens, cols, y, yStride);
    }

    /// <summary>Whether a call with this many tokens on whole groups takes <see cref="Direct"/> (the dispatch of <see cref="Rows"/>).</summary>
    internal static bool DirectRuns(int tokens) =>
        !(Amx.Supported && tokens >= Q4_0x16AmxTiles.MinTokens) && Avx2.IsSupported && (s_dot512 != null || !GemmQ4_0Q8_0.Runs(tokens));

    /// <summary>Bytes of <see cref="PrepareOffsets"/>' table: per token, int32 noff[blocks] then float da[blocks].</summary>
    internal static nint OffsetsBytes(int tokens, int cols) => (nint)tokens * (cols / 32) * 8;

    /// <summary>
    /// What <see cref="Direct"/> reads per token besides its codes: each block's offset noff = −8·Σq (the codes are
    /// unsigned, Σ(c − 8)·q = Σc·q − 8·Σq; the machine code starts its sum from it) and its f32 scale, token t's at
    /// s + t · blocks · 8.
    /// </summary>
    internal static void PrepareOffsets(byte* a, nint aStride, int tokens, int cols, byte* s)
    {
        int blocks = cols / 32;
        float* f16 = Fp.F16Table;
        for (int t = 0; t < tokens; t++)
        {
            byte* at = a + t * aStride;
            int* off = (int*)(s + (nint)t * blocks * 8);
            float* da = (float*)(off + blocks);
            for (int b = 0; b < blocks; b++)
            {
                off[b] = -Vector256.Sum(Int8Dot.Dot32U(Vector256.Create((byte)8), Vector256.Load((sbyte*)(at + 34 * b + 2))));
                da[b] = f16[*(ushort*)(at + 34 * b)];
            }
        }
    }

    /// <summary>
    /// Every group of 16 rows against every token, 8 tokens per pass where the machine code runs (batched decode
    /// streams), then 4, then one (every token's bits as alone). prepared: <see cref="PrepareOffsets"/>' table, written once per matmul input by generated code
    /// (<see cref="Q8_0Lanes.PrepareForGemm"/>), or null to build it here per call (in <see cref="RowScratch"/>): with
    /// 8 batched decode streams and 64-row tiles that per-call table was 5 % of the step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Direct(byte* w, int rows, byte* a, nint aStride, int tokens, int cols, float* y, nint yStride, byte* prepared = null)
    {
        int blocks = cols / 32;
        nint groupBytes = (nint)blocks * Q4_0x16.GroupBlockBytes;
        byte* s = prepared;
        if (s == null)
        {
            s = RowScratch.Get(OffsetsBytes(tokens, cols));
            PrepareOffsets(a, aStride, tokens, cols, s);
        }
        if (s_dot512 == null)
        {
            for (int g = 0; g < rows / Q4_0x16.GroupRows; g++, w += groupBytes)
                for (int t = 0; t < tokens; t++)
                {
                    int* off = (int*)(s + (nint)t * blocks * 8);
                    Group(w, a + t * aStride, off, (float*)(off + blocks), blocks, y + t * yStride + g * Q4_0x16.GroupRows);
                }
            return;
        }
        // the machine code: 8 tokens per pass over all the groups (each block unpacked once for them, the groups looped in
        // the machine code), then per group 4 tokens per pass, then one
        float* y4 = stackalloc float[4 * Q4_0x16.GroupRows];
        Args args = default;
        (args.AStride, args.SStride, args.Blocks) = (aStride, (nint)blocks * 8, blocks);
        int groups = rows / Q4_0x16.GroupRows, t8 = tokens / 8 * 8;
        if (groups > 0)
            for (int t = 0; t < t8; t += 8)
            {
                args.W = w;
                Point(ref args, a, aStride, s, blocks, t, y + t * yStride);
                (args.YStride, args.Groups) = (yStride * sizeof(float), groups);
                s_dot512x8(&args);
            }
        if (t8 == tokens) return;
        for (int g = 0; g < groups; g++, w += groupBytes)
        {
            args.W = w;
            int t = t8;
            for (; t + 4 <= tokens; t += 4)
            {
                Point(ref args, a, aStride, s, blocks, t, y4);
                s_dot512x4(&args);
                for (int j = 0; j < 4; j++)
                    Vector512.Load(y4 + j * Q4_0x16.GroupRows).Store(y + (t + j) * yStride + g * Q4_0x16.GroupRows);
            }
            for (; t < tokens; t++)
            {
                Point(ref args, a, aStride, s, blocks, t, y + t * yStride + g * Q4_0x16.GroupRows);
                s_dot512(&args);
            }
        }
    }

    /// <summary>Points args at token t: its activation row, its offsets and scales in the scratch s, the output y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Point(ref Args args, byte* a, nint aStride, byte* s, int blocks, int t, float* y)
    {
        args.A = a + t * aStride;
        args.Off = (int*)(s + (nint)t * blocks * 8);
        args.Da = (float*)(args.Off + blocks);
        args.Y = y;
    }

    /// <summary>
    /// Q4_0x16Args of MachineCode.Q4_0x16.s, the three kernels' (<c>q4_0x16dot512</c> ignores the strides; only the
    /// 8-token kernel reads the last two): 10 fields of 8 bytes.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Args
    {
        public byte* W, A;
        public nint AStride;
        public int* Off;
        public float* Da;
        public nint SStride, Blocks;
        public float* Y;
        public nint YStride, Groups;
    }

    /// <summary>
    /// The machine-code group kernel where 512-bit vectors are on and the CPU has AVX512-VNNI, else null (decided once). <see cref="Group"/>'s 256-bit VNNI form needs 16 vpdpbusd per block for 16 rows,
    /// this one 8: the int8 dots bound decode of this layout (28–29 GB/s per thread from L2).
    /// </summary>
    private static readonly delegate* unmanaged<Args*, void> s_dot512 =
        (delegate* unmanaged<Args*, void>)Kernels.MachineCode.Avx512VnniEntry(Kernels.MachineCode.Q4_0x16Dot512Offset);

    private static readonly delegate* unmanaged<Args*, void> s_dot512x4 =
        (delegate* unmanaged<Args*, void>)Kernels.MachineCode.Avx512VnniEntry(Kernels.MachineCode.Q4_0x16x4Dot512Offset);

    private static readonly delegate* unmanaged<Args*, void> s_dot512x8 =
        (delegate* unmanaged<Args*, void>)Kernels.MachineCode.Avx512VnniEntry(Kernels.MachineCode.Q4_0x16x8Dot512Offset);

    /// <summary>Whether the direct kernel runs machine code here (tests assert the path they check ran).</summary>
    internal static bool MachineCodeRuns => s_dot512 != null;

    /// <summary>One group of 16 rows against one Q8_0 activation row: y[0..16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Group(byte* w, byte* a, int* off, float* da, int blocks, float* y)
    {
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        Vector256<byte> m4 = Vector256.Create((byte)0x0F);
        for (int b = 0; b < blocks; b++, w += Q4_0x16.GroupBlockBytes, a += 34)
        {
            // 24 blocks (6.9 KB) ahead: 1 thread streaming 604 MB from DRAM, 8 blocks 12.1 GB/s, 24 13.0, 48 13.0 (GGUF's quads 12.9-13.3)
            Prefetch.Range(w + 24 * Q4_0x16.GroupBlockBytes, Q4_0x16.GroupBlockBytes);
            Vector256<int> l0 = Vector256<int>.Zero, l1 = Vector256<int>.Zero, h0 = Vector256<int>.Zero, h1 = Vector256<int>.Zero;
            Codes(w, a, 0, m4, ref l0, ref l1, ref h0, ref h1);
            Codes(w, a, 1, m4, ref l0, ref l1, ref h0, ref h1);
            Codes(w, a, 2, m4, ref l0, ref l1, ref h0, ref h1);
            Codes(w, a, 3, m4, ref l0, ref l1, ref h0, ref h1);
            Vector256<int> o = Vector256.Create(off[b]); // −8·Σq
            Vector256<float> d = Vector256.Create(da[b]), dw0, dw1;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<float> dw = Kernels.HalfBits.Load16x512((ushort*)w);
                (dw0, dw1) = (dw.GetLower(), dw.GetUpper());
            }
            else (dw0, dw1) = (Kernels.HalfBits.Load8x256((ushort*)w), Kernels.HalfBits.Load8x256((ushort*)w + 8));
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(l0 + h0 + o), dw0 * d, acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(l1 + h1 + o), dw1 * d, acc1);
        }
        acc0.Store(y);
        acc1.Store(y + 8);
    }

    /// <summary>Code dword k of the 16 rows against the activation's dwords k (low nibbles) and 4 + k (high nibbles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Codes(byte* w, byte* a, int k, Vector256<byte> m4, ref Vector256<int> l0, ref Vector256<int> l1, ref Vector256<int> h0, ref Vector256<int> h1)
    {
        Vector256<byte> w0 = Vector256.Load(w + 32 + 64 * k), w1 = Vector256.Load(w + 64 + 64 * k);
        Vector256<sbyte> lo = Vector256.Create(*(int*)(a + 2 + 4 * k)).AsSByte(), hi = Vector256.Create(*(int*)(a + 18 + 4 * k)).AsSByte();
        l0 = Dot(l0, w0 & m4, lo);
        l1 = Dot(l1, w1 & m4, lo);
        h0 = Dot(h0, Vector256.ShiftRightLogical(w0.AsUInt16(), 4).AsByte() & m4, hi);
        h1 = Dot(h1, Vector256.ShiftRightLogical(w1.AsUInt16(), 4).AsByte() & m4, hi);
    }

    /// <summary>acc + the 4-code dots of each int32 lane (u: codes 0..15).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) =>
        AvxVnni.IsSupported ? AvxVnni.MultiplyWideningAndAdd(acc, u, s)
                            : acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, s), Vector256<short>.One);
}

/// <summary>Q4_0 weights of the interleaved layout on AMX (<see cref="AmxGemm"/>): the B tiles are the layout's code vectors, nibble-split.</summary>
internal unsafe struct Q4_0x16AmxTiles : IAmxWeights
{
    /// <summary>
    /// Fewest tokens for which AMX runs on this layout: from 12, where it is level with <see cref="Q4_0x16Rows"/>'
    /// direct kernel in machine code (a tile pays the nibble split and a float step per 16 tokens however few it holds).
    /// stories110M-shape Q4_0, 2 threads, <c>bench -p N</c> with and without <c>INGOT_AMX=0</c>: the direct kernel
    /// 1.6-1.8× at 4 tokens, 1.21× at 8 (and 1.13× on 8 batched decode streams), level at 12, AMX 1.10-1.14× at 16.
    /// (Before the direct kernel was machine code, AMX ran from 4: 69 GMAC/s there against 47.)
    /// </summary>
    public const int MinTokens = 12;

    public static int TileRows => Q4_0x16.GroupRows;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Build(byte* w, nint rowBytes, int nr, int blocks, sbyte* bw, float* dw)
    {
        Vector512<byte> m4 = Vector512.Create((byte)0x0F);
        Vector512<sbyte> eight = Vector512.Create((sbyte)8);
        for (int b = 0; b < blocks; b++, w += Q4_0x16.GroupBlockBytes, bw += 512, dw += 16)
        {
            Kernels.HalfBits.Load16x512((ushort*)w).Store(dw);
            for (int k = 0; k < 4; k++) Q4_0AmxTiles.Nibbles(Vector512.Load(w + 32 + 64 * k), m4, eight, bw, k);
        }
    }

    public static void Put(Vector512<float> acc, float* y, int nr, float* tail) => Q4_0AmxTiles.Put(acc, y, nr, tail);
}
