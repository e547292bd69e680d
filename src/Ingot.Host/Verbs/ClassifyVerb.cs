using System.Globalization;
using System.Text;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Generation;

namespace Ingot.Host.Verbs;

/// <summary>
/// <c>classify TEXT… | --tokens IDS | --file F [--all]</c>: a sequence classifier's label and probability per input (the
/// softmax of its head's scores), one JSON line each; <c>--all</c> gives every label, most probable first. The label names
/// are the model file's {arch}.classifier.output_labels.
/// </summary>
public sealed class ClassifyVerb : IHostVerb
{
    public string Name => "classify";
    public string Summary => "the label and probability of each input (a sequence classifier's head)";

    public string Usage(string program) =>
        $"usage: {program} classify TEXT… | --tokens \"101 …\" | --file F [--all] [--truncate] [--model PATH] [-t N]\n\n" +
        "  TEXT           inputs (or -p TEXT), tokenized with [CLS] … [SEP] as the model adds them\n" +
        "  --tokens IDS   one input as token ids (nothing is added)\n" +
        "  --file F       one text input per line\n" +
        "  --all          every label with its probability, most probable first\n" +
        "  --truncate     cut an input longer than the model takes instead of refusing it\n";

    public int Run(HostContext context, ArgReader args)
    {
        context.ReadCommonOptions(args);
        bool all = args.Flag("--all");
        var source = EncoderInputs.Read(args);
        args.ThrowIfUnknown();

        using var weights = context.OpenWeights();
        context.LoadModel(weights, 0);
        var model = context.Encoder;
        if (model.TokenScores)
            throw new NotSupportedException($"{context.Program} is a token classifier (its head scores every token), not a sequence classifier");
        if (model.ScoreCount < 2)
            throw new NotSupportedException(model.ScoreCount == 1
                ? $"{context.Program} has one output (a reranker's score): use rerank"
                : $"{context.Program} has no classification head (its pooling is '{Specs.SpecNames.Of(model.Pooling)}')");
        string key = model.Description.Architecture + ".classifier.output_labels";
        string[] labels = weights.TryGetArray<string>(key, out var names) ? names
            : throw new Formats.InvalidModelFileException(weights.Path, $"metadata key '{key}'", null, "missing: classify needs the label names");
        if (labels.Length != model.ScoreCount)
            throw new Formats.InvalidModelFileException(weights.Path, $"metadata key '{key}'", weights.GetMetadataOffset(key),
                $"{labels.Length} labels, but the head has {model.ScoreCount} outputs");

        var inputs = source.Tokenize(weights, model);
        var probs = new double[model.ScoreCount];
        EncoderBatches.Run(model, inputs, withScores: true, (i, _, scores) =>
        {
            Softmax(scores, probs);
            int[] order = [.. Enumerable.Range(0, probs.Length).OrderByDescending(k => probs[k]).ThenBy(k => k)];
            var sb = new StringBuilder();
            sb.Append("{\"index\":").Append(i).Append(",\"label\":").Append(Json(labels[order[0]]))
              .Append(",\"probability\":").Append(probs[order[0]].ToString("R", CultureInfo.InvariantCulture));
            if (all)
            {
                sb.Append(",\"labels\":[");
                for (int k = 0; k < order.Length; k++)
                {
                    if (k > 0) sb.Append(',');
                    sb.Append("{\"label\":").Append(Json(labels[order[k]])).Append(",\"probability\":").Append(probs[order[k]].ToString("R", CultureInfo.InvariantCulture))
                      .Append(",\"score\":").Append(scores[order[k]].ToString("R", CultureInfo.InvariantCulture)).Append('}');
                }
                sb.Append(']');
            }
            context.Out.WriteLine(sb.Append('}').ToString());
        });
        return 0;
    }

    /// <summary>p = softmax(scores) in double, the maximum subtracted first.</summary>
    internal static void Softmax(ReadOnlySpan<float> scores, Span<double> p)
    {
        double max = double.NegativeInfinity, sum = 0;
        foreach (float s in scores) max = Math.Max(max, s);
        for (int k = 0; k < scores.Length; k++) sum += p[k] = Math.Exp(scores[k] - max);
        for (int k = 0; k < scores.Length; k++) p[k] /= sum;
    }

    internal static string Json(string s) => "\"" + System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping.Encode(s) + "\"";
}
