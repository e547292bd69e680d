using System.Text;
using Ingot.Formats;
using Ingot.Host.CommandLine;
using Ingot.Host.Verbs;
using Ingot.Runtime;

namespace Ingot.Host;

/// <summary>
/// The whole <c>Main</c> of a compiled model executable: <c>return HostProgram.Run(new Model(), args);</c>.
/// Verbs are a fixed list (no reflection: the executable is NativeAOT-compiled and trimmed).
/// Every failure a user can cause is one line on stderr and exit code 1 (2 for a usage error); never a stack trace.
/// </summary>
public static class HostProgram
{
    /// <summary>The verbs a causal language model's executable serves, in help order.</summary>
    public static IReadOnlyList<IHostVerb> Verbs { get; } =
        [new GenerateVerb(), new ChatVerb(), new ServeVerb(), new TokenizeVerb(), new LogitsVerb(), new BenchVerb(), new PerplexityVerb(), new InfoVerb()];

    /// <summary>The verbs an encoder's executable serves, in help order.</summary>
    public static IReadOnlyList<IHostVerb> EncoderVerbs { get; } = [new EmbedVerb(), new ClassifyVerb(), new NerVerb(), new RerankVerb(), new TokenizeVerb(), new EncoderBenchVerb(), new InfoVerb()];

    /// <summary>The verbs an encoder–decoder's executable serves (T5: the prompt is the encoder's input).</summary>
    public static IReadOnlyList<IHostVerb> EncoderDecoderVerbs { get; } = [new GenerateVerb(), new TokenizeVerb(), new LogitsVerb(), new InfoVerb()];

    /// <summary>What the model's kind offers: an encoder's verbs, an encoder–decoder's, or a causal LM's.</summary>
    public static IReadOnlyList<IHostVerb> VerbsFor(IModel model) => model switch
    {
        IEncoder => EncoderVerbs,
        IEncoderDecoder => EncoderDecoderVerbs,
        _ => Verbs,
    };

    /// <summary>Runs against the process's console (UTF-8 out, flushed per token by the verbs); Ctrl+C stops generation cleanly.</summary>
    public static int Run(IModel model, string[] args)
    {
        IsaDispatch.Launch(args); // an --isa auto launcher becomes its best sibling here
        var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 14) { AutoFlush = false };
        var stderr = new StreamWriter(Console.OpenStandardError(), new UTF8Encoding(false)) { AutoFlush = true };
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // The first Ctrl+C ends generation cleanly; a second one kills the process as usual.
            if (cancel.IsCancellationRequested) return;
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return Run(model, args, stdout, stderr, cancel.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            stdout.Flush();
        }
    }

    /// <summary>Runs with the given writers (tests call this in-process).</summary>
    public static int Run(IModel model, string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct = default, TextReader? stdin = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(args);
        string program = SafeName(model);
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            (args.Length == 0 ? stderr : stdout).Write(MainUsage(program, VerbsFor(model)));
            return args.Length == 0 ? 2 : 0;
        }

        IHostVerb? verb = null;
        foreach (var v in VerbsFor(model)) if (v.Name == args[0]) verb = v;
        if (verb is null)
        {
            stderr.WriteLine($"{program}: unknown verb '{OneLine(args[0])}' ({program} --help lists them)");
            return 2;
        }

        var reader = new ArgReader(args[1..]);
        if (reader.WantsHelp)
        {
            stdout.Write(verb.Usage(program));
            return 0;
        }

        try
        {
            var context = new HostContext(model, program, stdout, stderr, ct) { In = stdin ?? Console.In };
            int code = verb.Run(context, reader);
            stdout.Flush();
            return code;
        }
        catch (UsageException e)
        {
            Flush(stdout);
            stderr.WriteLine($"{program} {verb.Name}: {OneLine(e.Message)} ({program} {verb.Name} --help for usage)");
            return 2;
        }
        catch (Exception e) when (e is InvalidModelFileException or WeightMismatchException or ContextOverflowException or Runtime.Chat.ChatTemplateException
                                      or IOException or UnauthorizedAccessException or InvalidDataException
                                      or NotSupportedException or ArgumentException or OperationCanceledException)
        {
            Flush(stdout);
            stderr.WriteLine($"{program} {verb.Name}: {OneLine(e.Message)}");
            return 1;
        }
        catch (Exception e)
        {
            // Not a user error, but still no stack trace: name the exception so it can be reported.
            Flush(stdout);
            stderr.WriteLine($"{program} {verb.Name}: internal error: {e.GetType().Name}: {OneLine(e.Message)}");
            return 1;
        }
    }

    public static string MainUsage(string program) => MainUsage(program, Verbs);

    public static string MainUsage(string program, IReadOnlyList<IHostVerb> verbs)
    {
        var sb = new StringBuilder();
        sb.Append(program).Append(" — a compiled language model (Ingot)\n\n");
        sb.Append("usage: ").Append(program).Append(" VERB [options]   (").Append(program).Append(" VERB --help for details)\n\n");
        foreach (var v in verbs) sb.Append("  ").Append(v.Name.PadRight(10)).Append(' ').Append(v.Summary).Append('\n');
        sb.Append("\ncommon options: --model PATH (default: <exe dir>/<model>.gguf)  --ctx N (KV cache tokens)  -t N (threads)\n" +
                  "                --no-swa (full attention on every layer: ignore the spec's sliding window, as llama.cpp does for llama)\n" +
                  "                --kv-type f16|f32 (KV cache elements, default f16 as llama.cpp's: half the bytes per position; f32 keeps them as computed)\n" +
                  "                --mmap (leave the weights file mapped in 4 KB pages; by default it is read into memory in 2 MB pages where\n" +
                  "                Linux grants them and it takes at most 3/4 of the available memory: decode reads the weights faster)\n");
        return sb.ToString();
    }

    /// <summary>Collapses a message to one line (messages from deep inside may carry newlines).</summary>
    internal static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();

    private static string SafeName(IModel model)
    {
        try { return model.Description.Name; }
        catch (Exception) { return "model"; }
    }

    private static void Flush(TextWriter w)
    {
        try { w.Flush(); } catch (IOException) { }
    }
}
