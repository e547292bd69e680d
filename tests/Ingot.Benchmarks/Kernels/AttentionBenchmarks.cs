using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Ingot.Runtime.Kernels;

namespace Ingot.Benchmarks.Kernels;

/// <summary>
/// One thread, <see cref="Attention.Head"/> as a decode step calls it: every query head (12, head size 64, no GQA) of
/// every layer (12) of every sequence, each over its own cache (kvDim 768: a head's rows are 256 bytes every 3 KB).
/// One op is one head. Sequences × Positions sets where the keys and values are: 1 × 32 fits in L2 and L3 (a decode
/// step between two calls would have pushed them out), 8 × 32 and 1 × 512 do not fit in a 32 MB L3, 1 × 2048 is a
/// long context. The figures of the KV prefetch (Attention.KvAhead) came from this form.
/// JIT: dotnet run -c Release --project tests/Ingot.Benchmarks -- --filter '*AttentionBenchmarks*'
/// </summary>
[Config(typeof(Config))]
public unsafe class AttentionBenchmarks
{
    private const int Layers = 12, Heads = 12, HeadDim = 64, KvDim = Heads * HeadDim;

    [Params(1, 8)]
    public int Sequences { get; set; } = 8;

    [Params(32, 512, 2048)]
    public int Positions { get; set; } = 32;

    private float* _k, _v, _q, _out;
    private nint _perCache;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _perCache = (nint)Positions * KvDim;
        nint floats = _perCache * Layers * Sequences;
        _k = (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
        _v = (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
        var rnd = new Random(1);
        for (nint i = 0; i < floats; i++)
        {
            _k[i] = (float)rnd.NextDouble() - 0.5f;
            _v[i] = (float)rnd.NextDouble() - 0.5f;
        }
        _q = (float*)NativeMemory.AlignedAlloc(HeadDim * sizeof(float), 64);
        _out = (float*)NativeMemory.AlignedAlloc(HeadDim * sizeof(float), 64);
        for (int i = 0; i < HeadDim; i++) _q[i] = 0.01f * i;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_k);
        NativeMemory.AlignedFree(_v);
        NativeMemory.AlignedFree(_q);
        NativeMemory.AlignedFree(_out);
    }

    [Benchmark(OperationsPerInvoke = Layers * Heads)]
    public void DecodeStep()
    {
        // one sequence per invocation, in turn: with 8 its caches come back from memory
        int s = _next;
        _next = (_next + 1) % Sequences;
        for (int l = 0; l < Layers; l++)
            for (int h = 0; h < Heads; h++)
            {
                nint at = ((nint)l * Sequences + s) * _perCache + h * HeadDim;
                Attention.Head(_q, _k + at, _v + at, KvDim, Positions, HeadDim, 0.125f, _out);
            }
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(BenchJobs.Short(warmupCount: 3, iterationCount: 8));
    }
}
