using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Quants;

/// <summary>
/// The int8 dot-product building block of every quantized vec-dot, per vector width. Results are int32 lanes where
/// lane k sums the products of bytes 4k..4k+3 (x86 maddubs/madd order; Dp's sdot order), so a 16-byte group
/// (one Q*_K sub-block of 16) always lands in 4 consecutive lanes. "U" variants take an unsigned operand
/// u in 0..127 (decoded nibbles/codes); "S" variants take two signed operands.
/// Each width has an ISA path and a portable fallback (software-emulated where not accelerated, used by tests).
/// </summary>
internal static class Int8Dot
{
    // ---------------- 128-bit (SSSE3 / AdvSimd shared entry points) ----------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Dot16U(Vector128<byte> u, Vector128<sbyte> s)
    {
        if (Ssse3.IsSupported)
            return Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(u, s), Vector128<short>.One);
        if (Dp.IsSupported)
            return Dp.DotProduct(Vector128<int>.Zero, u.AsSByte(), s);
        return Dot16Portable(u.AsSByte(), s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Dot16S(Vector128<sbyte> w, Vector128<sbyte> a)
    {
        if (Ssse3.IsSupported)
            return Dot16U(Ssse3.Abs(w), Ssse3.Sign(a, w));
        if (Dp.IsSupported)
            return Dp.DotProduct(Vector128<int>.Zero, w, a);
        return Dot16Portable(w, a);
    }

    // Widening multiply, then pairwise sums: exact for any int8 inputs (and u ≤ 127 reinterpreted as sbyte). AdvSimd
    // without Dp (ARMv8.0) takes the first branch; internal so the tests run it where Dp exists too.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> Dot16Portable(Vector128<sbyte> w, Vector128<sbyte> a)
    {
        if (AdvSimd.Arm64.IsSupported)
        {
            Vector128<short> lo = AdvSimd.MultiplyWideningLower(w.GetLower(), a.GetLower());
            Vector128<short> hi = AdvSimd.MultiplyWideningUpper(w, a);
            // lanes: pairs (0,1)(2,3)(4,5)(6,7) of the low half and of the high half → 4 ints covering all 16 bytes
            return AdvSimd.Arm64.AddPairwise(AdvSimd.AddPairwiseWidening(lo), AdvSimd.AddPairwiseWidening(hi));
        }
        // lane k = bytes 4k..4k+3, as maddubs/madd and sdot (the float paths that scale these lanes rely on it)
        Vector128<short> pl = Vector128.WidenLower(w) * Vector128.WidenLower(a);
        Vector128<short> ph = Vector128.WidenUpper(w) * Vector128.WidenUpper(a);
        return Vector128.Create(
            pl.GetElement(0) + pl.GetElement(1) + pl.GetElement(2) + pl.GetElement(3),
            pl.GetElement(4) + pl.GetElement(5) + pl.GetElement(6) + pl.GetElement(7),
            ph.GetElement(0) + ph.GetElement(1) + ph.GetElement(2) + ph.GetElement(3),
            ph.GetElement(4) + ph.GetElement(5) + ph.GetElement(6) + ph.GetElement(7));
    }

    // ---------------- 256-bit (AVX2 / AVX-VNNI) ----------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot32U(Vector256<byte> u, Vector256<sbyte> s)
    {
        if (AvxVnni.IsSupported)
            return AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, u, s);
        if (Avx2.IsSupported)
            return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, s), Vector256<short>.One);
        return Vector256.Create(Dot16U(u.GetLower(), s.GetLower()), Dot16U(u.GetUpper(), s.GetUpper()));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot32S(Vector256<sbyte> w, Vector256<sbyte> a)
    {
        if (Avx2.IsSupported)
            return Dot32U(Avx2.Abs(w), Avx2.Sign(a, w));
        return Vector256.Create(Dot16S(w.GetLower(), a.GetLower()), Dot16S(w.GetUpper(), a.GetUpper()));
    }

    /// <summary>vpabsb (|−128| = 128 as a byte), the unsigned half of <see cref="Dot32S"/> = Dot32U(Abs(w), Sign(a, w)); AVX2 only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Abs(Vector256<sbyte> w) => Avx2.Abs(w);

    /// <summary>vpsignb: a negated where w &lt; 0, zero where w = 0; AVX2 only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Sign(Vector256<sbyte> a, Vector256<sbyte> w) => Avx2.Sign(a, w);

    /// <summary>
    /// Σ(u−8)·s per 4 bytes for codes u in 0..15: maddubs(u, s) − maddubs(8, s) in 16 bits (|values| ≤ 2·15·128, no
    /// saturation), then pairs to 32 bits. Same integers as <see cref="Dot32S"/> on (u−8), two instructions fewer.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot32UOffset8(Vector256<byte> u, Vector256<sbyte> s)
    {
        if (Avx2.IsSupported)
        {
            Vector256<short> d = Avx2.MultiplyAddAdjacent(u, s) - Avx2.MultiplyAddAdjacent(Vector256.Create((byte)8), s);
            return Avx2.MultiplyAddAdjacent(d, Vector256<short>.One);
        }
        return Dot32S((u - Vector256.Create((byte)8)).AsSByte(), s);
    }

    // ---------------- 512-bit (AVX-512 BW) ----------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Dot64U(Vector512<byte> u, Vector512<sbyte> s)
    {
        if (Avx512BW.IsSupported)
            return Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, s), Vector512<short>.One);
        return Vector512.Create(Dot32U(u.GetLower(), s.GetLower()), Dot32U(u.GetUpper(), s.GetUpper()));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Dot64S(Vector512<sbyte> w, Vector512<sbyte> a)
    {
        if (Avx512BW.IsSupported)
        {
            // no vpsignb at 512 bits: move w's sign onto a, then |w| is the unsigned operand
            Vector512<sbyte> neg = Vector512.LessThan(w, Vector512<sbyte>.Zero);
            Vector512<sbyte> signed = Vector512.ConditionalSelect(neg, Vector512<sbyte>.Zero - a, a);
            return Dot64U(Avx512BW.Abs(w), signed);
        }
        return Vector512.Create(Dot32S(w.GetLower(), a.GetLower()), Dot32S(w.GetUpper(), a.GetUpper()));
    }

    // ---------------- scaled forms: Σ over each 4-byte group of u*s, times a per-16-bit-lane scale ----------------
    // x86: maddubs gives 16-bit pair sums (u <= 63, |s| <= 127: no saturation), then madd with the scale vector
    // multiplies by the scale and adds pairs, so one instruction both scales and widens (no 32-bit multiply).
    // The scale must be the same for all 16 bytes of each 128-bit half (one Q*_K sub-block of 16 or 32), which is
    // what lets the non-x86 fallbacks apply it after the plain dot.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Dot16UScaled(Vector128<byte> u, Vector128<sbyte> s, Vector128<short> scale16)
    {
        if (Ssse3.IsSupported)
            return Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(u, s), scale16);
        return Dot16U(u, s) * Vector128.WidenLower(scale16); // lanes 2k,2k+1 equal → widened lane k is the scale
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot32UScaled(Vector256<byte> u, Vector256<sbyte> s, Vector256<short> scale16)
    {
        if (Avx2.IsSupported)
            return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, s), scale16);
        return Vector256.Create(Dot16UScaled(u.GetLower(), s.GetLower(), scale16.GetLower()),
                                Dot16UScaled(u.GetUpper(), s.GetUpper(), scale16.GetUpper()));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Dot64UScaled(Vector512<byte> u, Vector512<sbyte> s, Vector512<short> scale16)
    {
        if (Avx512BW.IsSupported)
            return Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, s), scale16);
        return Vector512.Create(Dot32UScaled(u.GetLower(), s.GetLower(), scale16.GetLower()),
                                Dot32UScaled(u.GetUpper(), s.GetUpper(), scale16.GetUpper()));
    }

    /// <summary>
    /// vpmaddubsw: 16-bit lane k = u[2k]·s[2k] + u[2k+1]·s[2k+1] for u in 0..127 (no saturation: |lane| ≤ 2·127·128);
    /// portable elsewhere (the same integers).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> PairProducts(Vector256<byte> u, Vector256<sbyte> s)
    {
        if (Avx2.IsSupported) return Avx2.MultiplyAddAdjacent(u, s);
        return Vector256.Create(PairProducts(u.GetLower(), s.GetLower()), PairProducts(u.GetUpper(), s.GetUpper()));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<short> PairProducts(Vector128<byte> u, Vector128<sbyte> s)
    {
        if (Ssse3.IsSupported) return Ssse3.MultiplyAddAdjacent(u, s);
        Vector128<short> pl = Vector128.WidenLower(u.AsSByte()) * Vector128.WidenLower(s);
        Vector128<short> ph = Vector128.WidenUpper(u.AsSByte()) * Vector128.WidenUpper(s);
        // adjacent 16-bit products summed in 32 bits, then narrowed back (every sum fits in 16 bits)
        Vector128<int> l = Vector128.ShiftRightArithmetic(Vector128.ShiftLeft(pl.AsInt32(), 16), 16) + Vector128.ShiftRightArithmetic(pl.AsInt32(), 16);
        Vector128<int> h = Vector128.ShiftRightArithmetic(Vector128.ShiftLeft(ph.AsInt32(), 16), 16) + Vector128.ShiftRightArithmetic(ph.AsInt32(), 16);
        return Vector128.Narrow(l, h);
    }

    /// <summary>Pairwise sums of 16-bit lanes into 32-bit lanes (lane k = a[2k] + a[2k+1]), e.g. Q8_K bsums pairs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> PairSums(Vector256<short> a)
    {
        if (Avx2.IsSupported) return Avx2.MultiplyAddAdjacent(a, Vector256<short>.One);
        Vector256<int> w = a.AsInt32();
        return Vector256.ShiftRightArithmetic(Vector256.ShiftLeft(w, 16), 16) + Vector256.ShiftRightArithmetic(w, 16);
    }

    /// <summary>vpmaddwd: lane k = a[2k]*b[2k] + a[2k+1]*b[2k+1] in 32 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Madd(Vector256<short> a, Vector256<short> b)
    {
        if (Avx2.IsSupported) return Avx2.MultiplyAddAdjacent(a, b);
        Vector256<int> wa = a.AsInt32(), wb = b.AsInt32();
        Vector256<int> ae = Vector256.ShiftRightArithmetic(Vector256.ShiftLeft(wa, 16), 16), ao = Vector256.ShiftRightArithmetic(wa, 16);
        Vector256<int> be = Vector256.ShiftRightArithmetic(Vector256.ShiftLeft(wb, 16), 16), bo = Vector256.ShiftRightArithmetic(wb, 16);
        return ae * be + ao * bo;
    }

    /// <summary>Broadcast two f16 scales into the two 128-bit halves of a float vector (two blocks per Vector256).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Halves(float lo, float hi) => Vector256.Create(Vector128.Create(lo), Vector128.Create(hi));

    /// <summary>vpshufb: per 128-bit lane, byte k = v[idx[k]] of the same lane (idx &lt; 16 here); portable elsewhere.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> ShuffleBytes(Vector256<byte> v, Vector256<byte> idx)
    {
        if (Avx2.IsSupported) return Avx2.Shuffle(v, idx);
        return Vector256.Create(Vector128.Shuffle(v.GetLower(), idx.GetLower()), Vector128.Shuffle(v.GetUpper(), idx.GetUpper()));
    }

    // ---------------- byte shifts ----------------
    // x86 has no per-byte shift. .NET 10's JIT lowers Vector*.ShiftLeft/ShiftRightLogical on bytes well, but .NET 9
    // (the NativeAOT compiler here) falls back to a per-element loop for some of them (measured: Q6_K 0.7 GB/s instead
    // of 11). Shifting 16-bit lanes and masking off the bits that crossed a byte boundary is always two instructions.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> ShiftLeftBytes(Vector128<byte> v, int k) =>
        Vector128.ShiftLeft(v.AsUInt16(), k).AsByte() & Vector128.Create((byte)(0xFF << k));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> ShiftRightBytes(Vector128<byte> v, int k) =>
        Vector128.ShiftRightLogical(v.AsUInt16(), k).AsByte() & Vector128.Create((byte)(0xFF >> k));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> ShiftLeftBytes(Vector256<byte> v, int k) =>
        Vector256.ShiftLeft(v.AsUInt16(), k).AsByte() & Vector256.Create((byte)(0xFF << k));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> ShiftRightBytes(Vector256<byte> v, int k) =>
        Vector256.ShiftRightLogical(v.AsUInt16(), k).AsByte() & Vector256.Create((byte)(0xFF >> k));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> ShiftLeftBytes(Vector512<byte> v, int k) =>
        Vector512.ShiftLeft(v.AsUInt16(), k).AsByte() & Vector512.Create((byte)(0xFF << k));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> ShiftRightBytes(Vector512<byte> v, int k) =>
        Vector512.ShiftRightLogical(v.AsUInt16(), k).AsByte() & Vector512.Create((byte)(0xFF >> k));
}
