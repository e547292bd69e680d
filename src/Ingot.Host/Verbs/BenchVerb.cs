using System.Diagnostics;
using System.Globalization;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Sampling;

namespace Ingot.Host.Verbs;

/// <summary>
/// <c>bench [-p 128] [-n 64] [-r 3]</c>: llama-bench's table. <c>ppN</c> = one prefill of N tokens;
/// <c>tgN</c> = N single-token decodes after a one-token (BOS) prompt, the prompt untimed. The KV cache is reset
/// before every repetition; one untimed warm-up of each test runs first. t/s is mean ± sample standard deviation.
/// Token ids are pseudo-random with a fixed seed, so runs are comparable. <c>--parallel P</c> adds <c>tgN ×P</c>: P
/// sequences decoding N tokens each, one batch per step as the server's continuous batching runs them (t/s is all P
/// streams' tokens together; llama-batched-bench's S_TG). <c>-d D[,D…]</c> (llama-bench's depth) runs each test after D
/// tokens already in the KV cache, filled untimed; the test is then named <c>ppN @ dD</c>, as llama-bench names it.
/// </summary>
public sealed class BenchVerb : IHostVerb
{
    public string Name => "bench";
    public string Summary => "measure prompt processing and generation speed (llama-bench table)";

    public string Usage(string program) =>
        $"usage: {program} bench [-p N] [-n N] [-d D[,D…]] [-r N] [-t N] [--parallel P] [--roofline GBPS] [--model PATH]\n\n" +
        "  -p N   prompt tokens for the ppN test (default 128; 0 = skip)\n" +
        "  -n N   generated tokens for the tgN test (default 64; 0 = skip)\n" +
        "  -d D   depth: run every test after D tokens already in the KV cache (default 0; a comma list runs each)\n" +
        "  -r N   repetitions (default 3)\n" +
        "  -t N   worker threads (default: all cores)\n" +
        "  --parallel P  also tgN ×P: P sequences decoding in one batch per step (aggregate t/s)\n" +
        "  --roofline GBPS  memory read bandwidth (e.g. from membw.c): also print the tg test's weight GB/s and its\n" +
        "                   fraction of the roofline bandwidth / weight bytes per token\n";

    public int Run(HostContext context, ArgReader args)
    {
        context.ReadCommonOptions(args);
        int pp = args.Int(128, "-p", "--n-prompt");
        int tg = args.Int(64, "-n", "--n-gen");
        int reps = args.Int(3, "-r", "--repetitions");
        double roofline = args.Float(0, "--roofline");
        int parallel = args.Int(1, "--parallel", "-np");
        int[] depths = ParseDepths(args.OptionOr("0", "-d", "--n-depth"));
        args.ThrowIfUnknown();
        if (roofline < 0) throw new UsageException("--roofline must be a bandwidth in GB/s (> 0)");
        if (pp < 0 || tg < 0) throw new UsageException("-p and -n must be >= 0");
        if (reps < 1) throw new UsageException("-r must be >= 1");
        if (parallel is < 1 or > 256) throw new UsageException("--parallel must be 1..256");

        int deepest = depths.Max();
        int needed = deepest + Math.Max(Math.Max(pp, tg + 1), 1);
        using var weights = context.OpenWeights();
        context.LoadModel(weights, needed, parallel);
        var model = context.Causal;
        if (needed > model.ContextSize)
            throw new Runtime.ContextOverflowException($"the tests need {needed} positions but the context holds {model.ContextSize}; raise --ctx");

        var rng = new Xoshiro256(1234);
        var tokens = new int[needed];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = (int)(rng.NextUInt64() % (ulong)model.VocabSize);
        var last = new float[model.VocabSize];

        var desc = model.Description;
        var table = new List<string[]>();
        var streamedRates = new List<(string Test, double[] Rates)>();
        var inv = CultureInfo.InvariantCulture;
        // t/s of each timed repetition
        double[] Rates(Func<double> run)
        {
            var tps = new double[reps];
            for (int r = 0; r < reps; r++)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                tps[r] = run();
            }
            return tps;
        }
        foreach (int depth in depths)
        {
            string at = depth == 0 ? "" : " @ d" + depth.ToString(inv);
            if (pp > 0)
            {
                RunPrefill(model, tokens, depth, Math.Min(pp, 8), last); // warm-up
                table.Add(Row(context, desc, "pp" + pp.ToString(inv) + at, Rates(() => pp / RunPrefill(model, tokens, depth, pp, last))));
            }
            if (tg > 0)
            {
                RunDecode(model, tokens, depth, Math.Min(tg, 2), last); // warm-up
                double[] tps = Rates(() => tg / RunDecode(model, tokens, depth, tg, last));
                string test = "tg" + tg.ToString(inv) + at;
                table.Add(Row(context, desc, test, tps));
                if (roofline > 0) streamedRates.Add((test, tps));
            }
        }
        if (tg > 0 && parallel > 1)
        {
            RunDecodeBatched(model, parallel, tokens, Math.Min(tg, 2)); // warm-up
            double[] tps = Rates(() => (double)parallel * tg / RunDecodeBatched(model, parallel, tokens, tg));
            table.Add(Row(context, desc, "tg" + tg.ToString(inv) + " ×" + parallel.ToString(inv), tps));
        }
        WriteTable(context.Out, table);
        long bytes = StreamedBytesPerToken(weights, model.WeightBytes);
        foreach (var (test, rates) in streamedRates)
        {
            // decode of W bytes per token cannot beat bandwidth / W tokens/s (../shared/tools/membw.c measures the
            // bandwidth); at a depth the KV cache adds its reads, which this weights-only fraction leaves out
            double mean = rates.Average();
            double gbps = mean * bytes / 1e9;
            context.Out.Write(string.Format(inv,
                "{0}: {1:F2} MB of weights per token (all tensors but token_embd, of which one row is read) at {2:F2} t/s = {3:F1} GB/s; " +
                "{4:F1} GB/s of bandwidth: {5:F2} of the roofline ({6:F2} counting the whole {7:F2} MB)\n",
                test, bytes / 1e6, mean, gbps, roofline, gbps / roofline, mean * model.WeightBytes / 1e9 / roofline, model.WeightBytes / 1e6));
        }
        context.Out.Flush();
        return 0;
    }

    /// <summary>"0", "512" or "0,512,2048": the depths, each ≥ 0.</summary>
    private static int[] ParseDepths(string text)
    {
        var depths = new List<int>();
        foreach (string part in text.Split(','))
        {
            if (!int.TryParse(part.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int d))
                throw new UsageException($"-d takes depths >= 0, comma-separated; got '{text}'");
            depths.Add(d);
        }
        return [.. depths];
    }

    /// <summary>
    /// Weight bytes one decode step reads: every tensor but token_embd, of which it reads one row (unless the output
    /// projection is tied to it: then it is read whole).
    /// </summary>
    internal static long StreamedBytesPerToken(Formats.GgufFile weights, long weightBytes)
    {
        long embd = 0;
        bool output = false;
        foreach (var t in weights.Tensors)
        {
            if (t.Name == "token_embd.weight") embd = t.ByteSize;
            else if (t.Name == "output.weight") output = true;
        }
        return output ? weightBytes - embd : weightBytes;
    }

    /// <summary>tokens[0, depth) untimed, then a timed prefill of the next n.</summary>
    private static double RunPrefill(Runtime.ICompiledModel model, int[] tokens, int depth, int n, float[] last)
    {
        model.Reset();
        if (depth > 0) model.Prefill(tokens.AsSpan(0, depth), last);
        long t0 = Stopwatch.GetTimestamp();
        model.Prefill(tokens.AsSpan(depth, n), last);
        return Math.Max(Stopwatch.GetElapsedTime(t0).TotalSeconds, 1e-9);
    }

    /// <summary>A prompt of max(depth, 1) tokens untimed, then n timed single-token decodes.</summary>
    private static double RunDecode(Runtime.ICompiledModel model, int[] tokens, int depth, int n, float[] last)
    {
        model.Reset();
        int prompt = Math.Max(depth, 1);
        model.Prefill(tokens.AsSpan(0, prompt), last);
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < n; i++) model.Decode(tokens[prompt + i], last);
        return Math.Max(Stopwatch.GetElapsedTime(t0).TotalSeconds, 1e-9);
    }

    /// <summary>P sequences after a one-token prompt each (untimed), then n steps of one token per sequence in one batch.</summary>
    private static double RunDecodeBatched(Runtime.ICompiledModel model, int p, int[] tokens, int n)
    {
        model.Reset();
        var ones = new int[p];
        var sequences = new int[p];
        var step = new int[p];
        for (int s = 0; s < p; s++) (ones[s], sequences[s], step[s]) = (1, s, tokens[0]);
        var logits = new float[(long)p * model.VocabSize];
        model.Prefill(step, ones, sequences, logits);
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 1; i <= n; i++)
        {
            for (int s = 0; s < p; s++) step[s] = tokens[(i + s) % tokens.Length];
            model.Prefill(step, ones, sequences, logits);
        }
        return Math.Max(Stopwatch.GetElapsedTime(t0).TotalSeconds, 1e-9);
    }

    internal static string[] Row(HostContext context, Runtime.ModelDescription desc, string test, double[] tps)
    {
        var inv = CultureInfo.InvariantCulture;
        double mean = 0;
        foreach (double v in tps) mean += v;
        mean /= tps.Length;
        double sd = 0;
        if (tps.Length > 1)
        {
            foreach (double v in tps) sd += (v - mean) * (v - mean);
            sd = Math.Sqrt(sd / (tps.Length - 1));
        }
        return
        [
            desc.Name,
            FormatSize(context.Model.WeightBytes),
            FormatCount(desc.ParameterCount),
            desc.IsaPathInUse,
            context.EffectiveThreads.ToString(inv),
            test,
            string.Format(inv, "{0:F2} ± {1:F2}", mean, sd),
        ];
    }

    internal static readonly string[] Header = ["model", "size", "params", "isa", "threads", "test", "t/s"];

    /// <summary>Markdown table with padded columns; text columns left-aligned, numbers right-aligned, as llama-bench.</summary>
    internal static void WriteTable(TextWriter w, List<string[]> rows)
    {
        var width = new int[Header.Length];
        for (int c = 0; c < Header.Length; c++)
        {
            width[c] = Header[c].Length;
            foreach (var r in rows) width[c] = Math.Max(width[c], r[c].Length);
        }
        bool[] right = [false, true, true, false, true, true, true];
        var sb = new System.Text.StringBuilder();
        void Line(string[] cells)
        {
            sb.Append('|');
            for (int c = 0; c < cells.Length; c++)
                sb.Append(' ').Append(right[c] ? cells[c].PadLeft(width[c]) : cells[c].PadRight(width[c])).Append(" |");
            sb.Append('\n');
        }
        Line(Header);
        sb.Append('|');
        for (int c = 0; c < Header.Length; c++) sb.Append(right[c] ? new string('-', width[c] + 1) + ":|" : new string('-', width[c] + 2) + '|');
        sb.Append('\n');
        foreach (var r in rows) Line(r);
        w.Write(sb.ToString());
        w.Flush();
    }

    internal static string FormatSize(long bytes)
    {
        var inv = CultureInfo.InvariantCulture;
        const double MiB = 1024.0 * 1024, GiB = MiB * 1024;
        return bytes >= GiB ? string.Format(inv, "{0:F2} GiB", bytes / GiB) : string.Format(inv, "{0:F2} MiB", bytes / MiB);
    }

    internal static string FormatCount(long n)
    {
        var inv = CultureInfo.InvariantCulture;
        return n >= 1_000_000_000 ? string.Format(inv, "{0:F2} B", n / 1e9)
             : n >= 1_000_000 ? string.Format(inv, "{0:F2} M", n / 1e6)
             : n >= 1_000 ? string.Format(inv, "{0:F2} K", n / 1e3)
             : n.ToString(inv);
    }
}
