using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Ingot.Formats;
using Ingot.Runtime.Kernels;
using Ingot.Runtime.Quants;

namespace Ingot.Benchmarks.Kernels;

/// <summary>
/// y = W x for every weight type the generator compiles, the way generated decode code runs a projection: the f32
/// activation row is converted once per op to the type's partner (<see cref="QuantTraits.ActivationType"/>, with
/// <see cref="Quantize.ActivationRow"/>; f32 weights read x as it is), then the rows are split over the library's
/// <see cref="WorkerPool"/>; each chunk is one <see cref="VecDotRows.For"/> call (f32/f16: one dot per row), as in generated code. Shapes rows×cols: 768×2048 (FFN down-like,
/// 0.5–6 MB: partly cache-resident) and 32000×768 (output layer, 8–98 MB: streamed from DRAM). Threads: 1 and all
/// (Environment.ProcessorCount). GB/s = weight bytes per op / mean time; compare with the machine's roofline
/// (cc -O3 -march=native -fopenmp ../shared/tools/membw.c -o /tmp/membw &amp;&amp; OMP_NUM_THREADS=2 /tmp/membw).
///
/// JIT:       dotnet run -c Release --project tests/Ingot.Benchmarks -- --filter '*QuantMatVecBenchmarks*'
/// NativeAOT: dotnet run -c Release --project tests/Ingot.Benchmarks -- --aot --filter '*QuantMatVecBenchmarks*'
/// </summary>
[Config(typeof(Config))]
public unsafe class QuantMatVecBenchmarks
{
    public static readonly string[] Types =
        ["q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "iq4_nl", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "iq4_xs", "f16", "bf16", "f32"];

    [ParamsSource(nameof(TypeValues), Priority = -3)]
    public string Type { get; set; } = "q8_0";

    [Params("768x2048", "32000x768", Priority = -2)]
    public string Shape { get; set; } = "768x2048";

    [ParamsSource(nameof(ThreadValues), Priority = -1)]
    public int Threads { get; set; } = 1;

    public static IEnumerable<string> TypeValues => Types;

    /// <summary>1 and every processor (just 1 on a one-core machine).</summary>
    public static IEnumerable<int> ThreadValues => Environment.ProcessorCount > 1 ? [1, Environment.ProcessorCount] : [1];

    // Distinct rows quantized in setup; the matrix repeats them (reference quantization of 24M elements per case is slow).
    private const int DistinctRows = 256;

    private WorkerPool _pool = null!;
    private GgmlType _type, _act;
    private int _rows, _cols, _rowBytes;
    private byte* _w, _a;
    private float* _x, _y;
    private delegate*<byte*, byte*, int, float> _dot;
    private delegate*<byte*, nint, int, byte*, nint, int, int, float*, nint, void> _tile;

    public static (int Rows, int Cols) ParseShape(string shape)
    {
        var p = shape.Split('x');
        return (int.Parse(p[0], CultureInfo.InvariantCulture), int.Parse(p[1], CultureInfo.InvariantCulture));
    }

    public static GgmlType ParseType(string type) =>
        GgmlTypeTraits.TryParse(type, out var t) ? t : throw new ArgumentException("unknown weight type " + type, nameof(type));

    /// <summary>Weight bytes one op streams.</summary>
    public static long WeightBytesOf(string type, string shape)
    {
        var (rows, cols) = ParseShape(shape);
        return (long)rows * QuantTraits.RowBytes(ParseType(type), cols);
    }

    [GlobalSetup]
    public void Setup()
    {
        _type = ParseType(Type);
        _act = QuantTraits.ActivationType(_type);
        (_rows, _cols) = ParseShape(Shape);
        _rowBytes = QuantTraits.RowBytes(_type, _cols);
        _pool = new WorkerPool(Threads);
        _dot = VecDot.For(_type);
        // Quantized and bf16 weights: the rows kernel generated code calls (VecDotRows) over each chunk of rows.
        _tile = _type is GgmlType.F32 or GgmlType.F16 ? null : VecDotRows.For(_type);
        long bytes = (long)_rows * _rowBytes;
        _w = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        _a = (byte*)NativeMemory.AlignedAlloc((nuint)QuantTraits.RowBytes(_act, _cols), 64);
        _x = (float*)NativeMemory.AlignedAlloc((nuint)_cols * sizeof(float), 64);
        _y = (float*)NativeMemory.AlignedAlloc((nuint)_rows * sizeof(float), 64);
        var rng = new Random(1);
        float* row = (float*)NativeMemory.Alloc((nuint)_cols * sizeof(float));
        int distinct = Math.Min(_rows, DistinctRows);
        for (int r = 0; r < distinct; r++)
        {
            for (int i = 0; i < _cols; i++) row[i] = (float)(rng.NextDouble() * 2 - 1);
            Quantize.WeightRow(_type, row, _w + (long)r * _rowBytes, _cols);
        }
        for (int r = distinct; r < _rows; r++)
            Buffer.MemoryCopy(_w + (long)(r % distinct) * _rowBytes, _w + (long)r * _rowBytes, _rowBytes, _rowBytes);
        NativeMemory.Free(row);
        for (int i = 0; i < _cols; i++) _x[i] = (float)(rng.NextDouble() * 2 - 1);
        Console.WriteLine($"// Vector512 {Vector512.IsHardwareAccelerated}, Vector256 {Vector256.IsHardwareAccelerated}, Vector128 {Vector128.IsHardwareAccelerated}; " +
                          $"{Type} {_rows}x{_cols} (activation {GgmlTypeTraits.Name(_act)}), {bytes} weight bytes, {_pool.ThreadCount} threads");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pool.Dispose();
        NativeMemory.AlignedFree(_w);
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_x);
        NativeMemory.AlignedFree(_y);
    }

    [Benchmark]
    public float MatVec()
    {
        // As generated code: convert the activation row once (f32 weights take x directly), then rows over the pool.
        byte* a = (byte*)_x;
        if (_act != GgmlType.F32)
        {
            Quantize.ActivationRow(_act, _x, _a, _cols);
            a = _a;
        }
        var body = new RowsBody { W = _w, A = a, Y = _y, Cols = _cols, RowBytes = _rowBytes, Dot = _dot, Rows = _tile };
        _pool.For(_rows, ref body);
        return _y[_rows - 1];
    }

    private struct RowsBody : IRangeBody
    {
        public byte* W, A;
        public float* Y;
        public int Cols, RowBytes;
        public delegate*<byte*, byte*, int, float> Dot;
        public delegate*<byte*, nint, int, byte*, nint, int, int, float*, nint, void> Rows; // null for f32/f16

        public readonly void Run(int start, int end)
        {
            byte* w = W + (long)start * RowBytes;
            if (Rows != null) { Rows(w, RowBytes, end - start, A, 0, 1, Cols, Y + start, 0); return; }
            for (int r = start; r < end; r++, w += RowBytes) Y[r] = Dot(w, A, Cols);
        }
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(BenchJobs.Short(warmupCount: 3, iterationCount: 8));
            AddColumn(new GigabytesPerSecondColumn(BytesOf));
        }

        private static long BytesOf(BenchmarkCase c) => WeightBytesOf((string)c.Parameters["Type"], (string)c.Parameters["Shape"]);
    }
}
