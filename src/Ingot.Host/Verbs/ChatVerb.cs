using System.Globalization;
using Ingot.Host.Chat;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Generation;

namespace Ingot.Host.Verbs;

/// <summary>
/// <c>chat</c>: an interactive conversation in the model's own chat template. One user message per line of standard
/// input; the reply streams to standard output, then a blank line. EOF, <c>/exit</c> or <c>/quit</c> end it;
/// <c>/reset</c> forgets the conversation. Ctrl+C stops the current reply.
/// </summary>
public sealed class ChatVerb : IHostVerb
{
    public string Name => "chat";
    public string Summary => "interactive chat with the model's chat template (one message per line of stdin)";

    public string Usage(string program) =>
        $"usage: {program} chat [options]\n\n" +
        "  reads one user message per line from stdin; /exit or EOF ends, /reset starts over\n" +
        "      --system TEXT       a system message first\n" +
        "      --chat-template F   this .jinja template instead of the model's tokenizer.chat_template\n" +
        "      --max-new N         at most N tokens per reply (default 512)\n" +
        SamplingArgs.Usage +
        ConstraintArgs.Usage +
        "      --ctx N             KV cache size in tokens (default: the spec's context, at most 4096)\n" +
        "  -t, --threads N         worker threads (default: all cores)\n" +
        "      --model PATH        weights file (default: <exe dir>/<model>.gguf)\n" +
        "  -q, --quiet             no prompt marker and no statistics on stderr\n";

    public int Run(HostContext context, ArgReader args)
    {
        context.ReadCommonOptions(args);
        bool quiet = args.Flag("-q", "--quiet");
        string? system = args.OptionOrNull("--system");
        string? templatePath = args.OptionOrNull("--chat-template");
        int maxNew = args.Int(512, "--max-new");
        var sampling = SamplingArgs.Read(args);
        var grammar = ConstraintArgs.Read(args);
        args.ThrowIfUnknown();
        if (maxNew < 1) throw new UsageException("--max-new must be >= 1");

        using var weights = context.OpenWeights();
        var template = ChatSession.LoadTemplate(weights, templatePath);
        var codec = HostContext.LoadTokenizer(weights);
        context.LoadModel(weights, 0);
        var generator = new TextGenerator(context.Causal, codec);
        var session = new ChatSession(template, generator);
        if (system is not null) session.AddSystem(system);
        var options = new GenerationOptions(maxNew, sampling) { StopAtBos = false, Grammar = grammar };
        var output = context.Out;
        var inv = CultureInfo.InvariantCulture;

        while (true)
        {
            if (!quiet) { context.Error.Write("> "); context.Error.Flush(); }
            string? line = context.In.ReadLine();
            if (line is null) break;
            line = line.TrimEnd('\r');
            if (line.Trim() is "/exit" or "/quit") break;
            if (line.Trim() == "/reset")
            {
                session = new ChatSession(template, generator);
                if (system is not null) session.AddSystem(system);
                continue;
            }
            if (line.Length == 0) continue;

            GenerationResult result;
            try
            {
                result = session.Reply(line, options, text => { output.Write(text); output.Flush(); }, context.Cancellation);
            }
            catch (Runtime.ContextOverflowException e)
            {
                output.Flush();
                context.Error.WriteLine($"{context.Program}: {e.Message}; /reset to start over");
                continue;
            }
            output.Write("\n\n");
            output.Flush();
            if (!quiet)
            {
                double tg = result.DecodeSeconds > 0 ? result.GeneratedTokens / result.DecodeSeconds : 0;
                context.Error.WriteLine(string.Format(inv, "[{0} prompt tokens, {1} from the cache; {2} generated, {3:F1} t/s; {4} of {5} context tokens used]",
                    result.PromptTokens, generator.ReusedPromptTokens, result.GeneratedTokens, tg, context.Causal.Position, context.Causal.ContextSize));
            }
            if (context.Cancellation.IsCancellationRequested) break;
            if (result.StopReason == StopReason.ContextFull)
            {
                context.Error.WriteLine($"{context.Program}: the context is full ({context.Causal.ContextSize} tokens); /reset or raise --ctx");
            }
        }
        return 0;
    }
}
