using System.Diagnostics;
using Ingot.Runtime.Kernels;
using Xunit;

namespace Ingot.Quants.Tests;

public class MachineCodeTests
{
    [Fact]
    public void Code_IsMachineCodeS_AsGnuAsAssemblesIt()
    {
        // the machine code the runtime copies into its executable page is exactly MachineCode.s assembled (binutils: with gcc,
        // on every machine .ci/run prepares); the AMX GEMM itself is checked against the vec-dot in VecDotRowsTests, the F16 loops against F16F16 in Kernels.Tests
        string source = Path.Combine(Golden.RepoRoot, "src", "Ingot.Runtime", "Kernels", "MachineCode.s");
        string dir = Directory.CreateTempSubdirectory("ingot-machine-code-").FullName;
        try
        {
            string obj = Path.Combine(dir, "code.o"), bin = Path.Combine(dir, "code.bin");
            Run("as", "--64", source, "-o", obj);
            Run("objcopy", "-O", "binary", "-j", ".text", obj, bin);
            Assert.Equal(File.ReadAllBytes(bin), MachineCode.Code.ToArray());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static void Run(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{tool} did not start");
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{tool} {string.Join(' ', args)}: exit {p.ExitCode}: {err}");
    }
}
