using System.Runtime.CompilerServices;

namespace Ingot.Runtime.Quants;

/// <summary>Unpacking of the 12-byte 6-bit scale/min field shared by Q4_K and Q5_K.</summary>
internal static unsafe class KScales
{
    /// <summary>
    /// All 8 scales (bytes of <paramref name="scales"/>, sub-block j in byte j) and 8 mins at once with word
    /// masks, straight from the layout: j &lt; 4 → low 6 bits of b[j] / b[j+4]; j ≥ 4 → nibbles of b[j+4] plus the
    /// top 2 bits of b[j-4] / b[j] as bits 4-5.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unpack(byte* packed, out ulong scales, out ulong mins)
    {
        uint w0 = Unsafe.ReadUnaligned<uint>(packed), w1 = Unsafe.ReadUnaligned<uint>(packed + 4), w2 = Unsafe.ReadUnaligned<uint>(packed + 8);
        const uint low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, low2 = 0x03030303;
        uint sc03 = w0 & low6;
        uint mn03 = w1 & low6;
        uint sc47 = (w2 & low4) | (((w0 >> 6) & low2) << 4);
        uint mn47 = ((w2 >> 4) & low4) | (((w1 >> 6) & low2) << 4);
        scales = sc03 | ((ulong)sc47 << 32);
        mins = mn03 | ((ulong)mn47 << 32);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static short Byte(ulong packed8, int j) => (short)(byte)(packed8 >> (8 * j));
}
