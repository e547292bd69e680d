using Ingot.Formats;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Generation;
using Ingot.Runtime;

namespace Ingot.Host.Verbs;

/// <summary>
/// The inputs of an encoder verb, given one way: TEXT… (or -p TEXT), --tokens IDS (one input, nothing added) or
/// --file F (one text per line); texts are tokenized with the special tokens the model adds ([CLS] … [SEP]). An input
/// longer than the model takes is one error naming both lengths, or cut with --truncate.
/// </summary>
internal sealed class EncoderInputs
{
    private readonly string? _tokensText;
    private readonly List<string> _texts;
    private readonly bool _truncate;

    private EncoderInputs(string? tokensText, List<string> texts, bool truncate) => (_tokensText, _texts, _truncate) = (tokensText, texts, truncate);

    /// <summary>Reads --tokens, --file, --truncate, -p and the positional texts; call before ThrowIfUnknown.</summary>
    public static EncoderInputs Read(ArgReader args)
    {
        string? tokensText = args.OptionOrNull("--tokens");
        string? file = args.OptionOrNull("--file", "-f");
        bool truncate = args.Flag("--truncate");
        var texts = new List<string>(args.OptionValues("-p", "--prompt"));
        while (args.Positional() is { } t) texts.Add(t);
        int sources = (tokensText is null ? 0 : 1) + (file is null ? 0 : 1) + (texts.Count > 0 ? 1 : 0);
        if (sources == 0) throw new UsageException("missing input: TEXT, --tokens IDS or --file F");
        if (sources > 1) throw new UsageException("give the inputs one way: TEXT, --tokens or --file");
        if (file is not null) texts.AddRange(File.ReadAllLines(file));
        return new EncoderInputs(tokensText, texts, truncate);
    }

    /// <summary>Each input's ids, within what <paramref name="model"/> takes.</summary>
    public List<int[]> Tokenize(GgufFile weights, IEncoder model)
    {
        var inputs = new List<int[]>();
        if (_tokensText is not null) inputs.Add(LogitsVerb.ParseTokens(_tokensText));
        else
        {
            var codec = HostContext.LoadTokenizer(weights);
            foreach (var text in _texts) inputs.Add([.. codec.EncodePrompt(text)]);
        }
        EncoderBatches.Fit(inputs, model.MaxTokens, _truncate);
        return inputs;
    }
}
