using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
        Vector256<float> acc = Vector256<float>.Zero;
        Vector256<byte> mask = Vector256.Create((byte)0x0F), high = Vector256.Create((byte)0x30), k32 = Vector256.Create((byte)32);
        // vpshufb patterns picking 16-bit scale words (2g, 2g+1) of a 128-bit lane into [8 × word 2g | 8 × word 2g+1]:
        // (literal constants: a helper building them at run time cost more than the dot of a short row)
        Vector256<byte> pick0 = Vector256.Create(Vector128.Create((ushort)0x0100), Vector128.Create((ushort)0x0302)).AsByte();
        Vector256<byte> pick1 = Vector256.Create(Vector128.Create((ushort)0x0504), Vector128.Create((ushort)0x0706)).AsByte();
        Vector256<byte> pick2 = Vector256.Create(Vector128.Create((ushort)0x0908), Vector128.Create((ushort)0x0B0A)).AsByte();
        Vector256<byte> pick3 = Vector256.Create(Vector128.Create((ushort)0x0D0C), Vector128.Create((ushort)0x0F0E)).AsByte();
        for (int i = 0; i < n / 256; i++)
        {
            Prefetch.Step((byte*)&x[i], 210);
            byte* ql = x[i].Ql; byte* qh = x[i].Qh; sbyte* q8 = y[i].Qs;
            // the 16 int8 scales widened to int16: words 0-7 (first half) in the low lane, 8-15 in the high lane
            Vector256<short> sc16 = Vector256.WidenLower(Vector128.Load(x[i].Scales).ToVector256());
            Vector256<int> isum = Vector256<int>.Zero;
            for (int h = 0; h < 2; h++, ql += 64, qh += 32, q8 += 128)
            {
                // this half's 8 scales in both lanes
                Vector256<byte> s = (h == 0 ? Vector256.Create(sc16.GetLower()) : Vector256.Create(sc16.GetUpper())).AsByte();
                Vector256<byte> qa = Vector256.Load(ql), qb = Vector256.Load(ql + 32), hv = Vector256.Load(qh);
                // code = low 4 bits | 2 high bits << 4; the high bits of group g are bits 2g..2g+1 of qh, moved to bits 4-5
                // with one 16-bit shift (or none) and one mask (bits that cross bytes land outside 0x30)
                Vector256<byte> c0 = (qa & mask) | (Vector256.ShiftLeft(hv.AsUInt16(), 4).AsByte() & high);
                Vector256<byte> c1 = (qb & mask) | (Vector256.ShiftLeft(hv.AsUInt16(), 2).AsByte() & high);
                Vector256<byte> c2 = Int8Dot.ShiftRightBytes(qa, 4) | (hv & high);
                Vector256<byte> c3 = Int8Dot.ShiftRightBytes(qb, 4) | (Vector256.ShiftRightLogical(hv.AsUInt16(), 2).AsByte() & high);
                // bytes 0-15 use scale 2g, bytes 16-31 scale 2g+1: one 16-bit scale vector per group; the −32 per lane
                Vector256<sbyte> a0 = Vector256.Load(q8), a1 = Vector256.Load(q8 + 32), a2 = Vector256.Load(q8 + 64), a3 = Vector256.Load(q8 + 96);
                Vector256<short> s0 = Int8Dot.ShuffleBytes(s, pick0).AsInt16(), s1 = Int8Dot.ShuffleBytes(s, pick1).AsInt16();
                Vector256<short> s2 = Int8Dot.ShuffleBytes(s, pick2).AsInt16(), s3 = Int8Dot.ShuffleBytes(s, pick3).AsInt16();
                isum += Int8Dot.Dot32UScaled(c0, a0, s0) - Int8Dot.Dot32UScaled(k32, a0, s0)
                      + Int8Dot.Dot32UScaled(c1, a1, s1) - Int8Dot.Dot32UScaled(k32, a1, s1)
                      + Int8Dot.Dot32UScaled(c2, a2, s2) - Int8Dot.Dot32UScaled(k32, a2, s2)
                      + Int8Dot.Dot32UScaled(c3, a3, s3) - Int8Dot.Dot32UScaled(k32, a3, s3);
            }
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(isum), Vector256.Create(y[i].D * Fp.F16ToF32(x[i].D)), acc);
        }
        return Q0Order.Hsum8(acc);
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
