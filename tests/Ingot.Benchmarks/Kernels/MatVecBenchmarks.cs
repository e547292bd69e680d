using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Ingot.Runtime.Kernels;
using Ingot.Runtime.Quants;

namespace Ingot.Benchmarks.Kernels;

/// <summary>
/// y = W x through the WorkerPool for F32, F16 (x rounded to f16 first) and Q8_0 (x quantized to Q8_0 first,
/// VecDot.Q8_0Q8_0 per row) weights, shapes rows×cols 768×2048 (FFN-like) and 32000×768 (output layer),
/// 1 thread and all threads. GB/s = weight bytes streamed per op / mean time.
/// Every weight type through VecDot.For is QuantMatVecBenchmarks; this one keeps the library's MatVec.F32 / MatVec.F16.
/// JIT:       dotnet run -c Release --project tests/Ingot.Benchmarks -- --filter 'Ingot.Benchmarks.Kernels.MatVecBenchmarks*'
/// NativeAOT: dotnet run -c Release --project tests/Ingot.Benchmarks -- --aot --filter 'Ingot.Benchmarks.Kernels.MatVecBenchmarks*'
/// </summary>
[Config(typeof(Config))]
public unsafe class MatVecBenchmarks
{
    [Params("f32", "f16", "q8_0")]
    public string Type { get; set; } = "f32";

    [Params("768x2048", "32000x768")]
    public string Shape { get; set; } = "768x2048";

    [Params(1, 0)] // 0 = Environment.ProcessorCount
    public int Threads { get; set; } = 1;

    private WorkerPool _pool = null!;
    private int _rows, _cols;
    private void* _w;
    private float* _x, _y;
    private Half* _xh;
    private byte* _xq;

    public static (int Rows, int Cols) ParseShape(string shape)
    {
        var p = shape.Split('x');
        return (int.Parse(p[0], CultureInfo.InvariantCulture), int.Parse(p[1], CultureInfo.InvariantCulture));
    }

    public static long WeightBytesOf(string type, string shape)
    {
        var (rows, cols) = ParseShape(shape);
        long n = (long)rows * cols;
        return type switch { "f32" => n * 4, "f16" => n * 2, _ => n / 32 * 34 };
    }

    [GlobalSetup]
    public void Setup()
    {
        (_rows, _cols) = ParseShape(Shape);
        _pool = new WorkerPool(Threads);
        long bytes = WeightBytesOf(Type, Shape);
        _w = NativeMemory.AlignedAlloc((nuint)bytes, 64);
        _x = (float*)NativeMemory.AlignedAlloc((nuint)_cols * 4, 64);
        _y = (float*)NativeMemory.AlignedAlloc((nuint)_rows * 4, 64);
        _xh = (Half*)NativeMemory.AlignedAlloc((nuint)_cols * 2, 64);
        _xq = (byte*)NativeMemory.AlignedAlloc((nuint)(_cols / 32 * 34), 64);
        var rng = new Random(1);
        for (int i = 0; i < _cols; i++) _x[i] = (float)(rng.NextDouble() * 2 - 1);
        float* row = (float*)NativeMemory.Alloc((nuint)_cols * 4);
        for (int r = 0; r < _rows; r++)
        {
            for (int i = 0; i < _cols; i++) row[i] = (float)(rng.NextDouble() * 2 - 1);
            switch (Type)
            {
                case "f32": new Span<float>(row, _cols).CopyTo(new Span<float>((float*)_w + (long)r * _cols, _cols)); break;
                case "f16": Vec.Convert.F32ToF16(row, (Half*)_w + (long)r * _cols, _cols); break;
                default: Quantize.RowQ8_0(row, (byte*)_w + (long)r * (_cols / 32 * 34), _cols); break;
            }
        }
        NativeMemory.Free(row);
        Console.WriteLine($"// Vector512 {Vector512.IsHardwareAccelerated}, Vector256 {Vector256.IsHardwareAccelerated}; {Type} {_rows}x{_cols}, {bytes} weight bytes, {_pool.ThreadCount} threads");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pool.Dispose();
        NativeMemory.AlignedFree(_w);
        NativeMemory.AlignedFree(_x);
        NativeMemory.AlignedFree(_y);
        NativeMemory.AlignedFree(_xh);
        NativeMemory.AlignedFree(_xq);
    }

    [Benchmark]
    public float MatVec()
    {
        switch (Type)
        {
            case "f32":
                Ingot.Runtime.Kernels.MatVec.F32(_pool, (float*)_w, _x, _y, _rows, _cols);
                break;
            case "f16":
                Vec.Convert.F32ToF16(_x, _xh, _cols);
                Ingot.Runtime.Kernels.MatVec.F16(_pool, (Half*)_w, _xh, _y, _rows, _cols);
                break;
            default:
                Quantize.RowQ8_0(_x, _xq, _cols);
                var body = new Q8_0Body { W = (byte*)_w, X = _xq, Y = _y, Cols = _cols, RowBytes = _cols / 32 * 34 };
                _pool.For(_rows, ref body);
                break;
        }
        return _y[_rows - 1];
    }

    private struct Q8_0Body : IRangeBody
    {
        public byte* W, X;
        public float* Y;
        public int Cols, RowBytes;

        public readonly void Run(int start, int end)
        {
            for (int r = start; r < end; r++) Y[r] = VecDot.Q8_0Q8_0(W + (long)r * RowBytes, X, Cols);
        }
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(BenchJobs.Short(warmupCount: 3, iterationCount: 8));
            AddColumn(new GigabytesPerSecondColumn(c => WeightBytesOf((string)c.Parameters["Type"], (string)c.Parameters["Shape"])));
        }
    }
}
