using System.Diagnostics;
using System.Text.RegularExpressions;
using Ingot.Cli.Building;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.Host.Tests;

/// <summary>
/// arm64 with NEON, run: linux-arm64 NativeAOT builds cross-compiled here and run under qemu-aarch64 (user mode, which
/// reports AdvSimd and Dp). .ci/run installs the cross toolchain (clang, lld, the aarch64 binutils and C library) and
/// qemu-user-static. About three minutes: two arm64 NativeAOT publishes.
/// </summary>
[Trait("Category", "Publish")]
public class Arm64Tests(ITestOutputHelper log)
{
    private const string Qemu = "/usr/bin/qemu-aarch64-static";
    private const string Sysroot = "/usr/aarch64-linux-gnu";

    /// <summary>Runs an arm64 executable under qemu-user with the Debian arm64 C library (no ICU there: invariant globalization).</summary>
    private static (int Code, string Out, string Err) Arm64(string exe, params string[] args)
    {
        Assert.True(File.Exists(Qemu), Qemu + " is missing: .ci/run installs qemu-user-static");
        var r = TestProcess.Run(Qemu, "", new() { ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1" }, ["-L", Sysroot, exe, .. args]);
        return (r.Code, r.Out, r.Err);
    }

    /// <summary>
    /// Ingot.Kernels.Tests and Ingot.Quants.Tests, compiled into Ingot.NeonCheck and published for linux-arm64: every case
    /// passes with Vector128 as NEON and Dp's SDOT in use (the runner refuses an arm64 run without them), so each
    /// V128 path, the dispatching entries, the AdvSimd table lookup and the no-Dp widening dot meet the scalar reference.
    /// The runner must have run every test method the two projects declare.
    /// </summary>
    [Fact]
    public void TheKernelAndQuantTests_PassOnTheNeonPaths()
    {
        CrossToolchain.ThrowIfMissing("linux-arm64");
        string work = Path.Combine(Path.GetTempPath(), "ingot-arm64-test", "neoncheck");
        string project = Path.Combine(TestPaths.Repo, "tests", "Ingot.NeonCheck", "Ingot.NeonCheck.csproj");
        var publish = new List<string> { "publish", project, "-c", "Release", "-r", "linux-arm64", "-o", Path.Combine(work, "publish"),
            "-p:ArtifactsPath=" + Path.Combine(work, "artifacts"), "-nologo", "-v:q", "-nodeReuse:false" };
        publish.AddRange(CrossToolchain.Properties("linux-arm64").Select(p => $"-p:{p.Name}={p.Value}"));
        var sw = Stopwatch.StartNew();
        var built = TestProcess.Run("dotnet", "", null, [.. publish]);
        log.WriteLine($"publish: {sw.Elapsed.TotalSeconds:F1} s");
        Assert.True(built.Code == 0, built.Out + built.Err);

        var (rc, stdout, stderr) = Arm64(Path.Combine(work, "publish", "Ingot.NeonCheck"));
        log.WriteLine(stdout);
        Assert.True(rc == 0, stdout + stderr);
        Assert.StartsWith("Arm64: vector128 True, vector256 False, vector512 False, advsimd.arm64 True, dp True\n", stdout);
        Match summary = Regex.Match(stdout, @"^(\d+) test methods: (\d+) passed, 0 failed, 0 skipped", RegexOptions.Multiline);
        Assert.True(summary.Success, stdout);
        int declared = new[] { "Ingot.Kernels.Tests", "Ingot.Quants.Tests" }
            .SelectMany(p => Directory.GetFiles(Path.Combine(TestPaths.Repo, "tests", p), "*.cs"))
            .Sum(f => Regex.Matches(File.ReadAllText(f), @"^\s*\[(Fact|Theory)\b", RegexOptions.Multiline).Count);
        Assert.Equal(declared, int.Parse(summary.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(int.Parse(summary.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) >= declared);
    }

    /// <summary>`ingot build --isa arm64` cross-compiles stories260K; under qemu it prints llama2.c's greedy texts byte for byte.</summary>
    [Fact]
    public void Build_Arm64_PrintsTheGoldenTextUnderQemu()
    {
        string gguf = TestPaths.Require(TestPaths.Stories260KGguf);
        string outDir = Path.Combine(Path.GetTempPath(), "ingot-arm64-test", "stories");
        var (exe, output) = PublishTests.Build(log, gguf, "-o", outDir, "--isa", "arm64");
        Assert.DoesNotContain("warning", output, StringComparison.OrdinalIgnoreCase);

        foreach (string name in new[] { "bos_only", "tom_and_the_dog" })
        {
            var (prompt, text) = TestPaths.GoldenCase(name);
            // bos_only's prompt is empty; run.c's text for it starts with "Once upon a time", which we give as the prompt
            var (rc, stdout, stderr) = Arm64(exe, "generate", "-p", prompt.Length == 0 ? "Once upon a time" : prompt, "-n", "200", "--temp", "0");
            Assert.True(rc == 0, stderr);
            Assert.Equal(text + "\n", stdout);
        }
        var (infoRc, info, infoErr) = Arm64(exe, "info");
        Assert.True(infoRc == 0, infoErr);
        log.WriteLine(info);
        Assert.Contains("isa build:        arm64", info);
        Assert.Contains("isa in use:       vector128", info);
        Assert.Contains("neon, dotprod", info);
    }
}
