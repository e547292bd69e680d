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
/// <para>
/// <c>--prompts FILE</c>: one prompt per line, one continuation per output line (line breaks in it become spaces), so
/// the output lines up with a reference file for <c>ingot bleu --hyp</c>.
/// </para>
/// </summary>
public sealed class GenerateVerb : IHostVerb
{
    public string Name => "generate";
    public string Summary => "continue a prompt, streaming text to stdout";

    public string Usage(string program) =>
        $"usage: {program} generate -p TEXT [options]\n\n" +
        "  -p, --prompt TEXT       the prompt (printed, then continued)\n" +
        "      --prompts FILE      one prompt per line instead: prints one continuation per line (no prompt; line breaks\n" +
        "                          become spaces), lined up with the file for ingot bleu --hyp\n" +
        "  -n, --steps N           positions to run, prompt included, as llama2.c's -n (default 256; 0 = the context)\n" +
        "      --max-new N         instead of -n: tokens to generate after the prompt (llama.cpp's -n)\n" +
        SamplingArgs.Usage +
        ConstraintArgs.Usage +
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
        string? promptsFile = args.OptionOrNull("--prompts");
        string? single = args.OptionOrNull("-p", "--prompt");
        if (single is null && promptsFile is null) throw new UsageException("missing -p TEXT (or --prompts FILE)");
        if (single is not null && promptsFile is not null) throw new UsageException("give -p TEXT or --prompts FILE, not both");
        int steps = args.Int(256, "-n", "--steps");
        int maxNew = args.Int(-1, "--max-new");
        bool chat = args.Flag("--chat");
        string? system = args.OptionOrNull("--system");
        string? templatePath = args.OptionOrNull("--chat-template");
        var sampling = SamplingArgs.Read(args);
        var grammar = ConstraintArgs.Read(args);
        args.ThrowIfUnknown();
        if (!chat && (system is not null || templatePath is not null)) throw new UsageException("--system and --chat-template need --chat");

        if (steps < 0) throw new UsageException("-n must be >= 0");

        using var weights = context.OpenWeights();
        var codec = HostContext.LoadTokenizer(weights);
        string[] prompts = single is not null ? [single] : File.ReadAllLines(promptsFile!);
        var template = chat ? Chat.ChatSession.LoadTemplate(weights, templatePath) : null;
        var texts = new List<string>();
        var allIds = new List<IReadOnlyList<int>>();
        foreach (string prompt in prompts)
        {
            string text = prompt;
            if (template is not null)
            {
                var messages = new List<Runtime.Chat.ChatMessage>();
                if (system is not null) messages.Add(new("system", system));
                messages.Add(new("user", prompt));
                text = template.Render(messages, addGenerationPrompt: true);
            }
            texts.Add(text);
            allIds.Add(codec.EncodePrompt(text));
        }
        bool encoderDecoder = context.Model is IEncoderDecoder;

        int longest = allIds.Count == 0 ? 1 : allIds.Max(ids => ids.Count);
        int needed = maxNew >= 0 ? (encoderDecoder ? 1 : longest) + maxNew : steps;
        context.LoadModel(weights, needed);
        var model = context.Causal;
        var generator = new TextGenerator(model, codec);
        var output = context.Out;
        GenerationResult? result = null;
        for (int i = 0; i < prompts.Length; i++)
        {
            var promptIds = allIds[i];
            if (model is IEncoderDecoder ed)
            {
                // T5: the prompt is the encoder's input; the decoder starts from decoder_start_token_id and writes the output.
                ed.Encode([.. promptIds]);
                promptIds = [ed.DecoderStartToken];
            }
            int newTokens = maxNew;
            if (newTokens < 0)
            {
                int positions = steps == 0 ? model.ContextSize : steps;
                newTokens = Math.Max(0, positions - promptIds.Count + 1);
            }
            // a chat prints only the reply; an encoder–decoder only its output; a prompt file only the continuations
            if (!chat && !encoderDecoder && single is not null) output.Write(prompts[i]);
            output.Flush();
            bool oneLine = single is null;
            result = generator.Generate(promptIds, new GenerationOptions(newTokens, sampling) { Grammar = grammar }, text =>
            {
                output.Write(oneLine ? text.Replace('\r', ' ').Replace('\n', ' ') : text);
                output.Flush();
            }, context.Cancellation);
            output.Write('\n');
            output.Flush();
            if (result.StopReason == StopReason.Cancelled) break;
        }
        if (result is null) return 0; // an empty prompt file
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
