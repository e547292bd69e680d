using System.Runtime.InteropServices;
using Ingot.Host.CommandLine;

namespace Ingot.Cli.Building;

/// <summary>
/// A NativeAOT target: the <c>IlcInstructionSet</c> and the runtime identifier. NativeAOT without an instruction
/// set compiles for SSE4.2 only (AVX2 reports false), so every build names one.
/// </summary>
public sealed record IsaTarget(string Isa, string InstructionSet, string RuntimeIdentifier)
{
    public const string Default = "x86-x64-v3";

    /// <summary>The values <c>--isa</c> accepts.</summary>
    public static readonly string[] Known = ["native", "x86-x64-v3", "x86-x64-v4", "arm64"];

    /// <summary>Maps <c>--isa</c> (and an optional <c>-r RID</c>) to a target; unknown values are usage errors.</summary>
    public static IsaTarget Parse(string isa, string? rid)
    {
        string hostRid = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        if (OperatingSystem.IsMacOS()) hostRid = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "osx-arm64" : "osx-x64";
        else if (OperatingSystem.IsWindows()) hostRid = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "win-arm64" : "win-x64";
        string os = hostRid[..hostRid.IndexOf('-')];
        var target = isa switch
        {
            "native" => new IsaTarget(isa, "native", hostRid),
            "x86-x64-v3" => new IsaTarget(isa, "x86-x64-v3", os + "-x64"),   // AVX2, FMA, BMI2
            "x86-x64-v4" => new IsaTarget(isa, "x86-x64-v4", os + "-x64"),   // + AVX-512 F/BW/CD/DQ/VL
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
