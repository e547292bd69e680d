using System.Diagnostics;
using System.Globalization;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Generation;
using Ingot.Runtime.Sampling;

namespace Ingot.Host.Verbs;

/// <summary>
/// An encoder's <c>bench [-p 128] [--inputs K] [-r 3]</c>, in llama-bench's table: <c>ppN</c> encodes one input of N
/// tokens (llama-bench -embd 1's pp test); with <c>--inputs K</c>, <c>ppN×K</c> encodes K inputs of N tokens as
/// <c>embed --file</c> does (batches up to MaxTokens). t/s counts every token; one untimed warm-up runs first. Token ids
/// are pseudo-random with a fixed seed, so runs are comparable.
/// </summary>
public sealed class EncoderBenchVerb : IHostVerb
{
    public string Name => "bench";
    public string Summary => "measure encoding speed (llama-bench table)";

    public string Usage(string program) =>
        $"usage: {program} bench [-p N] [--inputs K] [-r N] [-t N] [--model PATH]\n\n" +
        "  -p N         tokens per input (default 128)\n" +
        "  --inputs K   encode K inputs of N tokens, batched as embed --file batches them (default 1)\n" +
        "  -r N         repetitions (default 3)\n" +
        "  -t N         worker threads (default: all cores)\n";

    public int Run(HostContext context, ArgReader args)
    {
        context.ReadCommonOptions(args);
        int pp = args.Int(128, "-p", "--n-prompt");
        int count = args.Int(1, "--inputs");
        int reps = args.Int(3, "-r", "--repetitions");
        args.ThrowIfUnknown();
        if (pp < 1) throw new UsageException("-p must be >= 1");
        if (count < 1) throw new UsageException("--inputs must be >= 1");
        if (reps < 1) throw new UsageException("-r must be >= 1");

        using var weights = context.OpenWeights();
        context.LoadModel(weights, 0);
        var model = context.Encoder;
        if (pp > model.MaxTokens)
            throw new Runtime.ContextOverflowException($"-p {pp} is more tokens than the model takes in one input ({model.MaxTokens})");

        var rng = new Xoshiro256(1234);
        var inputs = new List<int[]>();
        for (int i = 0; i < count; i++)
        {
            var ids = new int[pp];
            for (int t = 0; t < pp; t++) ids[t] = (int)(rng.NextUInt64() % (ulong)model.Description.VocabSize);
            inputs.Add(ids);
        }
        bool head = model.ScoreCount > 0;
        double RunOnce(IReadOnlyList<int[]> batch)
        {
            long t0 = Stopwatch.GetTimestamp();
            EncoderBatches.Run(model, batch, head, (_, _, _) => { });
            return Math.Max(Stopwatch.GetElapsedTime(t0).TotalSeconds, 1e-9);
        }
        RunOnce([inputs[0][..Math.Min(pp, 8)]]); // warm-up
        var tps = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            tps[r] = (double)pp * count / RunOnce(inputs);
        }
        string test = "pp" + pp.ToString(CultureInfo.InvariantCulture) + (count > 1 ? "×" + count.ToString(CultureInfo.InvariantCulture) : "");
        BenchVerb.WriteTable(context.Out, [BenchVerb.Row(context, model.Description, test, tps)]);
        return 0;
    }
}
