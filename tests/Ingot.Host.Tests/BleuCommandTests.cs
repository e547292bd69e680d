using Ingot.Cli.Commands;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Evaluation;
using Xunit;

namespace Ingot.Host.Tests;

/// <summary>
/// `ingot bleu` against sacreBLEU's own documented examples (its README's Python API section and test/test_bleu.py):
/// the text line, signature included, to the digit, and the test suite's scores to 1e-6.
/// </summary>
public sealed class BleuCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingot-bleu-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File(string name, params string[] lines)
    {
        string path = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(path, string.Join("\n", lines) + "\n");
        return path;
    }

    private static readonly string[] Hyps = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."];
    private static readonly string[] Ref1 = ["The dog bit the man.", "It was not unexpected.", "The man bit him first."];
    private static readonly string[] Ref2 = ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."];

    private (int Code, string Out) Run(params string[] args)
    {
        var o = new StringWriter();
        int code = new BleuCommand().Run(args, new StringReader(""), o);
        return (code, o.ToString());
    }

    [Fact]
    public void TheReadmeExampleGivesSacreBleusLineAndSignature()
    {
        var (code, o) = Run("--hyp", File("sys", Hyps), "--ref", File("ref1", Ref1), "--ref", File("ref2", Ref2), "-w", "2");
        Assert.Equal(0, code);
        // README, "Using SacreBLEU from Python": BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18),
        // signature nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.0.0; the command line prints them as one line.
        Assert.Equal("BLEU|nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.0.0 = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)\n", o);
        (_, o) = Run("--hyp", File("sys", Hyps), "--ref", File("ref1", Ref1), "--ref", File("ref2", Ref2));
        Assert.StartsWith("BLEU|nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.0.0 = 48.5 82.4/", o); // the command line's default width
    }

    [Fact]
    public void AMissingReferenceMakesTheCountVariable()
    {
        // README, "Variable Number of References": the first segment's first reference removed.
        var (code, o) = Run("--hyp", File("sys", Hyps), "--ref", File("ref1", ["", .. Ref1[1..]]), "--ref", File("ref2", Ref2), "-w", "2");
        Assert.Equal(0, code);
        Assert.Equal("BLEU|nrefs:var|case:mixed|eff:no|tok:13a|smooth:exp|version:2.0.0 = 29.44 82.4/42.9/27.3/12.5 (BP = 0.889 ratio = 0.895 hyp_len = 17 ref_len = 19)\n", o);
    }

    /// <summary>test/test_bleu.py's corpus cases (tokenize and smoothing variants) and raw cases (floor smoothing 0.01, no tokenization).</summary>
    [Theory]
    [InlineData(new string[0], 48.530827)]
    [InlineData(new[] { "--tokenize", "none" }, 49.1919566)]
    [InlineData(new[] { "--tokenize", "13a" }, 48.530827)]
    [InlineData(new[] { "--smooth-method", "none" }, 48.530827)]
    public void SacreBleusTestSuiteScores(string[] options, double expected)
    {
        var bleu = new Bleu
        {
            Tokenizer = options.Length > 1 && options[0] == "--tokenize" ? options[1] : "13a",
            Smooth = options.Length > 1 && options[0] == "--smooth-method" ? Bleu.Smoothing.None : Bleu.Smoothing.Exp,
        };
        Assert.Equal(expected, bleu.CorpusScore(Hyps, [Ref1, Ref2]).Value, 1e-6);
        Assert.Equal(0.0, bleu.CorpusScore(["", "", ""], [Ref1, Ref2]).Value); // empty hypotheses are scored, not removed
        var (code, o) = Run([.. options, "--hyp", File("sys", Hyps), "--ref", File("ref1", Ref1), "--ref", File("ref2", Ref2), "-w", "6"]);
        Assert.Equal(0, code);
        Assert.Contains(" = " + expected.ToString("F6", System.Globalization.CultureInfo.InvariantCulture) + " ", o);
    }

    [Theory]
    [InlineData("this is a test", "this is a test", 100.0)]
    [InlineData("this is a fest", "this is a test", 22.3606797749979)]
    public void RawCorpusBleuCases(string hyp, string reference, double expected)
    {
        var bleu = new Bleu { Tokenizer = "none", Smooth = Bleu.Smoothing.Floor, SmoothValue = 0.01 };
        var score = bleu.CorpusScore([hyp], [[reference]]);
        Assert.Equal(expected, score.Value, 1e-6);
        Assert.Equal("nrefs:1|case:mixed|eff:no|tok:none|smooth:floor[0.01]|version:2.0.0", score.Signature);
    }

    [Theory]
    [InlineData("Hello, world!", "Hello , world !")]
    [InlineData("It costs $1,000.50 - or 3-4 items.", "It costs $ 1,000.50 - or 3 - 4 items .")]
    [InlineData("A &quot;quoted&quot; &amp; &lt;tag&gt;", "A \" quoted \" & < tag >")]
    [InlineData("end.", "end .")]
    [InlineData("(a) [b] {c}", "( a ) [ b ] { c }")]
    public void Tokenizer13aSplitsAsMteval(string input, string expected) => Assert.Equal(expected, Bleu.Tokenize13a(input));

    [Fact]
    public void LowercaseAndJson()
    {
        var (_, o) = Run("--hyp", File("sys", "THE DOG BIT THE MAN."), "--ref", File("ref", "the dog bit the man."), "-lc", "-f", "json", "-w", "2");
        Assert.Contains("\"signature\": \"nrefs:1|case:lc|eff:no|tok:13a|smooth:exp|version:2.0.0\"", o);
        Assert.Contains("\"score\": 100", o);
        Assert.Contains("\"verbose_score\": \"100.0/100.0/100.0/100.0 (BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)\"", o);
    }

    [Fact]
    public void MismatchedFilesAreOneClearLine()
    {
        string refs = File("ref", "one line");
        var e = Assert.Throws<UsageException>(() => Run("--hyp", File("sys", "a", "b"), "--ref", refs));
        Assert.Contains(refs + " has 1 lines", e.Message);
        Assert.Throws<UsageException>(() => Run("--hyp", File("sys", "a")));
        Assert.Throws<UsageException>(() => Run("--hyp", File("sys", "a"), "--ref", refs, "--tokenize", "intl"));
    }
}
