using Ingot.Runtime.Kernels;
using Xunit;

namespace Ingot.Kernels.Tests;

public unsafe class WorkerPoolTests
{
    private struct CountBody : IRangeBody
    {
        public int* Hits;
        public int* Ranges;
        public void Run(int start, int end)
        {
            if (Ranges != null) Interlocked.Increment(ref *Ranges);
            for (int i = start; i < end; i++) Interlocked.Increment(ref Hits[i]);
        }
    }

    private struct ThrowBody : IRangeBody
    {
        public int ThrowAt;
        public void Run(int start, int end)
        {
            if (ThrowAt >= start && ThrowAt < end) throw new InvalidOperationException("boom at " + ThrowAt);
        }
    }

    private struct SumBody : IRangeBody
    {
        public float* X;
        public float* Y;
        public void Run(int start, int end)
        {
            for (int i = start; i < end; i++) Y[i] = X[i] * 2 + 1;
        }
    }

    private struct NestedBody : IRangeBody
    {
        public WorkerPool Pool;
        public int* Hits;
        public void Run(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                var inner = new CountBody { Hits = Hits + i * 8, Ranges = Hits + 1000 };
                Pool.For(8, ref inner);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(7)]
    public void For_CoversEveryIndexExactlyOnce(int threads)
    {
        using var pool = new WorkerPool(threads);
        Assert.Equal(threads, pool.ThreadCount);
        using var hits = new NativeBuf<int>(5000);
        using var ranges = new NativeBuf<int>(1);
        foreach (int count in new[] { 0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 64, 100, 127, 1000, 4099 })
        {
            hits.Span.Clear();
            *ranges.P = 0;
            var body = new CountBody { Hits = hits.P, Ranges = ranges.P };
            for (int rep = 0; rep < 3; rep++) pool.For(count, ref body);
            for (int i = 0; i < count; i++) Assert.True(hits.P[i] == 3, $"threads {threads} count {count} index {i} hit {hits.P[i]} times");
            for (int i = count; i < 5000; i++) Assert.Equal(0, hits.P[i]);
            Assert.True(*ranges.P <= 3 * (threads * WorkerPool.MinChunkDivisor + threads), $"{*ranges.P} ranges for {threads} threads");
        }
    }

    [Fact]
    public void DefaultThreadCount_IsProcessorCount()
    {
        using var pool = new WorkerPool(0);
        Assert.Equal(Environment.ProcessorCount, pool.ThreadCount);
    }

    [Theory]
    [InlineData(3, 400, true)]
    [InlineData(2, 4096, true)]
    [InlineData(4, 250, true)]
    [InlineData(2, 36, false)]  // 36 heads of a QKV pass: below 64, no rounding
    [InlineData(2, 12, false)]
    public void Chunks_CoverTheRangeInOrder_MultiplesOf4WhenLarge(int threads, int count, bool multiplesOf4)
    {
        using var pool = new WorkerPool(threads);
        using var rec = new NativeBuf<int>(512);
        var body = new RecordRanges { Rec = rec.P };
        pool.For(count, ref body);
        int n = rec.P[0];
        Assert.InRange(n, 2, threads * WorkerPool.MinChunkDivisor + threads);
        var starts = new List<(int S, int E)>();
        for (int i = 0; i < n; i++) starts.Add((rec.P[1 + 2 * i], rec.P[2 + 2 * i]));
        starts.Sort();
        Assert.Equal(0, starts[0].S);
        Assert.Equal(count, starts[^1].E);
        for (int i = 0; i < n; i++)
        {
            if (multiplesOf4) Assert.Equal(0, starts[i].S % 4);
            if (i > 0) Assert.Equal(starts[i - 1].E, starts[i].S);
        }
    }

    private struct RecordRanges : IRangeBody
    {
        public int* Rec; // [count, s0, e0, s1, e1, ...]
        public void Run(int start, int end)
        {
            int k = Interlocked.Increment(ref Rec[0]) - 1;
            Rec[1 + 2 * k] = start;
            Rec[2 + 2 * k] = end;
        }
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 0)]
    [InlineData(2, 99)]
    [InlineData(4, 50)]
    [InlineData(4, 99)]
    public void ExceptionInAnyChunk_PropagatesToCaller_AndPoolStaysUsable(int threads, int throwAt)
    {
        using var pool = new WorkerPool(threads);
        var bad = new ThrowBody { ThrowAt = throwAt };
        var ex = Assert.Throws<InvalidOperationException>(() => pool.For(100, ref bad));
        Assert.Equal("boom at " + throwAt, ex.Message);
        using var hits = new NativeBuf<int>(100);
        using var ranges = new NativeBuf<int>(1);
        var ok = new CountBody { Hits = hits.P, Ranges = ranges.P };
        pool.For(100, ref ok);
        for (int i = 0; i < 100; i++) Assert.Equal(1, hits.P[i]);
    }

    [Fact]
    public void For_AllocatesNothing()
    {
        using var pool = new WorkerPool(2);
        using var x = TestData.Floats(new Random(1), 256);
        using var y = new NativeBuf<float>(256);
        var body = new SumBody { X = x.P, Y = y.P };
        for (int i = 0; i < 100; i++) pool.For(256, ref body); // warm up (tiering, first-call stubs)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) pool.For(256, ref body);
        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(0, after - before);
        for (int i = 0; i < 256; i++) Assert.Equal(x.P[i] * 2 + 1, y.P[i]);
    }

    [Fact]
    public void NestedFor_RunsInline_WithoutDeadlock()
    {
        using var pool = new WorkerPool(3);
        using var hits = new NativeBuf<int>(1001);
        var body = new NestedBody { Pool = pool, Hits = hits.P };
        pool.For(100, ref body);
        for (int i = 0; i < 800; i++) Assert.Equal(1, hits.P[i]);
    }

    [Fact]
    public void ManyDispatches_AfterIdle_WakeParkedWorkers()
    {
        using var pool = new WorkerPool(3);
        using var hits = new NativeBuf<int>(64);
        using var ranges = new NativeBuf<int>(1);
        var body = new CountBody { Hits = hits.P, Ranges = ranges.P };
        for (int round = 0; round < 3; round++)
        {
            Thread.Sleep(200); // workers park
            for (int i = 0; i < 200; i++) pool.For(64, ref body);
        }
        for (int i = 0; i < 64; i++) Assert.Equal(600, hits.P[i]);
    }
}

/// <summary>Pool regressions that need await (not allowed in the unsafe test class above).</summary>
public class WorkerPoolHangTests
{
    private struct ArrayHits : IRangeBody
    {
        public int[] Hits;
        public readonly void Run(int start, int end)
        {
            for (int i = start; i < end; i++) Interlocked.Increment(ref Hits[i]);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task BackToBackFors_OfChangingSizes_NeverHang(int threads)
    {
        // Regression: the caller used to write the next job's row count before closing the previous job's claim word;
        // a worker still in the previous job could then claim rows past its end with the new count, and its late Add
        // overshot the new job's done counter (the caller spun forever). It showed within ~20k Fors of sizes 2, 3, 12.
        int[] counts = [16, 8, 64, 172, 512, 2, 3, 12, 36, 100];
        const int Fors = 200_000;
        var hits = new int[512];
        using var pool = new WorkerPool(threads);
        var run = Task.Run(() =>
        {
            for (int i = 0; i < Fors; i++)
            {
                var body = new ArrayHits { Hits = hits };
                pool.For(counts[i % counts.Length], ref body);
            }
        });
        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(120))) == run, "pool.For did not return (hang)");
        await run;
        for (int r = 0; r < hits.Length; r++)
            Assert.Equal(counts.Count(c => r < c) * (Fors / counts.Length), hits[r]);
    }
}
