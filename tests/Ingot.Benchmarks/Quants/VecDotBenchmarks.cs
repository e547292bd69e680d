using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Ingot.Formats;
using Ingot.Runtime.Quants;

namespace Ingot.Benchmarks.Quants;

/// <summary>
/// One thread, a ~4 MB weight matrix (rows × 4096) of each type times one quantized activation row: the matvec
/// inner loop a decode step runs. "WeightBytes" is bytes read per op; GB/s = WeightBytes / Mean. Roofline:
/// cc -O3 -march=native -fopenmp ../shared/tools/membw.c -o /tmp/membw &amp;&amp; OMP_NUM_THREADS=2 /tmp/membw
///
/// JIT:       dotnet run -c Release --project tests/Ingot.Benchmarks -- --filter '*VecDotBenchmarks*'
/// NativeAOT: dotnet run -c Release --project tests/Ingot.Benchmarks -- --aot --filter '*VecDotBenchmarks*'
///            (net10.0, IlcInstructionSet=x86-64-v3; see BenchJobs and README.md)
/// A subset:  --filter '*VecDotBenchmarks*"q4_0"*"best"*'
/// </summary>
[Config(typeof(Config))]
public unsafe class VecDotBenchmarks
{
    public const int Cols = 4096;
    public const long TargetBytes = 4L << 20;

    [Params("q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "iq4_nl", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "iq4_xs", "f16", "bf16", "f32")]
    public string Type { get; set; } = "q8_0";

    [Params("best", "scalar")]
    public string Path { get; set; } = "best";

    private byte* _w, _a;
    private int _rows, _rowBytes;
    private delegate*<byte*, byte*, int, float> _dot;

    public static long WeightBytesOf(string type)
    {
        GgmlTypeTraits.TryParse(type, out var t);
        long rowBytes = GgmlTypeTraits.RowBytes(t, Cols);
        return TargetBytes / rowBytes * rowBytes;
    }

    [GlobalSetup]
    public void Setup()
    {
        if (!GgmlTypeTraits.TryParse(Type, out var t)) throw new ArgumentException(Type);
        GgmlType act = QuantTraits.ActivationType(t);
        _rowBytes = QuantTraits.RowBytes(t, Cols);
        _rows = (int)(TargetBytes / _rowBytes);
        _w = (byte*)NativeMemory.AlignedAlloc((nuint)((long)_rows * _rowBytes), 64);
        _a = (byte*)NativeMemory.AlignedAlloc((nuint)QuantTraits.RowBytes(act, Cols), 64);
        var rng = new Random(1);
        float* x = (float*)NativeMemory.Alloc(Cols * sizeof(float));
        for (int r = 0; r < _rows; r++)
        {
            for (int i = 0; i < Cols; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
            Quantize.WeightRow(t, x, _w + (long)r * _rowBytes, Cols);
        }
        for (int i = 0; i < Cols; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        Quantize.ActivationRow(act, x, _a, Cols);
        NativeMemory.Free(x);
        _dot = Path == "best" ? VecDot.For(t) : VecDot.ScalarFor(t);
        Console.WriteLine($"// Vector512 {Vector512.IsHardwareAccelerated}, Vector256 {Vector256.IsHardwareAccelerated}, Vector128 {Vector128.IsHardwareAccelerated}; {Type}: {_rows} rows x {_rowBytes} B");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_w);
        NativeMemory.AlignedFree(_a);
    }

    [Benchmark]
    public float MatVecRows()
    {
        float s = 0;
        byte* w = _w;
        for (int r = 0; r < _rows; r++, w += _rowBytes) s += _dot(w, _a, Cols);
        return s;
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            // JIT in-process (no per-benchmark project build), or NativeAOT with --aot: see BenchJobs
            AddJob(BenchJobs.Short(warmupCount: 2, iterationCount: 5));
            AddColumn(new WeightBytesColumn(), new GigabytesPerSecondColumn(c => WeightBytesOf((string)c.Parameters["Type"]), "weight bytes / mean time"));
        }
    }

    private sealed class WeightBytesColumn : IColumn
    {
        public string Id => "WeightBytes";
        public string ColumnName => "WeightBytes";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Size;
        public string Legend => "weight bytes read per op";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
            WeightBytesOf((string)benchmarkCase.Parameters["Type"]).ToString(System.Globalization.CultureInfo.InvariantCulture);
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    }
}
