using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using BenchmarkDotNet.Toolchains.NativeAot;

namespace Ingot.Benchmarks;

/// <summary>
/// The job every kernel benchmark runs under. Default: the JIT, in-process (no per-benchmark project build; several
/// people share this machine and the Runtime project). With <c>--aot</c> on the command line (see Program.cs and
/// README.md): BenchmarkDotNet's NativeAOT toolchain, which generates a net10.0 project referencing this one, publishes it
/// with PublishAot and <c>IlcInstructionSet=x86-64-v3</c> (AVX2, the middle build of <c>ingot build --isa auto</c>) and runs
/// every benchmark case in that native process. The JIT hides AOT-only code-generation regressions; this job does not.
/// </summary>
public static class BenchJobs
{
    /// <summary>The instruction set the NativeAOT job compiles for (.NET 10's spelling).</summary>
    public const string AotInstructionSet = "x86-64-v3";

    /// <summary>Set by Program from the <c>--aot</c> switch before BenchmarkDotNet reads the configs.</summary>
    public static bool Aot { get; set; }

    /// <summary>A short job (warmup, iterations) under the JIT in-process, or under NativeAOT when <see cref="Aot"/>.</summary>
    public static Job Short(int warmupCount, int iterationCount)
    {
        var job = Job.ShortRun.WithWarmupCount(warmupCount).WithIterationCount(iterationCount);
        return Aot
            ? job.WithToolchain(AotToolchain.Value).WithId("NativeAOT-" + AotInstructionSet)
                // a global property of the generated project's restore/publish
                .WithArguments([new MsBuildArgument("/p:IlcInstructionSet=" + AotInstructionSet)])
            : job.WithToolchain(InProcessEmitToolchain.Instance).WithId("JIT");
    }

    // BenchmarkDotNet's stock NativeAOT toolchains restore from a preview feed this machine cannot reach; this one
    // uses the SDK's own ILCompiler package (PublishAot with no explicit ILCompiler version). UseNuGet needs a feed:
    // the local NuGet package folder (it already holds the ILCompiler packages), added beside the configured sources.
    private static readonly Lazy<IToolchain> AotToolchain = new(() => NativeAotToolchain.CreateBuilder()
        .UseNuGet("", NuGetPackagesFolder())
        .IlcInstructionSet(AotInstructionSet)
        // BenchmarkDotNet's default (complete metadata for every type) crashed ILC 9.0 on our delegate* fields
        // ("InvalidCastException in EnsureLoadableTypeUncached"); the benchmarks need no reflection over them.
        .IlcGenerateCompleteTypeMetadata(false)
        .TargetFrameworkMoniker("net10.0")
        .DisplayName("NativeAOT net10.0 " + AotInstructionSet)
        .ToToolchain());

    private static string NuGetPackagesFolder()
    {
        string? env = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        string dir = !string.IsNullOrEmpty(env) ? env : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        Directory.CreateDirectory(dir);
        return dir;
    }
}

/// <summary>GB/s = bytes the op streams (weights) / mean time; the byte count comes from the benchmark case's parameters.</summary>
public sealed class GigabytesPerSecondColumn(Func<BenchmarkCase, long> bytesOf, string legend = "weight bytes streamed per op / mean time") : IColumn
{
    public string Id => "GBps";
    public string ColumnName => "GB/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics == null) return "-";
        return (bytesOf(benchmarkCase) / report.ResultStatistics.Mean).ToString("F2", CultureInfo.InvariantCulture);
    }
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
}
