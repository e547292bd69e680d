using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Ingot.Formats;
using Ingot.Runtime.Quants;

namespace Ingot.Cli.Planning;

/// <summary>
/// What the planner measures on the spot: read bandwidth (as ../shared/tools/membw.c: threads summing disjoint parts
/// of a buffer far larger than the caches, best of a few passes), the prefill rate of a weight type's rows kernel (the
/// one prefill runs: 64 tokens × a tile of weight rows held in L2), and the memory free now.
/// </summary>
public static unsafe class MachineProbe
{
    private static readonly object Gate = new();

    /// <summary>GB/s read by <paramref name="threads"/> threads over <paramref name="megabytes"/> MB, best of <paramref name="passes"/>.</summary>
    public static double ReadBandwidth(int threads, int megabytes = 512, int passes = 4)
    {
        nuint bytes = (nuint)megabytes << 20;
        byte* buffer = (byte*)NativeMemory.AlignedAlloc(bytes, 64);
        try
        {
            NativeMemory.Fill(buffer, bytes, 1);
            double best = 0;
            long part = (long)bytes / threads / 64 * 64;
            for (int p = 0; p < passes; p++)
            {
                var sums = new float[threads];
                long t0 = Stopwatch.GetTimestamp();
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t => sums[t] = Sum(buffer + t * part, part));
                double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                best = Math.Max(best, part * threads / seconds / 1e9);
                GC.KeepAlive(sums);
            }
            return best;
        }
        finally { NativeMemory.AlignedFree(buffer); }
    }

    private static float Sum(byte* p, long bytes)
    {
        var a = Vector256<float>.Zero; var b = a; var c = a; var d = a;
        for (long i = 0; i < bytes; i += 128)
        {
            a += Vector256.Load((float*)(p + i));
            b += Vector256.Load((float*)(p + i + 32));
            c += Vector256.Load((float*)(p + i + 64));
            d += Vector256.Load((float*)(p + i + 96));
        }
        return Vector256.Sum(a + b + c + d);
    }

    /// <summary>
    /// Multiply-accumulates per second of <paramref name="type"/>'s rows kernel on <paramref name="threads"/> threads: each
    /// thread runs 256 weight rows × 2048 columns (L2-resident) against 64 prepared activation rows, as a prefill tile
    /// does. Null for a type without a rows kernel.
    /// </summary>
    public static double? PrefillMacRate(GgmlType type, int threads, double seconds = 0.3)
    {
        if (type is GgmlType.F32 or GgmlType.F16) return null;
        const int Rows = 256, Cols = 2048, Tokens = 64;
        var kernel = VecDotRows.For(type);
        var act = QuantTraits.ActivationType(type);
        long rowBytes = GgmlTypeTraits.RowBytes(type, Cols), actBytes = GgmlTypeTraits.RowBytes(act, Cols);
        long total = 0;
        double elapsed = 0;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ =>
        {
            byte* w = (byte*)NativeMemory.AlignedAlloc((nuint)(rowBytes * Rows), 64);
            byte* a = (byte*)NativeMemory.AlignedAlloc((nuint)(actBytes * Tokens), 64);
            float* y = (float*)NativeMemory.AlignedAlloc((nuint)(sizeof(float) * Rows * Tokens), 64);
            float* x = (float*)NativeMemory.AlignedAlloc(sizeof(float) * Cols, 64);
            try
            {
                var rng = new Random(1);
                for (int i = 0; i < Cols; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
                for (int r = 0; r < Rows; r++) Quantize.WeightRow(type, x, w + r * rowBytes, Cols);
                for (int t = 0; t < Tokens; t++)
                {
                    if (act == GgmlType.Q8_K) Quantize.RowQ8_K(x, a + t * actBytes, Cols);
                    else if (act == GgmlType.Q8_1) Quantize.RowQ8_1(x, a + t * actBytes, Cols);
                    else if (act == GgmlType.Q8_0) Quantize.RowQ8_0(x, a + t * actBytes, Cols);
                    else Quantize.WeightRow(act, x, a + t * actBytes, Cols);
                }
                kernel(w, (nint)rowBytes, Rows, a, (nint)actBytes, Tokens, Cols, y, Rows); // warm-up
                long calls = 0, t0 = Stopwatch.GetTimestamp();
                while (Stopwatch.GetElapsedTime(t0).TotalSeconds < seconds)
                {
                    kernel(w, (nint)rowBytes, Rows, a, (nint)actBytes, Tokens, Cols, y, Rows);
                    calls++;
                }
                double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                lock (Gate)
                {
                    total += calls * (long)Rows * Cols * Tokens;
                    elapsed = Math.Max(elapsed, s);
                }
            }
            finally
            {
                NativeMemory.AlignedFree(w); NativeMemory.AlignedFree(a); NativeMemory.AlignedFree(y); NativeMemory.AlignedFree(x);
            }
        });
        return total / elapsed;
    }

    /// <summary>
    /// GB/s the decode kernel of <paramref name="type"/> streams from memory: one token against
    /// <paramref name="megabytes"/> MB of weight rows (2048 columns; far beyond the caches), split across
    /// <paramref name="threads"/> threads as the generated code splits rows, best of <paramref name="passes"/>. The values
    /// are random bytes: the kernels' speed does not depend on them. Null for a type without a rows kernel.
    /// </summary>
    public static double? DecodeStreamRate(GgmlType type, int threads, int megabytes = 384, int passes = 3)
    {
        if (type is GgmlType.F32 or GgmlType.F16) type = GgmlType.Q8_0; // no rows kernel: Q8_0 streams at a like rate
        const int Cols = 2048;
        var kernel = VecDotRows.For(type);
        var act = QuantTraits.ActivationType(type);
        long rowBytes = GgmlTypeTraits.RowBytes(type, Cols), actBytes = GgmlTypeTraits.RowBytes(act, Cols);
        long rows = ((long)megabytes << 20) / rowBytes / (64 * threads) * (64 * threads);
        byte* w = (byte*)NativeMemory.AlignedAlloc((nuint)(rows * rowBytes), 64);
        byte* a = (byte*)NativeMemory.AlignedAlloc((nuint)actBytes, 64);
        float* x = (float*)NativeMemory.AlignedAlloc(sizeof(float) * Cols, 64);
        float* y = (float*)NativeMemory.AlignedAlloc((nuint)(sizeof(float) * rows), 64);
        try
        {
            var rng = new Random(1);
            for (long at = 0, total = rows * rowBytes; at < total; at += int.MaxValue)
                rng.NextBytes(new Span<byte>(w + at, (int)Math.Min(total - at, int.MaxValue)));
            for (int i = 0; i < Cols; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
            if (act == GgmlType.Q8_K) Quantize.RowQ8_K(x, a, Cols);
            else if (act == GgmlType.Q8_1) Quantize.RowQ8_1(x, a, Cols);
            else if (act == GgmlType.Q8_0) Quantize.RowQ8_0(x, a, Cols);
            else Quantize.WeightRow(act, x, a, Cols);
            long perThread = rows / threads;
            double best = 0;
            for (int p = 0; p < passes; p++)
            {
                long t0 = Stopwatch.GetTimestamp();
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                {
                    for (long r = t * perThread; r < (t + 1) * perThread; r += 64)
                        kernel(w + r * rowBytes, (nint)rowBytes, 64, a, (nint)actBytes, 1, Cols, y + r, 1);
                });
                best = Math.Max(best, rows * rowBytes / Stopwatch.GetElapsedTime(t0).TotalSeconds / 1e9);
            }
            return best;
        }
        finally
        {
            NativeMemory.AlignedFree(w); NativeMemory.AlignedFree(a); NativeMemory.AlignedFree(x); NativeMemory.AlignedFree(y);
        }
    }

    /// <summary>Bytes of memory available now (/proc/meminfo MemAvailable; the GC's view elsewhere).</summary>
    public static long AvailableMemory()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }
}
