using System.Globalization;
using Ingot.Runtime;
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
        SamplingArgs.Usage +
        "      --chat              treat TEXT as a user message: render it with the model's chat template, print only the reply\n" +
        "      --system TEXT       with --chat: a system message first\n" +
        "      --chat-template F   with --chat: this .jinja template instead of the model's tokenizer.chat_template\n" +
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
        bool chat = args.Flag("--chat");
        string? system = args.OptionOrNull("--system");
        string? templatePath = args.OptionOrNull("--chat-template");
        var sampling = SamplingArgs.Read(args);
        args.ThrowIfUnknown();
        if (!chat && (system is not null || templatePath is not null)) throw new UsageException("--system and --chat-template need --chat");

        if (steps < 0) throw new UsageException("-n must be >= 0");

        using var weights = context.OpenWeights();
        var codec = HostContext.LoadTokenizer(weights);
        string text = prompt;
        if (chat)
        {
            var template = Chat.ChatSession.LoadTemplate(weights, templatePath);
            var messages = new List<Runtime.Chat.ChatMessage>();
            if (system is not null) messages.Add(new("system", system));
            messages.Add(new("user", prompt));
            text = template.Render(messages, addGenerationPrompt: true);
        }
        var promptIds = codec.EncodePrompt(text);
        bool encoderDecoder = context.Model is IEncoderDecoder;

        int needed = maxNew >= 0 ? (encoderDecoder ? 1 : promptIds.Count) + maxNew : steps;
        context.LoadModel(weights, needed);
        var model = context.Causal;
        if (model is IEncoderDecoder ed)
        {
            // T5: the prompt is the encoder's input; the decoder starts from decoder_start_token_id and writes the output.
            ed.Encode([.. promptIds]);
            promptIds = [ed.DecoderStartToken];
        }
        if (maxNew < 0)
        {
            int positions = steps == 0 ? model.ContextSize : steps;
            maxNew = Math.Max(0, positions - promptIds.Count + 1);
        }

        var generator = new TextGenerator(model, codec);
        var output = context.Out;
        if (!chat && !encoderDecoder) output.Write(prompt); // a chat prints only the reply; an encoder–decoder only its output
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
        StopReason.StopSequence => "stop sequence",
        StopReason.ContextFull => "context full",
        _ => "cancelled",
    };
}
