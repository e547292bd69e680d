using System.Globalization;
using System.Text;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Generation;
using Ingot.Runtime.Tokenization;

namespace Ingot.Host.Verbs;

/// <summary>
/// <c>ner TEXT… | --file F</c>: a token classifier's entities per input, one JSON line each: every token gets its most
/// probable label (softmax of its scores); B-X starts an entity of type X, I-X continues one of type X (or starts it),
/// anything else ends it; an entity carries its text and character span in the input (from the tokenizer's offsets)
/// and the mean probability of its tokens. Labels without a B-/I- prefix other than O are entities of one token type each.
/// </summary>
public sealed class NerVerb : IHostVerb
{
    public string Name => "ner";
    public string Summary => "named entities of each text with their character spans (a token classifier's head)";

    public string Usage(string program) =>
        $"usage: {program} ner TEXT… | --file F [--truncate] [--model PATH] [-t N]\n\n" +
        "  TEXT           inputs (or -p TEXT); entities come with start/end character offsets into each\n" +
        "  --file F       one input per line\n" +
        "  --truncate     cut an input longer than the model takes instead of refusing it\n";

    public sealed record Entity(string Label, string Text, int Start, int End, double Score);

    public int Run(HostContext context, ArgReader args)
    {
        context.ReadCommonOptions(args);
        string? file = args.OptionOrNull("--file", "-f");
        bool truncate = args.Flag("--truncate");
        var texts = new List<string>(args.OptionValues("-p", "--prompt"));
        while (args.Positional() is { } t) texts.Add(t);
        args.ThrowIfUnknown();
        if (file is not null) texts.AddRange(File.ReadAllLines(file));
        if (texts.Count == 0) throw new UsageException("missing input: TEXT or --file F");

        using var weights = context.OpenWeights();
        context.LoadModel(weights, 0);
        var model = context.Encoder;
        if (!model.TokenScores)
            throw new NotSupportedException($"{context.Program} is not a token classifier (its head, if any, scores the whole input): use classify");
        string key = model.Description.Architecture + ".classifier.output_labels";
        string[] labels = weights.TryGetArray<string>(key, out var names) && names.Length == model.ScoreCount ? names
            : throw new Formats.InvalidModelFileException(weights.Path, $"metadata key '{key}'", null, $"missing or not {model.ScoreCount} names: ner needs the label names");
        var tokenizer = TokenizerCodec.FromGguf(weights).Tokenizer as WordPieceTokenizer
            ?? throw new NotSupportedException("ner needs the character offsets of a WordPiece (BERT) vocabulary");

        var tokens = texts.Select(t => tokenizer.EncodeWithOffsets(t)).ToList();
        var ids = tokens.Select(t => t.Select(x => x.Id).ToArray()).ToList();
        EncoderBatches.Fit(ids, model.MaxTokens, truncate);
        for (int i = 0; i < tokens.Count; i++)
            if (tokens[i].Count > ids[i].Length) tokens[i] = [.. tokens[i].Take(ids[i].Length)]; // --truncate cut the ids: the spans follow
        EncoderBatches.Run(model, ids, withScores: true, (i, _, scores) =>
        {
            var entities = Group(texts[i], tokens[i], scores, labels, tokenizer);
            var sb = new StringBuilder("{\"index\":").Append(i).Append(",\"entities\":[");
            for (int e = 0; e < entities.Count; e++)
            {
                var en = entities[e];
                if (e > 0) sb.Append(',');
                sb.Append("{\"label\":").Append(ClassifyVerb.Json(en.Label)).Append(",\"text\":").Append(ClassifyVerb.Json(en.Text))
                  .Append(",\"start\":").Append(en.Start).Append(",\"end\":").Append(en.End)
                  .Append(",\"score\":").Append(en.Score.ToString("R", CultureInfo.InvariantCulture)).Append('}');
            }
            context.Out.WriteLine(sb.Append("]}").ToString());
        });
        return 0;
    }

    /// <summary>BIO/IOB2 grouping of the tokens' argmax labels into entities (special tokens, with empty or control spans, are skipped).</summary>
    public static List<Entity> Group(string text, IReadOnlyList<(int Id, int Start, int End)> tokens, ReadOnlySpan<float> scores, string[] labels, Tokenizer tokenizer)
    {
        int k = labels.Length;
        var entities = new List<Entity>();
        string? type = null;
        int start = 0, end = 0;
        double sum = 0;
        int count = 0;
        void Close()
        {
            if (type is not null) entities.Add(new Entity(type, text[start..end], start, end, sum / count));
            type = null;
        }
        var p = new double[k];
        for (int t = 0; t < tokens.Count; t++)
        {
            var (id, s, e) = tokens[t];
            if (e <= s || id == tokenizer.BosTokenId || id == tokenizer.EosTokenId) { Close(); continue; }
            ClassifyVerb.Softmax(scores.Slice(t * k, k), p);
            int best = 0;
            for (int j = 1; j < k; j++) if (p[j] > p[best]) best = j;
            string label = labels[best];
            string prefix = label.Length > 2 && label[1] == '-' ? label[..2] : "";
            string kind = prefix.Length > 0 ? label[2..] : label;
            if (label == "O") { Close(); continue; }
            bool continues = type == kind && prefix == "I-";
            if (!continues)
            {
                Close();
                (type, start, sum, count) = (kind, s, 0, 0);
            }
            end = e;
            sum += p[best];
            count++;
        }
        Close();
        return entities;
    }
}
