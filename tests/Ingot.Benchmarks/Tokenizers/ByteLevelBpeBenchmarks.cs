using System.Text;
using System.Text.RegularExpressions;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Ingot.Formats;
using Ingot.Runtime.Tokenization;

namespace Ingot.Benchmarks.Tokenizers;

/// <summary>
/// GPT-2 byte-level BPE encoding of ~2 MB of English prose on one thread (EncodeToIds is single-threaded).
/// The text is generated deterministically: sentences of words drawn Zipf-like from the vocabulary of the repository's
/// English documents, with capitals, commas, numbers and paragraph breaks. MB/s = UTF-8 bytes / mean time.
/// Cold: the word cache is emptied at the start of every operation (each distinct word is merged once per op).
/// Warm: steady state with the cache filled. NoCache: every word merged every time (the floor).
/// dotnet run -c Release --project tests/Ingot.Benchmarks -- --filter '*ByteLevelBpeBenchmarks*'
/// </summary>
[Config(typeof(Config))]
public class ByteLevelBpeBenchmarks
{
    public const int TargetChars = 2 << 20;

    private ByteLevelBpeTokenizer _tokenizer = null!;
    private string _text = "";

    public static long TextBytes { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        string shared = FindShared();
        using (var gguf = GgufFile.Open(Path.Combine(shared, "vocab", "ggml-vocab-gpt-2.gguf")))
            _tokenizer = (ByteLevelBpeTokenizer)Tokenizer.FromGguf(gguf);
        _text = EnglishText(shared, TargetChars);
        TextBytes = Encoding.UTF8.GetByteCount(_text);
        int tokens = _tokenizer.Tokenize(_text).Count;
        Console.WriteLine($"// {TextBytes} bytes of text, {tokens} tokens ({(double)TextBytes / tokens:F2} bytes/token)");
    }

    [Benchmark]
    public int Cold()
    {
        _tokenizer.WordCacheEnabled = true;
        _tokenizer.ClearCache();
        return _tokenizer.Tokenize(_text).Count;
    }

    [Benchmark]
    public int Warm()
    {
        _tokenizer.WordCacheEnabled = true;
        return _tokenizer.Tokenize(_text).Count;
    }

    [Benchmark]
    public int NoCache()
    {
        _tokenizer.WordCacheEnabled = false;
        try { return _tokenizer.Tokenize(_text).Count; }
        finally { _tokenizer.WordCacheEnabled = true; }
    }

    /// <summary>../shared beside the repository: walk up from the working directory or the binary to Compiler.sln.</summary>
    internal static string FindShared()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Compiler.sln")))
                {
                    string shared = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
                    if (Directory.Exists(shared)) return shared;
                    throw new DirectoryNotFoundException("../shared is missing beside the repository: " + shared);
                }
            }
        }
        throw new DirectoryNotFoundException("run from inside the repository (Compiler.sln not found above " + Environment.CurrentDirectory + ")");
    }

    private static string EnglishText(string shared, int chars)
    {
        var corpus = new StringBuilder();
        foreach (string file in new[] { "DESIGN.md", "golden/README.md" })
        {
            string path = Path.Combine(shared, file);
            if (File.Exists(path)) corpus.Append(File.ReadAllText(path)).Append(' ');
        }
        var counts = Regex.Matches(corpus.ToString(), "[A-Za-z]+(?:'[a-z]+)?")
            .Select(m => m.Value.ToLowerInvariant())
            .GroupBy(w => w).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Key).ToArray();
        if (counts.Length < 500) throw new InvalidDataException($"too few distinct words in the shared documents ({counts.Length})");

        // Zipf-like draw: rank r with weight 1/(r+1).
        var cumulative = new double[counts.Length];
        double sum = 0;
        for (int r = 0; r < counts.Length; r++) cumulative[r] = sum += 1.0 / (r + 1);

        var rng = new Random(2024);
        var sb = new StringBuilder(chars + 256);
        while (sb.Length < chars)
        {
            int words = rng.Next(6, 24);
            for (int i = 0; i < words; i++)
            {
                int rank = Array.BinarySearch(cumulative, rng.NextDouble() * sum);
                string w = counts[rank < 0 ? ~rank : rank];
                if (i > 0) sb.Append(rng.Next(12) == 0 ? ", " : " ");
                if (rng.Next(40) == 0) { sb.Append(rng.Next(1, 5000)).Append(' '); }
                sb.Append(i == 0 ? char.ToUpperInvariant(w[0]) + w[1..] : w);
            }
            sb.Append(rng.Next(8) switch { 0 => "?", 1 => "!", _ => "." });
            sb.Append(rng.Next(6) == 0 ? "\n\n" : " ");
        }
        return sb.ToString();
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            // in-process: no per-benchmark project build (several people share this machine and the Runtime project)
            AddJob(Job.ShortRun.WithWarmupCount(2).WithIterationCount(5).WithToolchain(InProcessEmitToolchain.Instance));
            AddColumn(new MegabytesPerSecondColumn());
        }
    }

    private sealed class MegabytesPerSecondColumn : IColumn
    {
        public string Id => "MBps";
        public string ColumnName => "MB/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "UTF-8 bytes of input / mean time (10^6 bytes per second)";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
        {
            var report = summary[benchmarkCase];
            if (report?.ResultStatistics == null || TextBytes == 0) return "-";
            return (TextBytes * 1e3 / report.ResultStatistics.Mean).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
        }
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    }
}
