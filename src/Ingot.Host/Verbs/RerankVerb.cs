using System.Globalization;
using System.Text;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Generation;

namespace Ingot.Host.Verbs;

/// <summary>
/// <c>rerank --query Q DOC… | --file F | --tokens IDS</c>: a reranker's relevance score per document, one JSON line each
/// in the order given. Each pair is laid out as llama.cpp's server does (format_rerank): BOS, the query, EOS, SEP, the
/// document, EOS; the score is the model's head on the first row.
/// </summary>
public sealed class RerankVerb : IHostVerb
{
    public string Name => "rerank";
    public string Summary => "relevance score of each document for a query (a reranker's head)";

    public string Usage(string program) =>
        $"usage: {program} rerank --query Q DOC… | --query Q --file F | --tokens \"101 …\" [--truncate] [--model PATH] [-t N]\n\n" +
        "  --query Q    the query; each DOC (or each line of --file F) is scored against it\n" +
        "  --tokens IDS one input already laid out (BOS q EOS SEP doc EOS), as token ids\n" +
        "  --truncate   cut a pair longer than the model takes instead of refusing it\n";

    public int Run(HostContext context, ArgReader args)
    {
        context.ReadCommonOptions(args);
        string? query = args.OptionOrNull("--query", "-q");
        string? tokensText = args.OptionOrNull("--tokens");
        string? file = args.OptionOrNull("--file", "-f");
        bool truncate = args.Flag("--truncate");
        var docs = new List<string>();
        while (args.Positional() is { } d) docs.Add(d);
        args.ThrowIfUnknown();
        if (tokensText is not null && (query is not null || file is not null || docs.Count > 0))
            throw new UsageException("--tokens is one laid-out input: give no --query or documents with it");
        if (tokensText is null && query is null) throw new UsageException("missing --query Q (or --tokens IDS)");
        if (file is not null) docs.AddRange(File.ReadAllLines(file));
        if (tokensText is null && docs.Count == 0) throw new UsageException("missing documents: DOC… or --file F");

        using var weights = context.OpenWeights();
        context.LoadModel(weights, 0);
        var model = context.Encoder;
        if (model.ScoreCount != 1 || model.TokenScores)
            throw new NotSupportedException($"{context.Program} has no reranking head (its pooling is '{Specs.SpecNames.Of(model.Pooling)}'; a reranker's is 'rank')");

        var inputs = new List<int[]>();
        if (tokensText is not null) inputs.Add(LogitsVerb.ParseTokens(tokensText));
        else
        {
            var tokenizer = TokenizerCodec.FromGguf(weights).Tokenizer;
            int bos = tokenizer.BosTokenId ?? throw new InvalidDataException("the tokenizer has no BOS ([CLS]) token");
            int eos = tokenizer.EosTokenId ?? throw new InvalidDataException("the tokenizer has no EOS ([SEP]) token");
            int sep = weights.TryGetInt("tokenizer.ggml.seperator_token_id", out long s) ? (int)s : eos;
            var q = tokenizer.Tokenize(query!, addSpecialTokens: false);
            foreach (var doc in docs) inputs.Add([bos, .. q, eos, sep, .. tokenizer.Tokenize(doc, addSpecialTokens: false), eos]);
        }

        EncoderBatches.Fit(inputs, model.MaxTokens, truncate);
        EncoderBatches.Run(model, inputs, withScores: true, (i, _, score) =>
        {
            var sb = new StringBuilder();
            sb.Append("{\"index\":").Append(i).Append(",\"score\":").Append(score[0].ToString("R", CultureInfo.InvariantCulture));
            if (tokensText is null) sb.Append(",\"document\":").Append(ClassifyVerb.Json(docs[i]));
            context.Out.WriteLine(sb.Append('}').ToString());
        });
        return 0;
    }

}
