using System.Diagnostics;
using Ingot.Runtime.Quants;
using Xunit;

namespace Ingot.Quants.Tests;

public class AmxTests
{
    [Fact]
    public void Code_IsAmxS_AsGnuAsAssemblesIt()
    {
        // the machine code the runtime copies into its executable page is exactly Amx.s assembled (binutils: with gcc,
        // on every machine .ci/run prepares); the AMX GEMM itself is checked against the vec-dot in VecDotRowsTests
        string source = Path.Combine(Golden.RepoRoot, "src", "Ingot.Runtime", "Quants", "Amx.s");
        string dir = Directory.CreateTempSubdirectory("ingot-amx-").FullName;
        try
        {
            string obj = Path.Combine(dir, "amx.o"), bin = Path.Combine(dir, "amx.bin");
            Run("as", "--64", source, "-o", obj);
            Run("objcopy", "-O", "binary", "-j", ".text", obj, bin);
            Assert.Equal(File.ReadAllBytes(bin), Amx.Code.ToArray());
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
