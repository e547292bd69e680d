using System.Globalization;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Generation;
using Ingot.Runtime.Sampling;

namespace Ingot.Host.Verbs;

/// <summary>
/// <c>generate -p TEXT [-n N]</c>: prints the prompt, then streams the continuation, flushing per token.
/// <para>
/// <c>-n</c> counts as llama2.c's <c>-n</c> (run.c "steps"): the number of positions run through the model,
/// prompt tokens (with BOS) included; so the continuation is <c>N − prompt tokens + 1</c> tokens and
/// <c>-n 200 --temp 0</c> prints exactly run.c's text. <c>--max-new N</c> counts new tokens instead (llama.cpp's -n).
/// Unless --ctx is given, the KV cache is sized to exactly what the run needs.
/// </para>
/// </summary>
public sealed class GenerateVerb : IHostVerb
{
    public string Name => "generate";
    public string Summary => "continue a prompt, streaming text to stdout";

    public string Usage(string program) =>
        $"usage: {program} generate -p TEXT [options]\n\n" +
        "  -p, --prompt TEXT       the prompt (printed, then continued)\n" +
        "  -n, --steps N           positions to run, prompt included, as llama2.c's -n (default 256; 0 = the context)\n" +
        "      --max-new N         instead of -n: tokens to generate after the prompt (llama.cpp's -n)\n" +
        "      --temp T            temperature (default 0.8; 0 = greedy argmax)\n" +
        "      --top-k K           keep the K most likely tokens (default 40; 0 = off)\n" +
        "      --top-p P           nucleus sampling mass (default 0.95; 1 = off)\n" +
        "      --min-p M           drop tokens below M x the best probability (default 0.05; 0 = off)\n" +
        "      --repeat-penalty R  penalty for recent tokens (default 1.1; 1 = off)\n" +
        "      --repeat-last-n N   how many recent tokens it looks at (default 64)\n" +
        "      --seed S            sampler seed (default: random; printed to stderr)\n" +
        "      --ctx N             KV cache size in tokens (default: what the run needs)\n" +
        "  -t, --threads N         worker threads (default: all cores)\n" +
        "      --model PATH        weights file (default: <exe dir>/<model>.gguf)\n" +
        "  -q, --quiet             no statistics line on stderr\n";

    public int Run(HostContext context, ArgReader args)
    {
        context.ReadCommonOptions(args);
        bool quiet = args.Flag("-q", "--quiet");
        string prompt = args.OptionOrNull("-p", "--prompt") ?? throw new UsageException("missing -p TEXT");
        int steps = args.Int(256, "-n", "--steps");
        int maxNew = args.Int(-1, "--max-new");
        var d = new SamplerOptions();
        float temp = args.Float(d.Temperature, "--temp", "--temperature");
        int topK = args.Int(d.TopK, "--top-k");
        float topP = args.Float(d.TopP, "--top-p");
        float minP = args.Float(d.MinP, "--min-p");
        float penalty = args.Float(d.RepeatPenalty, "--repeat-penalty");
        int lastN = args.Int(d.RepeatLastN, "--repeat-last-n");
        string? seedText = args.OptionOrNull("--seed", "-s");
        args.ThrowIfUnknown();

        if (steps < 0) throw new UsageException("-n must be >= 0");
        if (float.IsNaN(temp) || float.IsNaN(topP) || float.IsNaN(minP) || float.IsNaN(penalty)) throw new UsageException("sampling options must be numbers");
        if (lastN < 0) throw new UsageException("--repeat-last-n must be >= 0");
        if (penalty <= 0) throw new UsageException("--repeat-penalty must be > 0");
        ulong? seed = null;
        if (seedText is not null)
        {
            // Accept any 64-bit value, and negative numbers as their two's complement (llama.cpp users pass -1).
            if (ulong.TryParse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong u)) seed = u;
            else if (long.TryParse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l)) seed = unchecked((ulong)l);
            else throw new UsageException($"option --seed: '{seedText}' is not a valid integer");
        }
        var sampling = new SamplerOptions(temp, topK, topP, minP, penalty, lastN, seed);

        using var weights = context.OpenWeights();
        var codec = HostContext.LoadTokenizer(weights);
        var promptIds = codec.EncodePrompt(prompt);

        int needed = maxNew >= 0 ? promptIds.Count + maxNew : steps;
        context.LoadModel(weights, needed);
        var model = context.Model;
        if (maxNew < 0)
        {
            int positions = steps == 0 ? model.ContextSize : steps;
            maxNew = Math.Max(0, positions - promptIds.Count + 1);
        }

        var generator = new TextGenerator(model, codec);
        var output = context.Out;
        output.Write(prompt);
        output.Flush();
        var options = new GenerationOptions(maxNew, sampling);
        GenerationResult result = generator.Generate(promptIds, options, text =>
        {
            output.Write(text);
            output.Flush();
        }, context.Cancellation);
        output.Write('\n');
        output.Flush();

        if (result.StopReason == StopReason.ContextFull)
            context.Error.WriteLine($"{context.Program}: stopped: the context is full ({model.ContextSize} tokens); raise --ctx");
        if (!quiet)
        {
            var inv = CultureInfo.InvariantCulture;
            double pp = result.PrefillSeconds > 0 ? result.PromptTokens / result.PrefillSeconds : 0;
            double tg = result.DecodeSeconds > 0 ? result.GeneratedTokens / result.DecodeSeconds : 0;
            string seedNote = sampling.IsGreedy ? "greedy" : "seed " + SeedOf(generator, sampling).ToString(inv);
            context.Error.WriteLine(string.Format(inv,
                "{0}: prompt {1} tokens ({2:F1} t/s), generated {3} tokens ({4:F1} t/s), stop: {5}, {6}",
                context.Program, result.PromptTokens, pp, result.GeneratedTokens, tg, StopText(result.StopReason), seedNote));
        }
        return 0;
    }

    private static ulong SeedOf(TextGenerator generator, SamplerOptions sampling) => generator.SamplerSeed ?? sampling.Seed ?? 0;

    private static string StopText(StopReason r) => r switch
    {
        StopReason.MaxTokens => "length",
        StopReason.EndOfGeneration => "end of text",
        StopReason.ContextFull => "context full",
        _ => "cancelled",
    };
}
