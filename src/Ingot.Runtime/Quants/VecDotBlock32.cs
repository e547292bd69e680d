using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Quants;

/// <summary>
/// How one 32-element weight block (Q4_1, Q5_0, Q5_1, IQ4_NL) becomes signed int8 values in registers.
/// Implemented by structs so <see cref="VecDotBlock32{TBlock}"/> is specialized (and inlined) per type.
/// </summary>
internal unsafe interface IBlock32
{
    /// <summary>Bytes per weight block and per activation block (Q8_0 = 34, Q8_1 = 36).</summary>
    static abstract int WeightBytes { get; }
    static abstract int ActBytes { get; }

    /// <summary>Elements 0..15 and 16..31 of weight block <paramref name="w"/> as int8 (codes or table values).</summary>
    static abstract void Decode(byte* w, out Vector128<sbyte> lo, out Vector128<sbyte> hi);

    /// <summary><see cref="Decode"/>'s 32 values in one vector (the 256-bit paths; <see cref="Block32Decode.Joined{TBlock}"/> or fewer steps).</summary>
    static abstract Vector256<sbyte> Decode256(byte* w);

    /// <summary>d_w * d_a for the block pair.</summary>
    static abstract float Scale(byte* w, byte* a);

    /// <summary>
    /// The min types' running sum of m_w · s_a, one more block: fma(m_w, s_a, summs), as ggml's x86 build contracts
    /// <c>summs += m * s</c> (summs unchanged for the other types).
    /// </summary>
    static abstract float Bias(byte* w, byte* a, float summs);

    static abstract bool HasBias { get; }

    /// <summary>Whether the decoded values are never negative (Q4_1, Q5_1: codes), so maddubs takes them as its unsigned side.</summary>
    static abstract bool CodesUnsigned { get; }
}

/// <summary>
/// The SIMD paths shared by the 32-element block types whose activation is Q8_0/Q8_1 (int8 at offset ActBytes-32).
/// Per block: decode → int8 dot → float FMA with the block scale; one horizontal sum at the end.
/// </summary>
internal static unsafe class VecDotBlock32<TBlock> where TBlock : struct, IBlock32
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static sbyte* ActQs(byte* a) => (sbyte*)(a + TBlock.ActBytes - 32);

    /// <summary>The 8 lanes' exact dots of weight block w and the activation's codes (the form checked here; without AVX2 Int8Dot's portable one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot(byte* w, sbyte* q8) =>
        Avx2.IsSupported ? Dot(w, q8, AvxVnni.IsSupported) : Int8Dot.Dot32S(TBlock.Decode256(w), Vector256.Load(q8));

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V128(byte* w, byte* a, int n)
    {
        Vector128<float> acc = Vector128<float>.Zero, accHi = Vector128<float>.Zero;
        float summs = 0;
        for (int i = 0; i < n / 32; i++, w += TBlock.WeightBytes, a += TBlock.ActBytes)
        {
            TBlock.Decode(w, out var lo, out var hi);
            sbyte* q8 = ActQs(a);
            Vector128<int> pl = Int8Dot.Dot16S(lo, Vector128.Load(q8)), ph = Int8Dot.Dot16S(hi, Vector128.Load(q8 + 16));
            // llama.cpp's order (Q0Order): lanes 0..3 from elements 0..15, 4..7 from 16..31
            Vector128<float> d = Vector128.Create(TBlock.Scale(w, a));
            acc = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(pl), d, acc);
            accHi = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(ph), d, accHi);
            summs = TBlock.Bias(w, a, summs);
        }
        return TBlock.HasBias ? Q0Order.Hsum8(acc, accHi) + summs : Q0Order.Hsum8(acc, accHi);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V256(byte* w, byte* a, int n)
    {
        Vector256<float> acc0 = Vector256<float>.Zero;
        float summs = 0;
        int nb = n / 32, i = 0;
        int wb = TBlock.WeightBytes, ab = TBlock.ActBytes;
        for (; i + 3 < nb; i += 4, w += 4 * wb, a += 4 * ab)
        {
            // every weight block starts with f16 d, every Q8_0/Q8_1 block too: widen the 8 scales together
            Vector128<float> d = BlockScales.Products4(w, wb, a, ab);
            Vector256<int> p0 = Dot(w, ActQs(a));
            Vector256<int> p1 = Dot(w + wb, ActQs(a + ab));
            Vector256<int> p2 = Dot(w + 2 * wb, ActQs(a + 2 * ab));
            Vector256<int> p3 = Dot(w + 3 * wb, ActQs(a + 3 * ab));
            acc0 = Steps4(p0, p1, p2, p3, d, acc0);
            summs = Bias4(w, a, summs);
        }
        for (; i < nb; i++, w += wb, a += ab)
        {
            Vector256<int> p0 = Dot(w, ActQs(a));
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p0), Vector256.Create(TBlock.Scale(w, a)), acc0);
            summs = TBlock.Bias(w, a, summs);
        }
        return TBlock.HasBias ? Q0Order.Hsum8(acc0) + summs : Q0Order.Hsum8(acc0);
    }

    /// <summary>llama.cpp's tinyBLAS order (Q0Order): four blocks' lane dots into one accumulator, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Steps4(Vector256<int> p0, Vector256<int> p1, Vector256<int> p2, Vector256<int> p3, Vector128<float> d, Vector256<float> acc)
    {
        acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p0), Vector256.Create(d.GetElement(0)), acc);
        acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p1), Vector256.Create(d.GetElement(1)), acc);
        acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p2), Vector256.Create(d.GetElement(2)), acc);
        return Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p3), Vector256.Create(d.GetElement(3)), acc);
    }

    /// <summary>The min types' summs over four blocks in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Bias4(byte* w, byte* a, float summs)
    {
        if (!TBlock.HasBias) return summs;
        int wb = TBlock.WeightBytes, ab = TBlock.ActBytes;
        summs = TBlock.Bias(w, a, summs);
        summs = TBlock.Bias(w + wb, a + ab, summs);
        summs = TBlock.Bias(w + 2 * wb, a + 2 * ab, summs);
        return TBlock.Bias(w + 3 * wb, a + 3 * ab, summs);
    }

    /// <summary>
    /// The 8 lanes' exact dots in the form the caller fixes (AVX2; vnni: AVX-VNNI's vpdpbusd, else maddubs and madd;
    /// unsigned codes skip the abs/sign of signed ones): an AOT build for x86-64-v4 cannot assume AVX-VNNI, and a check
    /// per call stays in a loop as a branch per block. The same integers either way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot(byte* w, sbyte* q8, bool vnni)
    {
        Vector256<sbyte> v = TBlock.Decode256(w), q = Vector256.Load(q8);
        Vector256<byte> u = TBlock.CodesUnsigned ? v.AsByte() : Avx2.Abs(v);
        Vector256<sbyte> s = TBlock.CodesUnsigned ? q : Avx2.Sign(q, v);
        return vnni ? AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, u, s)
                    : Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, s), Vector256<short>.One);
    }

    /// <summary>Four blocks of one row: <see cref="V256"/>'s lane step (the min types' summs apart); AVX2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Blocks4(byte* w, byte* a, Vector256<float> acc, bool vnni)
    {
        int wb = TBlock.WeightBytes, ab = TBlock.ActBytes;
        Vector128<float> d = BlockScales.Products4(w, wb, a, ab);
        return Steps4(Dot(w, ActQs(a), vnni),
                      Dot(w + wb, ActQs(a + ab), vnni),
                      Dot(w + 2 * wb, ActQs(a + 2 * ab), vnni),
                      Dot(w + 3 * wb, ActQs(a + 3 * ab), vnni), d, acc);
    }

    /// <summary>
    /// Two rows (w, w + rowBytes) against one activation row, each result bit-identical to
    /// <see cref="V256"/>: two independent FMA chains (decode; one row's chain alone waits on the FMA latency), the
    /// weights prefetched. AVX2 (<see cref="VecDotRows"/> calls it only there); one loop per dot form.
    /// </summary>
    public static void V256Rows2(byte* w, nint rowBytes, byte* a, int n, float* y)
    {
        if (AvxVnni.IsSupported) V256Rows2Vnni(w, rowBytes, a, n, y);
        else V256Rows2Avx2(w, rowBytes, a, n, y);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void V256Rows2Vnni(byte* w, nint rowBytes, byte* a, int n, float* y) => Rows2(w, rowBytes, a, n, y, vnni: true);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void V256Rows2Avx2(byte* w, nint rowBytes, byte* a, int n, float* y) => Rows2(w, rowBytes, a, n, y, vnni: false);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows2(byte* w, nint rowBytes, byte* a, int n, float* y, bool vnni)
    {
        byte* w1 = w + rowBytes;
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        float summs0 = 0, summs1 = 0;
        int nb = n / 32, i = 0, wb = TBlock.WeightBytes, ab = TBlock.ActBytes;
        for (; i + 3 < nb; i += 4, w += 4 * wb, w1 += 4 * wb, a += 4 * ab)
        {
            Prefetch.Step(w, 4 * wb);
            Prefetch.Step(w1, 4 * wb);
            acc0 = Blocks4(w, a, acc0, vnni);
            acc1 = Blocks4(w1, a, acc1, vnni);
            summs0 = Bias4(w, a, summs0);
            summs1 = Bias4(w1, a, summs1);
        }
        for (; i < nb; i++, w += wb, w1 += wb, a += ab)
        {
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Dot(w, ActQs(a), vnni)), Vector256.Create(TBlock.Scale(w, a)), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Dot(w1, ActQs(a), vnni)), Vector256.Create(TBlock.Scale(w1, a)), acc1);
            summs0 = TBlock.Bias(w, a, summs0);
            summs1 = TBlock.Bias(w1, a, summs1);
        }
        y[0] = TBlock.HasBias ? Q0Order.Hsum8(acc0) + summs0 : Q0Order.Hsum8(acc0);
        y[1] = TBlock.HasBias ? Q0Order.Hsum8(acc1) + summs1 : Q0Order.Hsum8(acc1);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V512(byte* w, byte* a, int n)
    {
        Vector256<float> acc = Vector256<float>.Zero;
        float summs = 0;
        int nb = n / 32, i = 0;
        for (; i + 1 < nb; i += 2, w += 2 * TBlock.WeightBytes, a += 2 * TBlock.ActBytes)
        {
            byte* w1 = w + TBlock.WeightBytes; byte* a1 = a + TBlock.ActBytes;
            TBlock.Decode(w, out var lo0, out var hi0);
            TBlock.Decode(w1, out var lo1, out var hi1);
            Vector512<sbyte> qw = Vector512.Create(Vector256.Create(lo0, hi0), Vector256.Create(lo1, hi1));
            Vector512<sbyte> qa = Vector512.Create(Vector256.Load(ActQs(a)), Vector256.Load(ActQs(a1)));
            Vector512<int> p = Int8Dot.Dot64S(qw, qa);
            // two blocks' integer dots per vector; the FMAs stay in block order (Q0Order)
            Vector512<float> pf = Vector512.ConvertToSingle(p);
            acc = Vector256.FusedMultiplyAdd(pf.GetLower(), Vector256.Create(TBlock.Scale(w, a)), acc);
            acc = Vector256.FusedMultiplyAdd(pf.GetUpper(), Vector256.Create(TBlock.Scale(w1, a1)), acc);
            summs = TBlock.Bias(w1, a1, TBlock.Bias(w, a, summs));
        }
        if (i < nb)
        {
            TBlock.Decode(w, out var lo0, out var hi0);
            Vector256<int> p0 = Int8Dot.Dot32S(Vector256.Create(lo0, hi0), Vector256.Load(ActQs(a)));
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(p0), Vector256.Create(TBlock.Scale(w, a)), acc);
            summs = TBlock.Bias(w, a, summs);
        }
        return TBlock.HasBias ? Q0Order.Hsum8(acc) + summs : Q0Order.Hsum8(acc);
    }
}

/// <summary>Shared decoding helpers for the 32-element blocks.</summary>
internal static unsafe class Block32Decode
{
    /// <summary>A block's two decoded halves as one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Joined<TBlock>(byte* w) where TBlock : struct, IBlock32
    {
        TBlock.Decode(w, out Vector128<sbyte> lo, out Vector128<sbyte> hi);
        return Vector256.Create(lo, hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Nibbles(byte* qs, out Vector128<byte> lo, out Vector128<byte> hi)
    {
        Vector128<byte> q = Vector128.Load(qs);
        lo = q & Vector128.Create((byte)0x0F);
        hi = Int8Dot.ShiftRightBytes(q, 4);
    }

    /// <summary>Spread bits 0..15 (lo) and 16..31 (hi) of qh into bytes holding 0x10 where the bit is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void HighBits(uint qh, out Vector128<byte> lo, out Vector128<byte> hi)
    {
        Vector128<byte> b = Vector128.Create(qh).AsByte();
        Vector128<byte> bit = Vector128.Create((byte)1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
        Vector128<byte> l = Vector128.Shuffle(b, Vector128.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
        Vector128<byte> h = Vector128.Shuffle(b, Vector128.Create((byte)2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
        Vector128<byte> sixteen = Vector128.Create((byte)0x10);
        lo = Vector128.Equals(l & bit, bit) & sixteen;
        hi = Vector128.Equals(h & bit, bit) & sixteen;
    }

    /// <summary>16 lookups of 4-bit indices in the IQ4_NL code book.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<sbyte> Lookup(Vector128<byte> idx)
    {
        Vector128<sbyte> table = Vector128.Create((sbyte)-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
        if (Ssse3.IsSupported) return Ssse3.Shuffle(table, idx.AsSByte());
        if (AdvSimd.Arm64.IsSupported) return AdvSimd.Arm64.VectorTableLookup(table.AsByte(), idx).AsSByte();
        return Vector128.Shuffle(table, idx.AsSByte());
    }
}

internal unsafe struct Q4_1Block : IBlock32
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Decode256(byte* w) => Block32Decode.Joined<Q4_1Block>(w);
    public static int WeightBytes => 20;
    public static int ActBytes => 36;
    public static bool HasBias => true;
    public static bool CodesUnsigned => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Decode(byte* w, out Vector128<sbyte> lo, out Vector128<sbyte> hi)
    {
        Block32Decode.Nibbles(((BlockQ4_1*)w)->Qs, out var l, out var h);
        lo = l.AsSByte(); hi = h.AsSByte();
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scale(byte* w, byte* a) => Fp.F16ToF32(((BlockQ4_1*)w)->D) * Fp.F16ToF32(((BlockQ8_1*)a)->D);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Bias(byte* w, byte* a, float summs) => MathF.FusedMultiplyAdd(Fp.F16ToF32(((BlockQ4_1*)w)->M), Fp.F16ToF32(((BlockQ8_1*)a)->S), summs);
}

internal unsafe struct Q5_0Block : IBlock32
{
    public static int WeightBytes => 22;
    public static int ActBytes => 34;
    public static bool HasBias => false;
    public static bool CodesUnsigned => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Decode(byte* w, out Vector128<sbyte> lo, out Vector128<sbyte> hi)
    {
        var b = (BlockQ5_0*)w;
        Block32Decode.Nibbles(b->Qs, out var l, out var h);
        Block32Decode.HighBits(b->Qh, out var bl, out var bh);
        Vector128<sbyte> sixteen = Vector128.Create((sbyte)16);
        lo = (l | bl).AsSByte() - sixteen; hi = (h | bh).AsSByte() - sixteen;
    }
    /// <summary>
    /// <see cref="Decode"/> at 256 bits: both nibble halves in one vector, the 32 high bits spread by one in-lane byte
    /// shuffle of qh (bytes 0, 1 to the low lane, 2, 3 to the high), one test against the bit pattern.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Decode256(byte* w)
    {
        if (!Avx2.IsSupported)
        {
            Decode(w, out Vector128<sbyte> lo, out Vector128<sbyte> hi);
            return Vector256.Create(lo, hi);
        }
        var b = (BlockQ5_0*)w;
        Vector128<byte> q = Vector128.Load(b->Qs);
        Vector256<byte> nibbles = Vector256.Create(q, Vector128.ShiftRightLogical(q.AsUInt16(), 4).AsByte()) & Vector256.Create((byte)0x0F);
        Vector256<byte> spread = Avx2.Shuffle(Vector256.Create(b->Qh).AsByte(),
            Vector256.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
        Vector256<byte> bit = Vector256.Create((byte)1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
        Vector256<byte> high = Vector256.Equals(spread & bit, bit) & Vector256.Create((byte)0x10);
        return (nibbles | high).AsSByte() - Vector256.Create((sbyte)16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scale(byte* w, byte* a) => Fp.F16ToF32(((BlockQ5_0*)w)->D) * Fp.F16ToF32(((BlockQ8_0*)a)->D);
    public static float Bias(byte* w, byte* a, float summs) => summs;
}

internal unsafe struct Q5_1Block : IBlock32
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Decode256(byte* w) => Block32Decode.Joined<Q5_1Block>(w);
    public static int WeightBytes => 24;
    public static int ActBytes => 36;
    public static bool HasBias => true;
    public static bool CodesUnsigned => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Decode(byte* w, out Vector128<sbyte> lo, out Vector128<sbyte> hi)
    {
        var b = (BlockQ5_1*)w;
        Block32Decode.Nibbles(b->Qs, out var l, out var h);
        Block32Decode.HighBits(b->Qh, out var bl, out var bh);
        lo = (l | bl).AsSByte(); hi = (h | bh).AsSByte();
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scale(byte* w, byte* a) => Fp.F16ToF32(((BlockQ5_1*)w)->D) * Fp.F16ToF32(((BlockQ8_1*)a)->D);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Bias(byte* w, byte* a, float summs) => MathF.FusedMultiplyAdd(Fp.F16ToF32(((BlockQ5_1*)w)->M), Fp.F16ToF32(((BlockQ8_1*)a)->S), summs);
}

internal unsafe struct IQ4_NLBlock : IBlock32
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Decode256(byte* w) => Block32Decode.Joined<IQ4_NLBlock>(w);
    public static int WeightBytes => 18;
    public static int ActBytes => 34;
    public static bool HasBias => false;
    public static bool CodesUnsigned => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Decode(byte* w, out Vector128<sbyte> lo, out Vector128<sbyte> hi)
    {
        Block32Decode.Nibbles(((BlockIQ4_NL*)w)->Qs, out var l, out var h);
        lo = Block32Decode.Lookup(l); hi = Block32Decode.Lookup(h);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scale(byte* w, byte* a) => Fp.F16ToF32(((BlockIQ4_NL*)w)->D) * Fp.F16ToF32(((BlockQ8_0*)a)->D);
    public static float Bias(byte* w, byte* a, float summs) => summs;
}

/// <summary>Q4_1 weights · Q8_1 activations: Σ d_w*d_a*Σ c*q + m_w*s_a (ggml uses the activation's stored s).</summary>
public static unsafe class VecDotQ4_1Q8_1
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(byte* w, byte* a, int n)
    {
        // V256 first: on the AVX-512 machine measured here the 512-bit form (two blocks with separate scales per
        // vector) was 15-25 % slower; V512 stays as the path for a CPU where it wins (tested either way).
        if (Vector256.IsHardwareAccelerated) return V256(w, a, n);
        if (Vector512.IsHardwareAccelerated) return V512(w, a, n);
        if (Vector128.IsHardwareAccelerated) return V128(w, a, n);
        return Scalar(w, a, n);
    }
    public static float Scalar(byte* w, byte* a, int n) => VecDotScalar.Q4_1Q8_1(w, a, n);
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V128(byte* w, byte* a, int n) => VecDotBlock32<Q4_1Block>.V128(w, a, n);
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V256(byte* w, byte* a, int n) => VecDotBlock32<Q4_1Block>.V256(w, a, n);
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V512(byte* w, byte* a, int n) => VecDotBlock32<Q4_1Block>.V512(w, a, n);
}

/// <summary>Q5_0 weights · Q8_0 activations: codes c = nibble + 16*qh bit, value c-16.</summary>
public static unsafe class VecDotQ5_0Q8_0
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(byte* w, byte* a, int n)
    {
        // V256 first: on the AVX-512 machine measured here the 512-bit form (two blocks with separate scales per
        // vector) was 15-25 % slower; V512 stays as the path for a CPU where it wins (tested either way).
        if (Vector256.IsHardwareAccelerated) return V256(w, a, n);
        if (Vector512.IsHardwareAccelerated) return V512(w, a, n);
        if (Vector128.IsHardwareAccelerated) return V128(w, a, n);
        return Scalar(w, a, n);
    }
    public static float Scalar(byte* w, byte* a, int n) => VecDotScalar.Q5_0Q8_0(w, a, n);
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V128(byte* w, byte* a, int n) => VecDotBlock32<Q5_0Block>.V128(w, a, n);
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V256(byte* w, byte* a, int n) => VecDotBlock32<Q5_0Block>.V256(w, a, n);
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V512(byte* w, byte* a, int n) => VecDotBlock32<Q5_0Block>.V512(w, a, n);
}

/// <summary>Q5_1 weights · Q8_1 activations.</summary>
public static unsafe class VecDotQ5_1Q8_1
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(byte* w, byte* a, int n)
    {
        // V256 first: on the AVX-512 machine measured here the 512-bit form (two blocks with separate scales per
        // vector) was 15-25 % slower; V512 stays as the path for a CPU where it wins (tested either way).
        if (Vector256.IsHardwareAccelerated) return V256(w, a, n);
        if (Vector512.IsHardwareAccelerated) return V512(w, a, n);
        if (Vector128.IsHardwareAccelerated) return V128(w, a, n);
        return Scalar(w, a, n);
    }
    public static float Scalar(byte* w, byte* a, int n) => VecDotScalar.Q5_1Q8_1(w, a, n);
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V128(byte* w, byte* a, int n) => VecDotBlock32<Q5_1Block>.V128(w, a, n);
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V256(byte* w, byte* a, int n) => VecDotBlock32<Q5_1Block>.V256(w, a, n);
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V512(byte* w, byte* a, int n) => VecDotBlock32<Q5_1Block>.V512(w, a, n);
}

/// <summary>IQ4_NL weights · Q8_0 activations: 4-bit indices into the non-linear code book (table shuffle).</summary>
public static unsafe class VecDotIQ4_NLQ8_0
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(byte* w, byte* a, int n)
    {
        // V256 first: on the AVX-512 machine measured here the 512-bit form (two blocks with separate scales per
        // vector) was 15-25 % slower; V512 stays as the path for a CPU where it wins (tested either way).
        if (Vector256.IsHardwareAccelerated) return V256(w, a, n);
        if (Vector512.IsHardwareAccelerated) return V512(w, a, n);
        if (Vector128.IsHardwareAccelerated) return V128(w, a, n);
        return Scalar(w, a, n);
    }
    public static float Scalar(byte* w, byte* a, int n) => VecDotScalar.IQ4_NLQ8_0(w, a, n);
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V128(byte* w, byte* a, int n) => VecDotBlock32<IQ4_NLBlock>.V128(w, a, n);
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V256(byte* w, byte* a, int n) => VecDotBlock32<IQ4_NLBlock>.V256(w, a, n);
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float V512(byte* w, byte* a, int n) => VecDotBlock32<IQ4_NLBlock>.V512(w, a, n);
}
