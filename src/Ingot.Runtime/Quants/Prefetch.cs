using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Software prefetch of weights a fixed distance ahead of a vec-dot's read position. Decode streams each weight matrix
/// in short bursts (a chunk of tens to hundreds of KB per thread per matmul) and the hardware prefetchers ramp up too
/// slowly for that: 4 KB ahead measured +15-25 % on 768-row Q4_0 matrices with 2 threads, and no change on long
/// streams. Also attention's short strided key and value rows (<see cref="RowsL2"/>). x86 only (.NET has no AdvSimd
/// prefetch); elsewhere a no-op.
/// </summary>
internal static unsafe class Prefetch
{
    public const int Distance = 4096;

    /// <summary>
    /// Prefetches the lines of [p + Distance, p + Distance + bytes) for a loop step that consumes <paramref name="bytes"/>
    /// (a constant at each call site): one touch every 48 bytes, so no 64-byte line is skipped whatever the alignment.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Step(byte* p, int bytes)
    {
        Range(p + Distance, bytes);
        Far(p + FarDistance, bytes);
    }

    /// <summary>
    /// How far ahead <see cref="Step"/> also prefetches into L2 (prefetcht2): the L1 prefetch alone left a 2-thread decode
    /// of 1B-shape F16 weights at 0.76-0.85 of the bandwidth roofline, with this one 0.94-0.99.
    /// </summary>
    public const int FarDistance = 16384;

    /// <summary><see cref="Range"/> with prefetcht2 (into L2, not L1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Far(byte* p, int bytes) => Lines(p, bytes, l2: true);

    /// <summary>
    /// Prefetches the lines of [p, p + bytes) (bytes a constant at each call site), one touch every 48 bytes; written
    /// out up to 240 bytes (NativeAOT's compiler keeps the loop of the general form).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Range(byte* p, int bytes) => Lines(p, bytes, l2: false);

    /// <summary>The touches of <see cref="Range"/> / <see cref="Far"/> (l2 a constant at each call site).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Lines(byte* p, int bytes, bool l2)
    {
        if (!Sse.IsSupported) return;
        if (bytes > 240)
        {
            for (int o = 0; o < bytes; o += 48) Touch(p + o, l2);
            return;
        }
        if (bytes > 0) Touch(p, l2);
        if (bytes > 48) Touch(p + 48, l2);
        if (bytes > 96) Touch(p + 96, l2);
        if (bytes > 144) Touch(p + 144, l2);
        if (bytes > 192) Touch(p + 192, l2);
    }

    /// <summary>
    /// Prefetches rows [0, rows) of <paramref name="bytes"/> each (row r at p + r · stride) into L2 (prefetcht1), every
    /// line once: short strided rows (one attention head's keys or values, a few lines per cached position) whose many
    /// requests the hardware prefetchers do not make ahead of the loads.
    /// </summary>
    public static void RowsL2(byte* p, nint stride, int rows, int bytes)
    {
        if (!Sse.IsSupported) return;
        for (int r = 0; r < rows; r++, p += stride)
            for (byte* line = (byte*)((nint)p & ~63), end = p + bytes; line < end; line += 64) Sse.Prefetch1(line);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Touch(byte* p, bool l2)
    {
        if (l2) Sse.Prefetch2(p);
        else Sse.Prefetch0(p);
    }
}
