using System.Runtime.InteropServices;
using Ingot.Host.CommandLine;

namespace Ingot.Cli.Building;

/// <summary>
/// A NativeAOT target: the <c>IlcInstructionSet</c> and the runtime identifier. NativeAOT without an instruction
/// set compiles for SSE4.2 only (AVX2 reports false), so every build names one. <c>auto</c> (the default on x86-64)
/// builds the x86-64-v2 executable as a launcher plus <see cref="Variants"/> beside it (Ingot.Host's IsaDispatch picks
/// one at start). .NET 10's ILC spells the levels x86-64-vN; the .NET 9 spelling x86-x64-vN is taken as an alias.
/// </summary>
public sealed record IsaTarget(string Isa, string InstructionSet, string RuntimeIdentifier)
{
    public const string Default = "auto";

    /// <summary>The values <c>--isa</c> accepts.</summary>
    public static readonly string[] Known = ["auto", "native", "x86-64-v2", "x86-64-v3", "x86-64-v4", "arm64"];

    /// <summary>What an x86-64 auto build puts beside its launcher, best first.</summary>
    public static readonly string[] AutoVariants = ["x86-64-v4", "x86-64-v3"];

    /// <summary>The builds an auto launcher chooses among, best first (empty for a single build).</summary>
    public string[] Variants { get; init; } = [];

    /// <summary>
    /// <c>ingot build</c>'s default <c>--weights-layout</c> for this target: <c>ingot</c> where its Q4_0 kernels are the
    /// machine-code AVX512-VNNI ones (an x86-64-v4 build, or native / auto built on a CPU with AVX512-VNNI, whose auto
    /// launcher runs the v4 variant): measured there faster in decode and prefill, with AMX and without (Q4_K:
    /// without AMX; with it their AMX prefill puts the rows back per call). Elsewhere
    /// <c>gguf</c>: without AVX512-VNNI the interleaved layout's 256-bit decode kernel is 0.97× and its prefill puts rows
    /// back per call (0.91–0.93×). Either layout gives the same logits on every machine.
    /// </summary>
    public string DefaultWeightsLayout => Isa switch
    {
        "x86-64-v4" => "ingot",
        "native" or "auto" when RuntimeIdentifier.EndsWith("-x64", StringComparison.Ordinal) && Ingot.Runtime.Kernels.IsaPaths.Avx512Vnni => "ingot",
        _ => "gguf",
    };

    /// <summary>Maps <c>--isa</c> (and an optional <c>-r RID</c>) to a target; unknown values are usage errors.</summary>
    public static IsaTarget Parse(string isa, string? rid)
    {
        string hostRid = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        if (OperatingSystem.IsMacOS()) hostRid = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "osx-arm64" : "osx-x64";
        else if (OperatingSystem.IsWindows()) hostRid = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "win-arm64" : "win-x64";
        string os = hostRid[..hostRid.IndexOf('-')];
        if (isa == "auto" && (rid ?? hostRid).EndsWith("-arm64", StringComparison.Ordinal)) isa = "arm64"; // one arm64 build
        var target = isa switch
        {
            "auto" => new IsaTarget("auto", "x86-64-v2", os + "-x64") { Variants = AutoVariants },
            "native" => new IsaTarget(isa, "native", hostRid),
            "x86-64-v2" => new IsaTarget(isa, "x86-64-v2", os + "-x64"),                      // SSE4.2, POPCNT
            "x86-64-v3" or "x86-x64-v3" => new IsaTarget("x86-64-v3", "x86-64-v3", os + "-x64"), // AVX2, FMA, BMI2
            "x86-64-v4" or "x86-x64-v4" => new IsaTarget("x86-64-v4", "x86-64-v4", os + "-x64"), // + AVX-512 F/BW/CD/DQ/VL
            "arm64" or "neon" => new IsaTarget("arm64", "armv8.2-a,dotprod,rdma", os + "-arm64"), // NEON + SDOT
            _ => throw new UsageException($"--isa '{isa}' is not one of {string.Join(", ", Known)}"),
        };
        if (rid is not null)
        {
            bool armRid = rid.EndsWith("-arm64", StringComparison.Ordinal);
            if (armRid != target.InstructionSet.StartsWith("armv8", StringComparison.Ordinal) && isa != "native")
                throw new UsageException($"--isa {isa} does not fit runtime identifier {rid}");
            target = target with { RuntimeIdentifier = rid };
        }
        return target;
    }
}
