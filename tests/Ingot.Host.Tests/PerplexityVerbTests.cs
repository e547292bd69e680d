using System.Globalization;
using System.Text.RegularExpressions;
using Ingot.Runtime.Evaluation;
using Xunit;

namespace Ingot.Host.Tests;

[CompiledModel("stories260K-q4_0")]
public partial class Stories260KQ4_0 { }

[CompiledModel("stories260K-q8_0")]
public partial class Stories260KQ8_0 { }

/// <summary>
/// The perplexity verb against llama-perplexity (llama.cpp c392e50 built from its sources; `llama-perplexity -m GGUF
/// -f TEXT -c CTX`, the figures recorded below) on two texts of TestData/eval, three weight types and two contexts:
/// PPL within 0.5 %; KL-divergence of Q4_0 and Q8_0 against F32 (the base saved by --kl-divergence-base) with a mean
/// within 2 % of llama-perplexity --kl-divergence's.
/// </summary>
public sealed class PerplexityVerbTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static string Text(string name) => Path.Combine(TestPaths.Repo, "tests", "Ingot.Host.Tests", "TestData", "eval", name + ".txt");

    private static string Gguf(string type) => Path.Combine(TestPaths.Shared, "models", "gguf", "stories260K-" + type + ".gguf");

    private static Runtime.ICompiledModel Model(string type) => type switch
    {
        "f32" => new Stories260K(),
        "q4_0" => new Stories260KQ4_0(),
        "q8_0" => new Stories260KQ8_0(),
        _ => throw new ArgumentException(type),
    };

    private static double Final(string output)
    {
        var m = Regex.Match(output, @"Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)\n");
        Assert.True(m.Success, output);
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData("f32", "story", 128, 4.2598)]
    [InlineData("f32", "dog", 128, 4.9198)]
    [InlineData("q4_0", "story", 128, 4.6491)]
    [InlineData("q4_0", "dog", 128, 5.6756)]
    [InlineData("q8_0", "story", 128, 4.2690)]
    [InlineData("f32", "story", 64, 4.8939)]
    [InlineData("q4_0", "dog", 64, 7.1128)]
    public void PerplexityIsLlamaPerplexitysWithinHalfAPercent(string type, string text, int ctx, double llamaCpp)
    {
        using var model = Model(type);
        var (code, o, e) = HostProgramTests.Run(model, "perplexity", "-f", Text(text), "--ctx", ctx.ToString(CultureInfo.InvariantCulture), "-t", "1", "--model", Gguf(type));
        Assert.True(code == 0, e);
        double ppl = Final(o);
        output.WriteLine($"{type} {text} ctx {ctx}: PPL {ppl:F4}, llama-perplexity {llamaCpp:F4}, ratio {ppl / llamaCpp:F5}");
        Assert.True(Math.Abs(ppl / llamaCpp - 1) <= 0.005, $"{type} {text} ctx {ctx}: PPL {ppl} vs llama-perplexity {llamaCpp}");
        Assert.StartsWith("[1]", o);
        Assert.Matches(@"^(\[[0-9]+\][0-9]+\.[0-9]{4},)+\n", o);
    }

    [Theory]
    [InlineData("q4_0", "story", 128, 0.094342)]
    [InlineData("q4_0", "dog", 64, 0.128726)]
    [InlineData("q8_0", "story", 128, 0.000702)]
    public void KlDivergenceAgainstF32IsLlamaPerplexitysWithinTwoPercent(string type, string text, int ctx, double llamaCppMeanKld)
    {
        string baseFile = Path.Combine(Path.GetTempPath(), $"ingot-kld-{Guid.NewGuid():N}.bin");
        try
        {
            using (var f32 = new Stories260K())
            {
                var (code, o, e) = HostProgramTests.Run(f32, "perplexity", "-f", Text(text), "--ctx", ctx.ToString(CultureInfo.InvariantCulture), "--kl-divergence-base", baseFile, "-t", "1", "--model", Gguf("f32"));
                Assert.True(code == 0, e);
                Final(o);
            }
            var data = KlDivergenceBase.Read(baseFile);
            Assert.Equal(ctx, data.Context);
            Assert.Equal(512, data.Vocab);

            using var model = Model(type);
            var (c2, o2, e2) = HostProgramTests.Run(model, "perplexity", "--kl-divergence", baseFile, "-t", "1", "--model", Gguf(type));
            Assert.True(c2 == 0, e2);
            Assert.Contains(KlDivergence.ChunkHeader, o2);
            var m = Regex.Match(o2, @"Mean    KLD: +([0-9.]+) ± +([0-9.]+)\n");
            Assert.True(m.Success, o2);
            double kld = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            output.WriteLine($"{type} vs f32, {text} ctx {ctx}: mean KLD {kld:F6}, llama-perplexity {llamaCppMeanKld:F6}, ratio {kld / llamaCppMeanKld:F4}");
            Assert.True(Math.Abs(kld / llamaCppMeanKld - 1) <= 0.02, $"{type} {text} ctx {ctx}: mean KLD {kld} vs llama-perplexity {llamaCppMeanKld}");
            foreach (string line in new[] { "Mean PPL(Q)  ", "Median  KLD:", "Maximum KLD:", "RMS Δp    :", "Same top p:" }) Assert.Contains(line, o2);

            // The base model against its own saved log-probabilities: what is left is the 16-bit quantization of the file.
            using var same = new Stories260K();
            var (c3, o3, e3) = HostProgramTests.Run(same, "perplexity", "--kl-divergence", baseFile, "-t", "1", "--model", Gguf("f32"));
            Assert.True(c3 == 0, e3);
            double self = double.Parse(Regex.Match(o3, @"Mean    KLD: +(-?[0-9.]+)").Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.True(Math.Abs(self) < 1e-5, $"self-KLD {self}");
        }
        finally { File.Delete(baseFile); }
    }

    [Fact]
    public void ShortTextsAndBadBaseFilesAreOneClearLine()
    {
        using var model = new Stories260K();
        string shortText = Path.Combine(Path.GetTempPath(), $"ingot-short-{Guid.NewGuid():N}.txt");
        string bad = Path.Combine(Path.GetTempPath(), $"ingot-bad-{Guid.NewGuid():N}.bin");
        try
        {
            File.WriteAllText(shortText, "Once upon a time there was a cat.");
            var (code, _, e) = HostProgramTests.Run(model, "perplexity", "-f", shortText, "--ctx", "128", "--model", Gguf("f32"));
            Assert.Equal(2, code);
            Assert.Contains("needs at least 256", e);
            File.WriteAllBytes(bad, "_logits_\x80\0\0\0\0\x02\0\0\x01\0\0\0"u8.ToArray());
            (code, _, e) = HostProgramTests.Run(model, "perplexity", "--kl-divergence", bad, "--model", Gguf("f32"));
            Assert.Equal(2, code);
            Assert.Contains(bad + ": tokens and rows at byte 20", e);
            Assert.DoesNotContain("   at ", e);
            File.WriteAllBytes(bad, "not a base file at all"u8.ToArray());
            (code, _, e) = HostProgramTests.Run(model, "perplexity", "--kl-divergence", bad, "--model", Gguf("f32"));
            Assert.Contains("magic at byte 0", e);
        }
        finally
        {
            File.Delete(shortText);
            File.Delete(bad);
        }
    }
}
