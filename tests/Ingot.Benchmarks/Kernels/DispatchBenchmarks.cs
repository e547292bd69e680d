using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Ingot.Runtime.Kernels;

namespace Ingot.Benchmarks.Kernels;

/// <summary>
/// WorkerPool.For overhead: an almost empty body over 64 rows, so the time is dispatch + wake + join.
/// Decode calls For ~100 times per token; this should stay at a few microseconds.
/// JIT:       dotnet run -c Release --project tests/Ingot.Benchmarks -- --filter '*DispatchBenchmarks*'
/// NativeAOT: dotnet run -c Release --project tests/Ingot.Benchmarks -- --aot --filter '*DispatchBenchmarks*'
/// </summary>
[Config(typeof(Config))]
public class DispatchBenchmarks
{
    [Params(1, 2)]
    public int Threads { get; set; } = 2;

    private WorkerPool _pool = null!;
    private readonly int[] _sink = new int[64];

    [GlobalSetup]
    public void Setup() => _pool = new WorkerPool(Threads);

    [GlobalCleanup]
    public void Cleanup() => _pool.Dispose();

    private struct TinyBody : IRangeBody
    {
        public int[] Sink;
        public readonly void Run(int start, int end)
        {
            for (int i = start; i < end; i++) Sink[i]++;
        }
    }

    [Benchmark(OperationsPerInvoke = 100)]
    public void For100()
    {
        var body = new TinyBody { Sink = _sink };
        for (int i = 0; i < 100; i++) _pool.For(64, ref body);
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(BenchJobs.Short(warmupCount: 3, iterationCount: 8));
    }
}
