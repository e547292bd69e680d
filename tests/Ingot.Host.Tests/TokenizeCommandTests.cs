using System.Text;
using System.Text.Json;
using Ingot.Cli.Commands;
using Ingot.Formats;
using Ingot.Host.CommandLine;
using Ingot.TestSupport;
using Xunit;

namespace Ingot.Host.Tests;

/// <summary>`ingot tokenize` in process: stdin/stdout are TextReader/TextWriter, compared with llama.cpp's suites.</summary>
public class TokenizeCommandTests
{
    private static string Vocab(string name) => TestPaths.Require(Path.Combine(TestPaths.Shared, "vocab", $"ggml-vocab-{name}.gguf"));
    private static string Llama2c(string file) => TestPaths.Require(Path.Combine(TestPaths.Shared, "models", "llama2c", file));

    internal static (int Code, string Out) Run(string stdin, params string[] args)
    {
        var o = new StringWriter { NewLine = "\n" };
        int code = new TokenizeCommand().Run(args, new StringReader(stdin), o);
        return (code, o.ToString());
    }

    /// <summary>The .inp cases: each ends with "\n__ggml_vocab_test__\n".</summary>
    private static List<string> SuiteInputs(string gguf)
    {
        string all = File.ReadAllText(TestPaths.Require(gguf + ".inp"));
        var parts = all.Split("\n__ggml_vocab_test__\n").ToList();
        Assert.Equal("", parts[^1]);
        parts.RemoveAt(parts.Count - 1);
        return parts;
    }

    private static string JsonLines(IEnumerable<string> texts)
    {
        var sb = new StringBuilder();
        foreach (string t in texts) sb.Append(JsonSerializer.Serialize(t)).Append('\n');
        return sb.ToString();
    }

    /// <summary>Every suite in ../shared/vocab that has a GGUF with its .inp/.out.</summary>
    [Theory]
    [InlineData("llama-spm")]
    [InlineData("phi-3")]
    [InlineData("bert-bge")]
    [InlineData("gpt-2")]
    [InlineData("deepseek-coder")]
    [InlineData("deepseek-llm")]
    [InlineData("falcon")]
    [InlineData("mpt")]
    [InlineData("refact")]
    [InlineData("starcoder")]
    public void Jsonl_ReproducesTheLlamaCppSuite(string suite) => AssertSuite(suite, Vocab(suite));

    [Fact]
    public void Jsonl_AllSuitesWithAGguf_AreCovered()
    {
        // A suite added to ../shared/vocab later must be added to the theory above.
        var covered = new[] { "llama-spm", "phi-3", "bert-bge", "gpt-2", "deepseek-coder", "deepseek-llm", "falcon", "mpt", "refact", "starcoder" };
        var present = Directory.GetFiles(Path.Combine(TestPaths.Shared, "vocab"), "ggml-vocab-*.gguf")
            .Where(g => File.Exists(g + ".inp") && File.Exists(g + ".out"))
            .Select(g => Path.GetFileName(g)["ggml-vocab-".Length..^".gguf".Length]).Order(StringComparer.Ordinal);
        Assert.Equal(covered.Order(StringComparer.Ordinal), present);
    }

    [Fact]
    public void HuggingFaceTokenizerJson_FileOrFolder_ReproducesTheGpt2Suite()
    {
        // gpt-2's vocabulary written as a tokenizer.json (vocab object, merges, added_tokens, ByteLevel pre-tokenizer)
        string gguf = Vocab("gpt-2");
        string folder = Path.Combine(Path.GetTempPath(), $"ingot-hf-cli-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            string json = Path.Combine(folder, "tokenizer.json");
            using (var f = GgufFile.Open(gguf)) TokenizerJsonWriter.WriteByteLevel(json, f);
            // a tokenizer.model beside it is ignored when tokenizer.json is there
            File.Copy(Llama2c("tok512.model"), Path.Combine(folder, "tokenizer.model"));
            AssertSuite("gpt-2", json);
            AssertSuite("gpt-2", folder);
            Assert.Equal((0, "15496 995\n"), Run("", folder, "Hello world"));
            File.Delete(json);
            Assert.Equal(Run("", Llama2c("tok512.model"), "Hello world"), Run("", folder, "Hello world")); // falls back to tokenizer.model
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    /// <summary>`ingot tokenize SOURCE --jsonl` over a suite's .inp (JSON-encoded, one per line) must print its .out exactly.</summary>
    private static void AssertSuite(string suite, string source)
    {
        string gguf = Vocab(suite);
        var inputs = SuiteInputs(gguf);
        var expected = File.ReadAllText(gguf + ".out").Split('\n')[..^1].Select(l => l.Trim()).ToList();
        Assert.Equal(inputs.Count, expected.Count);

        var (code, output) = Run(JsonLines(inputs), source, "--jsonl");
        Assert.Equal(0, code);
        Assert.EndsWith("\n", output);
        var lines = output.Split('\n')[..^1];
        Assert.Equal(inputs.Count, lines.Length);
        for (int i = 0; i < lines.Length; i++)
            Assert.True(expected[i] == lines[i], $"{suite} case {i} {JsonSerializer.Serialize(inputs[i])}: expected '{expected[i]}', got '{lines[i]}'");
    }

    [Fact]
    public void Jsonl_ThousandsOfLines_OneLineEach()
    {
        var texts = Enumerable.Range(0, 5000).Select(i => i % 7 == 0 ? "" : $"line {i}: Hello, world!").ToList();
        var (code, output) = Run(JsonLines(texts), Vocab("bert-bge"), "--jsonl", "--add-special");
        Assert.Equal(0, code);
        var lines = output.Split('\n')[..^1];
        Assert.Equal(5000, lines.Length);
        Assert.Equal("101 102", lines[0]); // empty text: just [CLS] [SEP]
        using var f = GgufFile.Open(Vocab("bert-bge"));
        var tokenizer = Runtime.Tokenization.Tokenizer.FromGguf(f);
        for (int i = 0; i < texts.Count; i++)
            Assert.Equal(string.Join(' ', tokenizer.Tokenize(texts[i], addSpecialTokens: true)), lines[i]);
        Assert.EndsWith("7592 1010 2088 999 102", lines[1]); // "... hello, world!" [SEP]
    }

    [Fact]
    public void TextMode_SpecialTokenOptions()
    {
        string bert = Vocab("bert-bge");
        Assert.Equal((0, "7592 2088\n"), Run("", bert, "Hello world"));
        Assert.Equal((0, "101 7592 2088 102\n"), Run("", bert, "Hello world", "--add-special"));
        Assert.Equal((0, "101\n"), Run("", bert, "[CLS]"));
        Assert.NotEqual("101\n", Run("", bert, "[CLS]", "--no-parse-special").Out);
        Assert.Equal((0, "\n"), Run("", bert, ""));
        Assert.Equal((0, "7592 2088\n"), Run("Hello world", bert, "-")); // '-' reads stdin
    }

    [Fact]
    public void Tok512_BinModelAndGguf_GiveTheSameIds()
    {
        string[] texts = ["Once upon a time, there was a little girl named Lily.", "héllo 🙂 wörld", "<s>x</s>", "a\nb\tc"];
        string stdin = JsonLines(texts);
        string model = Run(stdin, Llama2c("tok512.model"), "--jsonl").Out;
        Assert.Equal(texts.Length, model.Split('\n').Length - 1);
        Assert.Equal(model, Run(stdin, Llama2c("tok512.bin"), "--jsonl").Out);                         // vocab size inferred
        Assert.Equal(model, Run(stdin, Llama2c("tok512.bin"), "--jsonl", "--vocab-size", "512").Out);
        Assert.Equal(model, Run(stdin, TestPaths.Stories260KGguf, "--jsonl").Out);
        Assert.Equal("1 403 407 261 378\n", Run("", Llama2c("tok512.bin"), "Once upon a time", "--add-special").Out);
        Assert.Equal(512, TokenizeCommand.CountLlama2cTokens(Llama2c("tok512.bin")));
        Assert.Equal(32000, TokenizeCommand.CountLlama2cTokens(Llama2c("tokenizer.bin")));
    }

    [Fact]
    public void BadInput_ThrowsWhatTheCliMapsToOneLine()
    {
        string bert = Vocab("bert-bge");
        var e = Assert.Throws<InvalidDataException>(() => Run("\"ok\"\nnot json\n", bert, "--jsonl"));
        Assert.StartsWith("stdin line 2:", e.Message);
        Assert.Throws<InvalidDataException>(() => Run("42\n", bert, "--jsonl"));
        Assert.Throws<InvalidDataException>(() => Run("\n", bert, "--jsonl"));
        Assert.Throws<FileNotFoundException>(() => Run("", "/nonexistent/tokenizer.model", "x"));
        string folder = Path.Combine(Path.GetTempPath(), $"ingot-hf-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            string json = Path.Combine(folder, "tokenizer.json");
            File.WriteAllText(json, "{}");
            foreach (string source in new[] { json, folder })
            {
                // a tokenizer.json without a model: one line naming the file and the key
                var hf = Assert.Throws<InvalidModelFileException>(() => Run("", source, "x"));
                Assert.Contains(json, hf.Message);
                Assert.Contains("model", hf.Message);
            }
        }
        finally { Directory.Delete(folder, recursive: true); }
        // A weights checkpoint is not a tokenizer.bin: one clear error, not a crash.
        var bin = Assert.Throws<InvalidModelFileException>(() => Run("", Llama2c("stories260K.bin"), "x"));
        Assert.DoesNotContain('\n', bin.Message);
        Assert.Throws<InvalidModelFileException>(() => Run("", Llama2c("tok512.bin"), "x", "--vocab-size", "500"));
        Assert.Throws<UsageException>(() => Run("", bert));
        Assert.Throws<UsageException>(() => Run("", bert, "x", "--jsonl"));
        Assert.Throws<UsageException>(() => Run("", bert, "x", "--frobnicate"));
    }
}

/// <summary>Through the CLI's own entry (Console redirected, so these run alone): exit codes and one-line errors.</summary>
[Collection(nameof(ConsoleRedirectingTests))]
public class TokenizeCommandConsoleTests
{
    private static (int Code, string Out, string Err) RunCli(string stdin, params string[] args)
    {
        var (oldIn, oldOut, oldErr) = (Console.In, Console.Out, Console.Error);
        var o = new StringWriter { NewLine = "\n" };
        var e = new StringWriter { NewLine = "\n" };
        Console.SetIn(new StringReader(stdin));
        Console.SetOut(o);
        Console.SetError(e);
        try { return (Cli.Program.Run(new TokenizeCommand(), args), o.ToString(), e.ToString()); }
        finally { Console.SetIn(oldIn); Console.SetOut(oldOut); Console.SetError(oldErr); }
    }

    private static string Bert => TestPaths.Require(Path.Combine(TestPaths.Shared, "vocab", "ggml-vocab-bert-bge.gguf"));

    [Fact]
    public void ConsoleInOut_Jsonl()
    {
        var (code, o, e) = RunCli("\"Hello world\"\n\"\"\n\"[SEP]\"\n", Bert, "--jsonl");
        Assert.True(code == 0, e);
        Assert.Equal("7592 2088\n\n102\n", o);
    }

    [Theory]
    [InlineData(1, "\"a\"\n{\"x\":1}\n", "BERT", "--jsonl")]  // a JSON object, not a string
    [InlineData(1, "", "/nonexistent.gguf", "x")]
    [InlineData(2, "", "--jsonl")]                              // no FILE: usage error
    public void Errors_OneLine_NonZeroExit(int expectedCode, string stdin, params string[] args)
    {
        args = [.. args.Select(a => a == "BERT" ? Bert : a)];
        var (code, _, e) = RunCli(stdin, args);
        Assert.Equal(expectedCode, code);
        Assert.StartsWith("ingot tokenize: ", e);
        Assert.DoesNotContain("   at ", e);
        if (code == 1) Assert.Single(e.TrimEnd('\n').Split('\n'));
    }
}

[CollectionDefinition(nameof(ConsoleRedirectingTests), DisableParallelization = true)]
public sealed class ConsoleRedirectingTests;
