using System.Globalization;
using Ingot.Host.CommandLine;

namespace Ingot.Host.Verbs;

/// <summary>
/// <c>logits --tokens "1 2 3" -o FILE</c>: one prefill, every row of logits, to a file:
/// int32 rows, int32 cols, then float32[rows][cols], all little-endian.
/// </summary>
public sealed class LogitsVerb : IHostVerb
{
    public string Name => "logits";
    public string Summary => "write the logits of every position of a token sequence to a file";

    public string Usage(string program) =>
        $"usage: {program} logits --tokens \"1 2 3\" [--decoder-tokens \"0 4 5\"] -o FILE [--model PATH] [--ctx N] [-t N]\n\n" +
        "  --tokens IDS   token ids, separated by spaces or commas (no BOS is added); an encoder–decoder's encoder input\n" +
        "  --decoder-tokens IDS  an encoder–decoder's decoder input (its rows are written)\n" +
        "  -o FILE        output: int32 rows, int32 cols, float32[rows][cols], little-endian\n";

    public int Run(HostContext context, ArgReader args)
    {
        context.ReadCommonOptions(args);
        string tokensText = args.OptionOrNull("--tokens") ?? throw new UsageException("missing --tokens \"ID ID …\"");
        string? decoderText = args.OptionOrNull("--decoder-tokens");
        string output = args.OptionOrNull("-o", "--output") ?? throw new UsageException("missing -o FILE");
        args.ThrowIfUnknown();

        int[] tokens = ParseTokens(tokensText);
        bool encoderDecoder = context.Model is Runtime.IEncoderDecoder;
        if (encoderDecoder && decoderText is null) throw new UsageException("an encoder–decoder needs --decoder-tokens (the decoder's input) besides --tokens (the encoder's)");
        if (!encoderDecoder && decoderText is not null) throw new UsageException("--decoder-tokens is for an encoder–decoder; this model has one stack");
        int[] input = tokens;
        if (decoderText is not null) tokens = ParseTokens(decoderText);
        using var weights = context.OpenWeights();
        context.LoadModel(weights, tokens.Length);
        var model = context.Causal;
        int cols = model.VocabSize;
        foreach (int t in tokens)
            if ((uint)t >= (uint)cols) throw new UsageException($"token {t} is outside the vocabulary (0..{cols - 1})");
        if (tokens.Length > model.ContextSize)
            throw new Runtime.ContextOverflowException($"{tokens.Length} tokens do not fit a context of {model.ContextSize}; raise --ctx");

        var logits = new float[checked(tokens.Length * cols)]; // (rows, vocab)
        model.Reset();
        if (model is Runtime.IEncoderDecoder ed)
        {
            foreach (int t in input)
                if ((uint)t >= (uint)cols) throw new UsageException($"token {t} is outside the vocabulary (0..{cols - 1})");
            ed.Encode(input);
        }
        model.Prefill(tokens, logits);

        MatrixFile.Write(output, tokens.Length, cols, r => logits.AsMemory(r * cols, cols));
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {tokens.Length} x {cols} logits to {output}"));
        return 0;
    }

    internal static int[] ParseTokens(string text)
    {
        var parts = text.Split([' ', ',', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new UsageException("--tokens is empty");
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out ids[i]))
                throw new UsageException($"--tokens: '{parts[i]}' is not a token id");
        return ids;
    }
}
