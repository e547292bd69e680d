using System.Globalization;
using System.Text;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Generation;
using Ingot.Runtime.Kernels;
using Ingot.Specs;

namespace Ingot.Host.Verbs;

/// <summary>
/// <c>embed TEXT… | --tokens IDS | --file F [--pooling none|mean|cls|last] [--normalize] [-o FILE]</c>: an encoder's
/// hidden states per input, pooled or per token. With -o the rows go to a file in the golden format (int32 rows,
/// int32 cols, float32[rows][cols], little-endian: every input's pooled row, or every token's row with pooling none);
/// without it one JSON line per input.
/// </summary>
public sealed class EmbedVerb : IHostVerb
{
    public string Name => "embed";
    public string Summary => "embeddings of texts or token ids (pooled or per token), as JSON lines or a binary file";

    public string Usage(string program) =>
        $"usage: {program} embed TEXT… | --tokens \"101 …\" | --file F [--pooling none|mean|cls|last] [--normalize] [--truncate] [-o FILE] [--model PATH] [-t N]\n\n" +
        "  TEXT              inputs (or -p TEXT); each is tokenized with [CLS] … [SEP] as the model adds them\n" +
        "  --tokens IDS      one input given as token ids, separated by spaces or commas (nothing is added)\n" +
        "  --file F          one text input per line\n" +
        "  --pooling P       none (a row per token), mean, cls (the first token) or last; default: the model file's\n" +
        "  --normalize       scale each output row to unit length (L2)\n" +
        "  --truncate        cut an input longer than the model takes instead of refusing it\n" +
        "  -o FILE           write int32 rows, int32 cols, float32[rows][cols] (little-endian) instead of JSON lines\n";

    public int Run(HostContext context, ArgReader args)
    {
        context.ReadCommonOptions(args);
        string? poolingName = args.OptionOrNull("--pooling");
        bool normalize = args.Flag("--normalize");
        string? output = args.OptionOrNull("-o", "--output");
        var source = EncoderInputs.Read(args);
        args.ThrowIfUnknown();
        PoolingKind? pooling = null;
        if (poolingName is not null)
        {
            if (!SpecNames.TryParse(poolingName, out PoolingKind p) || p == PoolingKind.Rank)
                throw new UsageException($"--pooling '{poolingName}': none, mean, cls or last");
            pooling = p;
        }

        using var weights = context.OpenWeights();
        context.LoadModel(weights, 0);
        var model = context.Encoder;
        var kind = pooling ?? model.Pooling;
        if (kind == PoolingKind.Rank) kind = PoolingKind.None; // a reranker's score needs its head; the hidden states are what is left

        var inputs = source.Tokenize(weights, model);
        int dim = model.HiddenSize;
        var rows = new List<float[]>();
        EncoderBatches.Run(model, inputs, withScores: false, (i, hidden, _) =>
        {
            int[] ids = inputs[i];
            var inputRows = new List<float[]>();
            if (kind == PoolingKind.None)
            {
                for (int t = 0; t < ids.Length; t++) inputRows.Add(hidden.Slice(t * dim, dim).ToArray());
            }
            else
            {
                var pooled = new float[dim];
                Pooling.Pool(kind, hidden, ids.Length, dim, pooled);
                inputRows.Add(pooled);
            }
            if (normalize) foreach (var r in inputRows) Pooling.Normalize(r);
            if (output is null) context.Out.WriteLine(JsonLine(i, ids, inputRows, kind));
            else rows.AddRange(inputRows);
        });
        if (output is not null)
        {
            MatrixFile.Write(output, rows.Count, dim, r => rows[r]);
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {rows.Count} x {dim} ({SpecNames.Of(kind)} pooling{(normalize ? ", normalized" : "")}) to {output}"));
        }
        return 0;
    }

    /// <summary>{"index":0,"tokens":[…],"embedding":[…]} (pooled) or {"index":0,"tokens":[…],"embeddings":[[…],…]} (pooling none).</summary>
    private static string JsonLine(int index, int[] ids, List<float[]> rows, PoolingKind kind)
    {
        var sb = new StringBuilder();
        sb.Append("{\"index\":").Append(index).Append(",\"tokens\":[").AppendJoin(',', ids).Append(']');
        if (kind == PoolingKind.None)
        {
            sb.Append(",\"embeddings\":[");
            for (int r = 0; r < rows.Count; r++)
            {
                if (r > 0) sb.Append(',');
                Row(sb, rows[r]);
            }
            sb.Append(']');
        }
        else
        {
            sb.Append(",\"embedding\":");
            Row(sb, rows[0]);
        }
        return sb.Append('}').ToString();
    }

    private static void Row(StringBuilder sb, float[] row)
    {
        sb.Append('[');
        for (int i = 0; i < row.Length; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(row[i].ToString("R", CultureInfo.InvariantCulture));
        }
        sb.Append(']');
    }
}
