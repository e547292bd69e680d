using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Ingot.Runtime.Kernels;

namespace Ingot.Benchmarks.Kernels;

/// <summary>
/// One thread, causal attention as a decode step runs it: one op is one layer of one sequence, every query head over
/// the sequence's own cache of that layer, called as the generated code calls it: the cache head-major, each KV head's
/// rows of 256 bytes contiguous. Shapes: 110m (12 KV heads of size 64, one query head each,
/// <see cref="Attention.Head"/>) and 1b (Llama-3.2-1B: 8 KV heads, 4 query heads each through
/// <see cref="Attention.Heads"/>). Sequences × Positions sets
/// where the keys and values are: 1 × 32 fits in L2 and L3 (a decode step between two calls would have pushed them
/// out), 8 × 32 and the longer ones do not fit a 32 MB L3 (12 or 16 layers per sequence). Kv: the cache's type, F16
/// (what decoders keep by default, each row widened to F32 in L1-sized blocks; <see cref="Attention.Heads(float*, int,
/// Half*, Half*, int, int, int, float, float*, float, int, int)"/>) or F32.
/// JIT: dotnet run -c Release --project tests/Ingot.Benchmarks -- --filter '*AttentionBenchmarks*'
/// </summary>
[Config(typeof(Config))]
public unsafe class AttentionBenchmarks
{
    private const int HeadDim = 64;

    [Params("110m", "1b")]
    public string Shape { get; set; } = "1b";

    [Params(1, 8)]
    public int Sequences { get; set; } = 8;

    [Params(32, 512, 2048)]
    public int Positions { get; set; } = 32;

    /// <summary>The cache's element type: f16 (decoders' default, <c>--kv-type f16</c>) or f32.</summary>
    [Params("f16", "f32")]
    public string Kv { get; set; } = "f16";

    private int _layers, _kvHeads, _group, _kvDim, _next;
    private float* _k, _v, _q, _out;
    private Half* _kh, _vh;
    private nint _perCache;

    [GlobalSetup]
    public void Setup()
    {
        (_layers, _kvHeads, _group) = Shape == "1b" ? (16, 8, 4) : (12, 12, 1);
        _kvDim = _kvHeads * HeadDim;
        _perCache = (nint)Positions * _kvDim;
        nint floats = _perCache * _layers * Sequences;
        _k = (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
        _v = (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
        var rnd = new Random(1);
        for (nint i = 0; i < floats; i++)
        {
            _k[i] = (float)rnd.NextDouble() - 0.5f;
            _v[i] = (float)rnd.NextDouble() - 0.5f;
        }
        if (Kv == "f16")
        {
            _kh = (Half*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(Half)), 64);
            _vh = (Half*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(Half)), 64);
            for (nint i = 0; i < floats; i++)
            {
                _kh[i] = (Half)_k[i];
                _vh[i] = (Half)_v[i];
            }
        }
        int qDim = _kvHeads * _group * HeadDim;
        _q = (float*)NativeMemory.AlignedAlloc((nuint)(qDim * sizeof(float)), 64);
        _out = (float*)NativeMemory.AlignedAlloc((nuint)(qDim * sizeof(float)), 64);
        for (int i = 0; i < qDim; i++) _q[i] = 0.01f * (i % HeadDim);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_k);
        NativeMemory.AlignedFree(_v);
        NativeMemory.AlignedFree(_kh);
        NativeMemory.AlignedFree(_vh);
        NativeMemory.AlignedFree(_q);
        NativeMemory.AlignedFree(_out);
    }

    [Benchmark(OperationsPerInvoke = 16)]
    public void Layer()
    {
        // 16 layers per invocation, of one sequence in turn: with 8 its caches come back from memory
        int s = _next;
        _next = (_next + 1) % Sequences;
        for (int i = 0; i < 16; i++)
        {
            int l = i % _layers;
            for (int g = 0; g < _kvHeads; g++)
            {
                nint at = ((nint)l * Sequences + s) * _perCache + g * (nint)Positions * HeadDim;
                float* q = _q + g * _group * HeadDim, o = _out + g * _group * HeadDim;
                if (_kh != null) Attention.Heads(q, _group, _kh + at, _vh + at, HeadDim, Positions, HeadDim, 0.125f, o, 0f, 0, Positions - 1);
                else if (_group == 1) Attention.Head(q, _k + at, _v + at, HeadDim, Positions, HeadDim, 0.125f, o);
                else Attention.Heads(q, _group, _k + at, _v + at, HeadDim, Positions, HeadDim, 0.125f, o, 0f, 0, Positions - 1);
            }
        }
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(BenchJobs.Short(warmupCount: 3, iterationCount: 8));
    }
}
