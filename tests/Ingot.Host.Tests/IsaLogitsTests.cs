using Xunit;
using Xunit.Abstractions;

namespace Ingot.Host.Tests;

/// <summary>
/// The x86-64-v3 and x86-64-v4 builds of one model promise the same logits: every kernel path gives the vec-dot's bits
/// (AVX2, AVX-512, and on a CPU with AMX the v4 build's Q4_0 GEMM on the tile unit, which needs 512-bit vectors). A
/// 40-token prefill of stories260K Q4_0 (AMX from 16 tokens: two tiles of 16 and a short one) through both real
/// executables, compared byte for byte. Two NativeAOT publishes.
/// </summary>
[Trait("Category", "Publish")]
public class IsaLogitsTests(ITestOutputHelper log)
{
    [Fact]
    public void V3AndV4Builds_WriteTheSameLogits()
    {
        Assert.True(Ingot.Host.IsaDispatch.Supports("x86-64-v4", out string why),
            "this test compares the x86-64-v4 build with the v3 one and needs a CPU with AVX-512: " + why);
        string gguf = TestPaths.Require(Path.Combine(TestPaths.Shared, "models", "gguf", "stories260K-q4_0.gguf"));
        string dir = Path.Combine(Path.GetTempPath(), "ingot-isa-logits-test");
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        string tokens = string.Join(' ', Enumerable.Range(0, 40).Select(i => 1 + (i * 37) % 500));
        var files = new List<byte[]>();
        foreach (string isa in new[] { "x86-64-v3", "x86-64-v4" })
        {
            string outDir = Path.Combine(dir, isa);
            var (exe, _) = PublishTests.Build(log, gguf, "-o", outDir, "--isa", isa);
            string logits = Path.Combine(outDir, "logits.bin");
            var r = TestProcess.Run(exe, "", null, "logits", "--tokens", tokens, "-o", logits, "-t", "2");
            Assert.True(r.Code == 0, $"{isa}: {r.Err}");
            files.Add(File.ReadAllBytes(logits));
        }
        Assert.True(files[0].Length > 8 + 40 * 4, "the logits file holds every row");
        Assert.True(files[0].AsSpan().SequenceEqual(files[1]), "the v3 and v4 builds wrote different logits");
    }
}
