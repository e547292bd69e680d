using System.Buffers.Binary;
using System.Text.Json;
using Ingot.Runtime;
using Xunit;

namespace Ingot.Host.Tests;

/// <summary>stories260K compiled into this test assembly by the generator (see the csproj).</summary>
[CompiledModel("stories260K")]
public partial class Stories260K { }

/// <summary>The host verbs on the real model, in-process: llama2.c's greedy texts byte for byte, and its logits.</summary>
public class RealModelTests
{
    private static string Gguf => TestPaths.Require(TestPaths.Stories260KGguf);

    private static JsonElement Case(string name)
    {
        var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Require(TestPaths.GoldenJson)));
        return doc.RootElement.GetProperty("cases").GetProperty(name).Clone();
    }

    [Theory]
    [InlineData("bos_only", "Once upon a time")] // the bos_only story starts with exactly these tokens
    [InlineData("bos_only", "")]
    [InlineData("tom_and_the_dog", null)]
    public void Generate_Greedy_PrintsRunCsTextExactly(string caseName, string? prompt)
    {
        var c = Case(caseName);
        prompt ??= c.GetProperty("prompt").GetString()!;
        using var model = new Stories260K();
        var (code, o, e) = HostProgramTests.Run(model, "generate", "-p", prompt, "-n", "200", "--temp", "0", "--model", Gguf);
        Assert.True(code == 0, e);
        Assert.Equal(c.GetProperty("decoded").GetString() + "\n", o);
        Assert.Contains("stop: length", e);
    }

    /// <summary>The app API: Load(path) owns the file; GenerateAsync streams the continuation only.</summary>
    [Fact]
    public async Task LoadAndGenerateAsync_StreamRunCsTextExactly()
    {
        string golden = Case("bos_only").GetProperty("decoded").GetString()!;
        using var model = Stories260K.Load(Gguf, new InferenceOptions { Threads = 2 });
        Assert.Equal(Stories260K.DefaultContextSize, model.ContextSize);
        var text = new System.Text.StringBuilder("Once upon a time");
        int pieces = 0;
        // run.c's 200 steps are positions: BOS, the prompt's 4 tokens, then 196 new ones.
        await foreach (string piece in model.GenerateAsync("Once upon a time", new GenerationOptions { MaxNewTokens = 196, Temperature = 0 }))
        {
            text.Append(piece);
            pieces++;
        }
        Assert.Equal(golden, text.ToString());
        Assert.True(pieces > 1);
        Assert.Equal(5, model.Generator.LastResult!.PromptTokens);

        // A stop sequence (here spanning tokens: "red ball") ends the text before it; RepeatPenalty is a flat option too.
        string continuation = golden["Once upon a time".Length..];
        var stopped = new System.Text.StringBuilder();
        await foreach (string piece in model.GenerateAsync("Once upon a time", new GenerationOptions { MaxNewTokens = 196, Temperature = 0, RepeatPenalty = 1, StopSequences = ["", "red ball"] }))
            stopped.Append(piece);
        Assert.Equal(continuation[..continuation.IndexOf("red ball", StringComparison.Ordinal)], stopped.ToString());
        Assert.Equal(Ingot.Runtime.Generation.StopReason.StopSequence, model.Generator.LastResult!.StopReason);

        // Cancelled before the first piece: OperationCanceledException, as async streams do.
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in model.GenerateAsync("Once", null, cts.Token)) { }
        });
    }

    [Fact]
    public void Load_RefusesAMissingFileAndAnotherModelsFileWithoutLeakingIt()
    {
        Assert.Throws<FileNotFoundException>(() => Stories260K.Load(Path.Combine(Path.GetTempPath(), "no-such-model.gguf")));
        // a private copy: other test classes read the golden file concurrently, and the exclusive open below would race them
        string other = Path.Combine(Path.GetTempPath(), $"ingot-other-model-{Environment.ProcessId}.gguf");
        File.Copy(TestPaths.Require(Path.Combine(TestPaths.Shared, "golden", "models", "bert.f32.gguf")), other, overwrite: true);
        try
        {
            var e = Assert.Throws<WeightMismatchException>(() => Stories260K.Load(other));
            Assert.Contains("general.architecture", e.Message);
            // The file was closed: it can be replaced (on Linux, opened again for writing) right away.
            using (File.Open(other, FileMode.Open, FileAccess.Read, FileShare.None)) { }
        }
        finally { File.Delete(other); }
    }

    [Fact]
    public void Tokenize_AddsBos()
    {
        using var model = new Stories260K();
        var (code, o, e) = HostProgramTests.Run(model, "tokenize", "Once upon a time", "--model", Gguf);
        Assert.True(code == 0, e);
        Assert.Equal("1 403 407 261 378\n", o);
    }

    [Fact]
    public void Logits_MatchLlama2c()
    {
        var c = Case("bos_only");
        var ids = c.GetProperty("all_token_ids_including_prompt").EnumerateArray().Take(16).Select(x => x.GetInt32()).ToArray();
        string file = Path.GetTempFileName();
        try
        {
            using var model = new Stories260K();
            var (code, _, e) = HostProgramTests.Run(model, "logits", "--tokens", string.Join(' ', ids), "-o", file, "--model", Gguf, "--kv-type", "f32"); // run.c keeps F32 keys and values
            Assert.True(code == 0, e);
            byte[] got = File.ReadAllBytes(file);
            byte[] want = File.ReadAllBytes(TestPaths.Require(Path.Combine(TestPaths.Shared, "models", "llama2c", "testvectors", "stories260K_bos_only_logits_f32_16x512.bin")));
            Assert.Equal(16, BinaryPrimitives.ReadInt32LittleEndian(got));
            Assert.Equal(512, BinaryPrimitives.ReadInt32LittleEndian(got.AsSpan(4)));
            Assert.Equal(want.Length + 8, got.Length);
            double maxDiff = 0;
            for (int i = 0; i < 16 * 512; i++)
                maxDiff = Math.Max(maxDiff, Math.Abs(BinaryPrimitives.ReadSingleLittleEndian(got.AsSpan(8 + 4 * i)) - BinaryPrimitives.ReadSingleLittleEndian(want.AsSpan(4 * i))));
            Assert.True(maxDiff < 1e-4, $"max |diff| {maxDiff}");
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void Bench_And_Info_OnTheRealModel()
    {
        using var model = new Stories260K();
        var (code, o, e) = HostProgramTests.Run(model, "bench", "-p", "32", "-n", "16", "-r", "2", "-t", "1", "--model", Gguf);
        Assert.True(code == 0, e);
        Assert.Matches(@"\| stories260K \| +[0-9.]+ MiB \| +[0-9.]+ K \| \w+ \| +1 \| +pp32 \|", o);
        Assert.Contains("tg16", o);
        (code, o, e) = HostProgramTests.Run(model, "info", "--model", Gguf);
        Assert.True(code == 0, e);
        Assert.Contains("match the compiled spec", o);
    }

    [Fact]
    public void Generate_Prompts_PrintsOneContinuationPerLine_ForBleu()
    {
        string prompts = Path.Combine(Path.GetTempPath(), $"ingot-prompts-{Guid.NewGuid():N}.txt");
        string hyp = Path.ChangeExtension(prompts, ".hyp");
        try
        {
            File.WriteAllText(prompts, "Once upon a time\nThe cat\n");
            using var model = new Stories260K();
            var (code, o, e) = HostProgramTests.Run(model, "generate", "--prompts", prompts, "--max-new", "20", "--temp", "0", "-t", "1", "--model", Gguf);
            Assert.True(code == 0, e);
            var lines = o.Split('\n');
            Assert.Equal(3, lines.Length); // two lines and the final newline
            foreach (var (prompt, line) in new[] { ("Once upon a time", lines[0]), ("The cat", lines[1]) })
            {
                var (c1, single, e1) = HostProgramTests.Run(model, "generate", "-p", prompt, "--max-new", "20", "--temp", "0", "-t", "1", "--model", Gguf);
                Assert.True(c1 == 0, e1);
                Assert.Equal((prompt + line).Replace('\n', ' '), single.TrimEnd('\n').Replace('\n', ' '));
            }
            // The continuations, scored against themselves and against the other's, through ingot bleu.
            File.WriteAllText(hyp, o);
            var bleu = new StringWriter();
            Assert.Equal(0, new Ingot.Cli.Commands.BleuCommand().Run(["--hyp", hyp, "--ref", hyp], new StringReader(""), bleu));
            Assert.StartsWith("BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.0.0 = 100.0 100.0/100.0/100.0/100.0", bleu.ToString());
        }
        finally
        {
            File.Delete(prompts);
            File.Delete(hyp);
        }
    }

    /// <summary>--grammar: with temperature 1 and 20 seeds, every continuation is a sentence of the grammar and ends where it does.</summary>
    [Theory]
    [InlineData("root ::= (\"Lily\" | \"Tom\" | \"Sue\") \" is \" [a-z]{1,12} \".\"")]
    [InlineData("root ::= \"{\\\"name\\\": \\\"\" [A-Za-z ]{1,16} \"\\\", \\\"age\\\": \" [1-9] [0-9]? \"}\"")]
    public void Generate_Grammar_EveryOutputIsASentenceOfTheGrammar(string gbnf)
    {
        string file = Path.Combine(Path.GetTempPath(), $"ingot-grammar-{Guid.NewGuid():N}.gbnf");
        try
        {
            File.WriteAllText(file, gbnf);
            var matcher = new Ingot.Runtime.Grammars.GrammarMatcher(Ingot.Runtime.Grammars.Grammar.Parse(gbnf));
            using var model = new Stories260K();
            var outputs = new HashSet<string>();
            for (int seed = 1; seed <= 20; seed++)
            {
                var (code, o, e) = HostProgramTests.Run(model, "generate", "-p", "Once upon a time", "--max-new", "60", "--temp", "1", "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--grammar", file, "-t", "1", "--model", Gguf);
                Assert.True(code == 0, e);
                string text = o["Once upon a time".Length..].TrimEnd('\n');
                Assert.True(matcher.Matches(text), $"seed {seed}: '{text}' is not a sentence of the grammar");
                Assert.Contains("stop: end of text", e); // it ended where the grammar does, not at the token limit
                outputs.Add(text);
            }
            Assert.True(outputs.Count > 1, "every seed gave the same text: the sampling is not random within the grammar");
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void Generate_JsonSchema_GivesValidJson_AndBadSchemasAreOneLine()
    {
        string schema = Path.Combine(Path.GetTempPath(), $"ingot-schema-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(schema, JsonSchemaGrammarTests.PersonSchema);
            using var model = new Stories260K();
            var (code, o, e) = HostProgramTests.Run(model, "generate", "-p", "Once upon a time", "--max-new", "480", "--temp", "1", "--seed", "7", "--json-schema", schema, "-t", "1", "--model", Gguf);
            Assert.True(code == 0, e);
            Assert.Null(Ingot.TestSupport.SchemaValidator.Validate(JsonSchemaGrammarTests.PersonSchema, o["Once upon a time".Length..]));
            File.WriteAllText(schema, """{ "type": "string", "format": "email" }""");
            (code, _, e) = HostProgramTests.Run(model, "generate", "-p", "x", "--json-schema", schema, "--model", Gguf);
            Assert.Equal(2, code);
            Assert.Contains(schema + ": $.format: format 'email' is not one of date, time, date-time, uuid", e);
        }
        finally { File.Delete(schema); }
    }

    [Fact]
    public void Bench_Parallel_AddsTheBatchedDecodeRow()
    {
        using var model = new Stories260K();
        var (code, o, e) = HostProgramTests.Run(model, "bench", "-p", "0", "-n", "8", "-r", "2", "-t", "1", "--parallel", "3", "--model", Gguf);
        Assert.True(code == 0, e);
        Assert.Matches(@"\| +tg8 \| +[0-9.]+ ± [0-9.]+ \|", o);
        Assert.Matches(@"\| +tg8 ×3 \| +[0-9.]+ ± [0-9.]+ \|", o);
        Assert.Equal(3, model.Sequences);
        (code, _, e) = HostProgramTests.Run(model, "bench", "--parallel", "0", "--model", Gguf);
        Assert.Equal(2, code);
        Assert.Contains("--parallel must be 1..256", e);
    }

    [Fact]
    public void Bench_Roofline_ReportsWeightBandwidthAndFraction()
    {
        using var model = new Stories260K();
        var (code, o, e) = HostProgramTests.Run(model, "bench", "-p", "0", "-n", "8", "-r", "1", "-t", "1", "--roofline", "10", "--model", Gguf);
        Assert.True(code == 0, e);
        var m = System.Text.RegularExpressions.Regex.Match(o,
            @"tg8: ([0-9.]+) MB of weights per token \(all tensors but token_embd, of which one row is read\) at ([0-9.]+) t/s = ([0-9.]+) GB/s; 10\.0 GB/s of bandwidth: ([0-9.]+) of the roofline");
        Assert.True(m.Success, o);
        using var gguf = Ingot.Formats.GgufFile.Open(Gguf);
        long all = gguf.Tensors.Sum(t => t.ByteSize);
        long embd = gguf.Tensors.Single(t => t.Name == "token_embd.weight").ByteSize;
        bool tied = !gguf.Tensors.Any(t => t.Name == "output.weight");
        double mb = double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        long streamed = tied ? all : all - embd;
        Assert.Equal(streamed / 1e6, mb, 0.005);
        double tps = double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        double gbps = double.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(tps * streamed / 1e9, gbps, 0.05 + gbps * 0.01);
        Assert.Equal(gbps / 10, double.Parse(m.Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture), 0.01);
    }

    [Fact]
    public void Generate_SmallContext_StopsCleanly()
    {
        using var model = new Stories260K();
        var (code, o, e) = HostProgramTests.Run(model, "generate", "-p", "Once upon a time", "-n", "200", "--temp", "0", "--ctx", "32", "--model", Gguf);
        Assert.True(code == 0, e);
        Assert.Contains("context is full (32 tokens)", e);
        Assert.StartsWith("Once upon a time, there was", o);
    }

    [Fact]
    public void Generate_Sampled_IsReproducibleWithASeed()
    {
        using var model = new Stories260K();
        string[] args = ["generate", "-p", "Once upon a time", "-n", "60", "--seed", "42", "--model", Gguf];
        var a = HostProgramTests.Run(model, args);
        var b = HostProgramTests.Run(model, args);
        Assert.Equal(0, a.Code);
        Assert.Equal(a.Out, b.Out);
        Assert.StartsWith("Once upon a time", a.Out);
    }
}
