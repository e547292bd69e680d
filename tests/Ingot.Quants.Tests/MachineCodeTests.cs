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
        // MachineCode.s and its continuations MachineCode.Q4_0x16.s, MachineCode.Q8_0.s, MachineCode.KQuants.s, MachineCode.Q6_Kx16.s, MachineCode.F16Widen.s, MachineCode.Q4_Kx16.s, MachineCode.Q8_0x16.s and MachineCode.Q5_Kx16.s, in one run of as (they use the first's macros)
        string[] sources = [.. new[] { "", ".Q4_0x16", ".Q8_0", ".KQuants", ".Q6_Kx16", ".F16Widen", ".Q4_Kx16", ".Q8_0x16", ".Q5_Kx16" }
            .Select(part => Path.Combine(Golden.RepoRoot, "src", "Ingot.Runtime", "Kernels", $"MachineCode{part}.s"))];
        string dir = Directory.CreateTempSubdirectory("ingot-machine-code-").FullName;
        try
        {
            string obj = Path.Combine(dir, "code.o"), bin = Path.Combine(dir, "code.bin");
            Run("as", ["--64", .. sources, "-o", obj]);
            Run("objcopy", "-O", "binary", "-j", ".text", obj, bin);
            Assert.Equal(File.ReadAllBytes(bin), (byte[])[.. MachineCode.CodeMain, .. MachineCode.CodeQ4_0x16, .. MachineCode.CodeQ8_0, .. MachineCode.CodeQ6_K, .. MachineCode.CodeQ4_KQ5_K, .. MachineCode.CodeQ6_Kx16, .. MachineCode.CodeF16Widen, .. MachineCode.CodeQ4_Kx16, .. MachineCode.CodeQ8_0x16, .. MachineCode.CodeQ5_Kx16]);
            // and every entry point the runtime calls is where the assembler put its label
            var symbols = Run("nm", obj).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' ')).ToDictionary(f => f[2], f => Convert.ToInt32(f[0], 16));
            Assert.Equal(MachineCode.PermOffset, symbols["perm"]);
            Assert.Equal(MachineCode.GemmOffset, symbols["gemm"]);
            Assert.Equal(MachineCode.F16Dots512Offset, symbols["f16dots512"]);
            Assert.Equal(MachineCode.F16Dots256Offset, symbols["f16dots256"]);
            Assert.Equal(MachineCode.F16Tile512Offset, symbols["f16tile512"]);
            Assert.Equal(MachineCode.Q4_0x16Dot512Offset, symbols["q4_0x16dot512"]);
            Assert.Equal(MachineCode.CodeMain.Length, symbols["q4_0x16dot512"]); // where the runtime copies CodeQ4_0x16
            Assert.Equal(MachineCode.Q4_0x16x4Dot512Offset, symbols["q4_0x16x4dot512"]);
            Assert.Equal(MachineCode.Q4_0x16x8Dot512Offset, symbols["q4_0x16x8dot512"]);
            Assert.Equal(MachineCode.Q8_0Dots512Offset, symbols["q8_0dots512"]);
            Assert.Equal(MachineCode.CodeMain.Length + MachineCode.CodeQ4_0x16.Length, symbols["q8_0dots512"]); // where the runtime copies CodeQ8_0
            Assert.Equal(MachineCode.Q6_KDots512Offset, symbols["q6_kdots512"]);
            Assert.Equal(MachineCode.CodeMain.Length + MachineCode.CodeQ4_0x16.Length + MachineCode.CodeQ8_0.Length, symbols["q6_kdots512"]); // where the runtime copies CodeQ6_K
            Assert.Equal(MachineCode.Q4_KDots512Offset, symbols["q4_kdots512"]);
            Assert.Equal(MachineCode.Q6_KDots512Offset + MachineCode.CodeQ6_K.Length, symbols["q4_kdots512"]); // where the runtime copies CodeQ4_KQ5_K
            Assert.Equal(MachineCode.Q5_KDots512Offset, symbols["q5_kdots512"]);
            Assert.Equal(MachineCode.Q6_Kx16Dots512Offset, symbols["q6_kx16dots512"]);
            Assert.Equal(MachineCode.CodeMain.Length + MachineCode.CodeQ4_0x16.Length + MachineCode.CodeQ8_0.Length + MachineCode.CodeQ6_K.Length + MachineCode.CodeQ4_KQ5_K.Length, symbols["q6_kx16dots512"]); // where the runtime copies CodeQ6_Kx16
            Assert.Equal(MachineCode.F16Widen512Offset, symbols["f16widen512"]);
            Assert.Equal(MachineCode.Q6_Kx16Dots512Offset + MachineCode.CodeQ6_Kx16.Length, symbols["f16widen512"]); // where the runtime copies CodeF16Widen
            Assert.Equal(MachineCode.F32Narrow512Offset, symbols["f32narrow512"]);
            Assert.Equal(MachineCode.F32RoundF16_512Offset, symbols["f32roundf16_512"]);
            Assert.Equal(MachineCode.F32Narrow512NtOffset, symbols["f32narrow512nt"]);
            Assert.Equal(MachineCode.Q4_Kx16Dots512Offset, symbols["q4_kx16dots512"]);
            Assert.Equal(MachineCode.F16Widen512Offset + MachineCode.CodeF16Widen.Length, symbols["q4_kx16dots512"]); // where the runtime copies CodeQ4_Kx16
            Assert.Equal(MachineCode.Q8_0x16Dots512Offset, symbols["q8_0x16dots512"]);
            Assert.Equal(MachineCode.Q4_Kx16Dots512Offset + MachineCode.CodeQ4_Kx16.Length, symbols["q8_0x16dots512"]); // where the runtime copies CodeQ8_0x16
            Assert.Equal(MachineCode.Q5_Kx16Dots512Offset, symbols["q5_kx16dots512"]);
            Assert.Equal(MachineCode.Q8_0x16Dots512Offset + MachineCode.CodeQ8_0x16.Length, symbols["q5_kx16dots512"]); // where the runtime copies CodeQ5_Kx16
            Assert.Equal(20, symbols.Count);
            // the prefetches the runtime may overwrite with NOPs are q4_0x16dot512's, 7 bytes each, and nothing else
            var lines = Run("objdump", "-d", "-M", "intel", obj).Split('\n');
            int from = Array.FindIndex(lines, l => l.EndsWith("<q4_0x16dot512>:")), to = Array.FindIndex(lines, l => l.EndsWith("<q4_0x16x4dot512>:"));
            var instructions = lines[(from + 1)..to].Where(l => l.Contains(":\t"))
                .Select(l => (At: Convert.ToInt32(l[..l.IndexOf(':')].Trim(), 16), Text: l)).ToArray();
            int[] prefetches = [.. instructions.Where(i => i.Text.Contains("prefetch")).Select(i => i.At)];
            int[] expected = [.. Enumerable.Range(0, MachineCode.Q4_0x16Dot512Prefetches)
                .Select(i => MachineCode.Q4_0x16Dot512PrefetchOffset + i * MachineCode.PrefetchBytes)];
            Assert.Equal(expected, prefetches); // arrays, not sequences: xunit's sequence comparison needs reflection NativeAOT lacks (NeonCheck)
            Assert.True(instructions.Any(i => i.At == prefetches[^1] + MachineCode.PrefetchBytes), "the last prefetch is 7 bytes long");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public unsafe void Page_HoldsTheQ4_0x16DecodePrefetches_OrNops_AsThisMachineWants()
    {
        // the page exists on Linux x64 (where CI runs); elsewhere nothing is copied and the C# forms run
        Assert.Equal(OperatingSystem.IsLinux() && System.Runtime.Intrinsics.X86.X86Base.X64.IsSupported, MachineCode.Page != null);
        if (MachineCode.Page == null) return;
        // what the page holds at q4_0x16dot512's prefetches: the assembled bytes where they are wanted, 7-byte NOPs where not
        var code = (byte[])[.. MachineCode.CodeMain, .. MachineCode.CodeQ4_0x16];
        bool wanted = MachineCode.Q4_0x16DecodePrefetches();
        for (int i = 0; i < MachineCode.Q4_0x16Dot512Prefetches; i++)
        {
            int at = MachineCode.Q4_0x16Dot512PrefetchOffset + i * MachineCode.PrefetchBytes;
            byte[] expected = wanted ? code[at..(at + MachineCode.PrefetchBytes)] : [0x0f, 0x1f, 0x80, 0, 0, 0, 0];
            Assert.Equal(0x0f, code[at]);
            Assert.Equal(0x18, code[at + 1]); // prefetch (0F 18 /1, /3)
            Assert.Equal(expected, new ReadOnlySpan<byte>(MachineCode.Page + at, MachineCode.PrefetchBytes).ToArray());
        }
    }

    /// <summary>Runs tool and returns its standard output; asserts exit code 0.</summary>
    private static string Run(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{tool} did not start");
        var output = p.StandardOutput.ReadToEndAsync();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{tool} {string.Join(' ', args)}: exit {p.ExitCode}: {err}");
        return output.Result;
    }
}
