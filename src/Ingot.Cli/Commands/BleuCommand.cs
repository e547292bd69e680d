using System.Globalization;
using System.Text.Json;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Evaluation;

namespace Ingot.Cli.Commands;

/// <summary>
/// <c>ingot bleu --hyp FILE --ref FILE [--ref FILE…]</c>: corpus BLEU as sacreBLEU computes it (<see cref="Bleu"/>),
/// printed as sacreBLEU's text line (signature, score, n-gram precisions, brevity penalty, lengths), or its JSON.
/// </summary>
public sealed class BleuCommand : ICliCommand
{
    public string Name => "bleu";
    public string Summary => "corpus BLEU of a hypothesis file against reference files, as sacreBLEU computes and prints it";

    public string Usage =>
        "usage: ingot bleu --hyp FILE --ref FILE [--ref FILE…] [-lc] [--tokenize 13a|none] [--smooth-method exp|floor|add-k|none]\n" +
        "                  [--smooth-value V] [-w N] [-f text|json]\n\n" +
        "  --hyp, -i FILE     the system output, one segment per line (UTF-8); '-' reads stdin\n" +
        "  --ref, -r FILE     a reference stream, line for line with the hypotheses; repeat for more references\n" +
        "                     (an empty line is a missing reference for that segment: nrefs:var)\n" +
        "  -lc, --lowercase   lowercase hypotheses and references first (case:lc)\n" +
        "  --tokenize, -tok T 13a (default, mteval-v13a) or none\n" +
        "  --smooth-method M  exp (default), floor, add-k or none\n" +
        "  --smooth-value V   floor's value (default 0.1) or add-k's (default 1)\n" +
        "  -w, --width N      decimals of the score (default 1, as sacreBLEU's command line; its Python API prints 2)\n" +
        "  -f, --format F     text (default): sacreBLEU's text line; json: its JSON object\n";

    public int Run(string[] args) => Run(args, Console.In, Console.Out);

    public int Run(string[] args, TextReader input, TextWriter output)
    {
        var a = new ArgReader(args);
        string hypPath = a.OptionOrNull("--hyp", "-i", "--input") ?? throw new UsageException("missing --hyp FILE (the system output)");
        var refPaths = a.OptionValues("--ref", "-r");
        bool lowercase = a.Flag("-lc", "--lowercase");
        string tokenizer = a.OptionOr("13a", "--tokenize", "-tok");
        string smooth = a.OptionOr("exp", "--smooth-method", "-s");
        float? smoothValue = a.FloatOrNull("--smooth-value", "-sv");
        int width = a.Int(1, "-w", "--width");
        string format = a.OptionOr("text", "-f", "--format");
        a.ThrowIfUnknown();
        if (refPaths.Count == 0) throw new UsageException("missing --ref FILE (at least one reference stream)");
        if (tokenizer is not ("13a" or "none")) throw new UsageException($"--tokenize {tokenizer}: this BLEU has 13a and none");
        if (width is < 0 or > 10) throw new UsageException("--width must be 0..10");
        if (format is not ("text" or "json")) throw new UsageException("--format must be text or json");
        var method = smooth switch
        {
            "exp" => Bleu.Smoothing.Exp, "floor" => Bleu.Smoothing.Floor, "add-k" => Bleu.Smoothing.AddK, "none" => Bleu.Smoothing.None,
            _ => throw new UsageException($"--smooth-method {smooth}: exp, floor, add-k or none"),
        };
        if (smoothValue is not null && method is not (Bleu.Smoothing.Floor or Bleu.Smoothing.AddK))
            throw new UsageException("--smooth-value is for --smooth-method floor or add-k");

        var hyps = Lines(hypPath, input);
        var refs = new List<IReadOnlyList<string>>();
        foreach (string path in refPaths)
        {
            var lines = Lines(path, input);
            if (lines.Count != hyps.Count) throw new UsageException($"{path} has {lines.Count} lines, {hypPath} {hyps.Count}: a reference file holds one line per hypothesis");
            refs.Add(lines);
        }
        var bleu = new Bleu { Lowercase = lowercase, Tokenizer = tokenizer, Smooth = method, SmoothValue = smoothValue };
        Bleu.Score score;
        try { score = bleu.CorpusScore(hyps, refs); }
        catch (ArgumentException e) { throw new UsageException(e.Message.Split(" (Parameter")[0]); }
        if (format == "text")
        {
            output.WriteLine(score.Format(width));
            output.Flush();
            return 0;
        }
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("name", "BLEU");
            w.WriteNumber("score", Math.Round(score.Value, width));
            w.WriteString("signature", score.Signature);
            w.WriteString("verbose_score", score.Verbose);
            foreach (string pair in score.Signature.Split('|'))
            {
                int colon = pair.IndexOf(':');
                w.WriteString(pair[..colon], pair[(colon + 1)..]);
            }
            w.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        output.Flush();
        return 0;
    }

    /// <summary>The file's lines (UTF-8; '-' is stdin), without their line ends.</summary>
    private static List<string> Lines(string path, TextReader input)
    {
        if (path != "-") return [.. File.ReadAllLines(path)];
        var lines = new List<string>();
        while (input.ReadLine() is { } line) lines.Add(line);
        return lines;
    }
}
