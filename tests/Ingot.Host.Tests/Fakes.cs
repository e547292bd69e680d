using System.Text;
using Ingot.Formats;
using Ingot.Runtime;
using Ingot.Runtime.Generation;

namespace Ingot.Host.Tests;

/// <summary>
/// A tiny deterministic "model": the logits of the next token depend only on the previous token (a bigram table).
/// Row r of the table peaks at <see cref="Next"/>(r). Implements the same contract as generated models, including
/// ContextOverflowException, so the host and the generation loop can be tested without the generator.
/// </summary>
public sealed class BigramModel(int vocab = 16, int trainedContext = 64, string name = "bigram") : ICompiledModel
{
    public Func<int, int> Next { get; set; } = prev => (prev * 5 + 3) % vocab;
    public int DecodeCalls { get; private set; }
    public int PrefillCalls { get; private set; }
    public int LoadCalls { get; private set; }
    public InferenceOptions? LastOptions { get; private set; }
    public List<int> Fed { get; } = [];
    /// <summary>Called after every decode (to cancel from "inside" the loop in tests).</summary>
    public Action<int>? OnDecode { get; set; }
    private int _context;

    public ModelDescription Description => new(name, "llama", "{\n  \"schema\": 1,\n  \"name\": \"" + name + "\"\n}\n", vocab, trainedContext, 1234567, ["vector256", "vector128", "scalar"], "scalar");
    public int VocabSize => vocab;
    public int ContextSize => _context;
    public int Position => Fed.Count;
    public long WeightBytes => 4096;

    public void Load(GgufFile weights, InferenceOptions options)
    {
        LoadCalls++;
        LastOptions = options;
        _context = options.ContextSize == 0 ? trainedContext : options.ContextSize;
        Fed.Clear();
    }

    /// <summary>For tests that do not go through Load.</summary>
    public BigramModel WithContext(int context) { _context = context; return this; }

    public void Reset() => Fed.Clear();

    /// <summary>Slept in every Prefill: a model slow enough that a test can act while it generates.</summary>
    public TimeSpan StepDelay { get; set; }

    public void Prefill(ReadOnlySpan<int> tokens, Span<float> logits)
    {
        PrefillCalls++;
        if (StepDelay > TimeSpan.Zero) Thread.Sleep(StepDelay);
        if (Fed.Count + tokens.Length > _context) throw new ContextOverflowException($"context of {_context} is full");
        bool all = logits.Length == tokens.Length * vocab;
        if (!all && logits.Length != vocab) throw new ArgumentException("bad logits length");
        for (int i = 0; i < tokens.Length; i++)
        {
            Fed.Add(tokens[i]);
            if (all) Row(tokens[i], logits.Slice(i * vocab, vocab));
        }
        if (!all) Row(tokens[^1], logits);
    }

    public void Decode(int token, Span<float> logits)
    {
        DecodeCalls++;
        if (Fed.Count + 1 > _context) throw new ContextOverflowException($"context of {_context} is full");
        Fed.Add(token);
        Row(token, logits);
        OnDecode?.Invoke(token);
    }

    /// <summary>Row for a previous token: a peak of 10 at Next(prev), 0 elsewhere, plus a small id-dependent slope.</summary>
    public void Row(int prev, Span<float> row)
    {
        for (int j = 0; j < row.Length; j++) row[j] = -0.001f * j;
        row[Next(prev)] = 10f;
    }

    public void Dispose() { }
}

/// <summary>
/// A byte-level codec: token id i (i ≥ 3) is the byte sequence <see cref="Pieces"/>[i]; 0 = BOS, 1 = EOS, 2 = EOT.
/// Its stream decoder releases only complete UTF-8 (System.Text.Decoder), like the real tokenizers'.
/// </summary>
public sealed class ByteCodec : ITokenCodec
{
    public byte[][] Pieces { get; }
    public bool AddBos { get; set; } = true;

    public ByteCodec(int vocab)
    {
        Pieces = new byte[vocab][];
        for (int i = 0; i < vocab; i++) Pieces[i] = i < 3 ? [] : [(byte)('a' + (i - 3) % 26)];
    }

    public IReadOnlyList<int> EncodePrompt(string text)
    {
        var ids = new List<int>();
        if (AddBos) ids.Add(0);
        foreach (char c in text) if (c is >= 'a' and <= 'z') ids.Add(c - 'a' + 3);
        return ids;
    }

    public int? BosTokenId => 0;
    public bool IsEndOfGeneration(int id) => id is 1 or 2;
    public ITokenTextStream CreateStream() => new Stream(this);

    public string Text(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        foreach (int id in ids) bytes.AddRange(Pieces[id]);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private sealed class Stream(ByteCodec codec) : ITokenTextStream
    {
        private readonly Decoder _utf8 = new UTF8Encoding(false).GetDecoder();
        private readonly char[] _chars = new char[64];

        public string Append(int id)
        {
            byte[] b = codec.Pieces[id];
            int n = _utf8.GetChars(b, 0, b.Length, _chars, 0, flush: false);
            return new string(_chars, 0, n);
        }

        public string Flush()
        {
            int n = _utf8.GetChars([], 0, 0, _chars, 0, flush: true);
            return new string(_chars, 0, n);
        }
    }
}

/// <summary>Paths shared by the tests: the repo (the directory with Compiler.sln) and ../shared.</summary>
public static class TestPaths
{
    public static string Repo { get; } = FindRepo();
    public static string Shared => Path.GetFullPath(Path.Combine(Repo, "..", "shared"));
    public static string Stories260KGguf => Path.Combine(Shared, "models", "gguf", "stories260K-f32.gguf");
    public static string GoldenJson => Path.Combine(Shared, "models", "llama2c", "testvectors", "stories260K_golden.json");

    /// <summary>A case of stories260K_golden.json: its prompt and the text llama2.c's run.c prints for it.</summary>
    public static (string Prompt, string Text) GoldenCase(string name)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Require(GoldenJson)));
        var c = doc.RootElement.GetProperty("cases").GetProperty(name);
        return (c.GetProperty("prompt").GetString()!, c.GetProperty("decoded").GetString()!);
    }

    /// <summary>A shared file the test needs: a clear failure, not a silent pass, when it is absent.</summary>
    public static string Require(string path)
    {
        Xunit.Assert.True(File.Exists(path), $"shared test file missing: {path}");
        return path;
    }

    /// <summary>
    /// stories260K with a chat template: golden/chat's Qwen2.5 ChatML template in tokenizer.chat_template (the model has
    /// none; its vocabulary spells the markers as text, which is enough for the plumbing). Written once per process.
    /// </summary>
    public static string StoriesWithChatTemplate => StoriesChat.Value;

    private static readonly Lazy<string> StoriesChat = new(() =>
    {
        string template = File.ReadAllText(Require(Path.Combine(Shared, "golden", "chat", "Qwen-Qwen2.5-7B-Instruct.jinja")));
        return CopyGgufWith(Require(Stories260KGguf), "stories-chat", w => w.Set("tokenizer.chat_template", template));
    });

    /// <summary>
    /// A temp copy of the GGUF at <paramref name="source"/> (tensors byte for byte) with its metadata changed by
    /// <paramref name="edit"/>; <paramref name="tag"/> names the copy (one per tag and process).
    /// </summary>
    public static string CopyGgufWith(string source, string tag, Action<Formats.GgufWriter> edit)
    {
        using var src = Formats.GgufFile.Open(source);
        string path = Path.Combine(Path.GetTempPath(), "ingot-" + tag + "-" + Environment.ProcessId + ".gguf");
        var w = new Formats.GgufWriter().CopyMetadata(src);
        edit(w);
        foreach (var t in src.Tensors)
        {
            byte[] bytes = src.GetTensorBytes(t).ToArray();
            w.AddTensor(t.Name, t.Type, t.Dims, st => st.Write(bytes));
        }
        w.Write(path);
        return path;
    }

    private static string FindRepo()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, SourceDir() })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Compiler.sln"))) return d.FullName;
        throw new InvalidOperationException("cannot find Compiler.sln above " + AppContext.BaseDirectory);
    }

    private static string SourceDir([System.Runtime.CompilerServices.CallerFilePath] string p = "") => Path.GetDirectoryName(p) ?? "";
}

/// <summary>A child process the tests start: its exit code, UTF-8 standard output and standard error, and a log line.</summary>
public static class TestProcess
{
    /// <summary>
    /// Runs <paramref name="file"/> in <paramref name="workDir"/> ("" = the current one) outside this repository's build
    /// state: the test host's MSBuild and Ingot variables are not passed on; <paramref name="env"/> adds its own.
    /// </summary>
    public static (int Code, string Out, string Err, string Log) Run(string file, string workDir, Dictionary<string, string>? env, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(file)
        {
            WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, StandardOutputEncoding = System.Text.Encoding.UTF8,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var v in new[] { "MSBuildSDKsPath", "MSBuildExtensionsPath", "MSBUILD_EXE_PATH", "INGOT_ARTIFACTS", "INGOT_REPO", "INGOT_CACHE" }) psi.Environment.Remove(v);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (k, v) in env ?? []) psi.Environment[k] = v;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        using var p = System.Diagnostics.Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, o, err.Result, $"{Path.GetFileName(file)} {string.Join(' ', args)}: exit {p.ExitCode} in {sw.Elapsed.TotalSeconds:F1} s");
    }
}
