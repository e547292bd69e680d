using System.Text;
using Ingot.Host.CommandLine;

namespace Ingot.Host.Verbs;

/// <summary><c>tokenize TEXT</c>: the ids generation would feed, on one line (BOS as the model adds it).</summary>
public sealed class TokenizeVerb : IHostVerb
{
    public string Name => "tokenize";
    public string Summary => "print the token ids of a text (with BOS as the model adds it)";

    public string Usage(string program) =>
        $"usage: {program} tokenize TEXT [--model PATH]\n\n" +
        "  TEXT           the text (or -p TEXT)\n" +
        "  --model PATH   weights file whose tokenizer to use (default: <exe dir>/<model>.gguf)\n";

    public int Run(HostContext context, ArgReader args)
    {
        context.ReadCommonOptions(args);
        string? text = args.OptionOrNull("-p", "--prompt") ?? args.Positional();
        args.ThrowIfUnknown();
        if (text is null) throw new UsageException("missing TEXT");

        using var weights = context.OpenWeights();
        var codec = HostContext.LoadTokenizer(weights); // no weights bound: only the vocabulary is read
        var ids = codec.EncodePrompt(text);
        var sb = new StringBuilder(ids.Count * 6);
        for (int i = 0; i < ids.Count; i++)
        {
            if (i > 0) sb.Append(' ');
            sb.Append(ids[i]);
        }
        context.Out.WriteLine(sb.ToString());
        return 0;
    }
}
