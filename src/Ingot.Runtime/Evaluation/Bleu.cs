using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Ingot.Runtime.Evaluation;

/// <summary>
/// Corpus BLEU as sacreBLEU 2.0.0 computes it (its BLEU, 13a tokenizer and n-gram code are unchanged through 2.6):
/// each segment is right-trimmed, optionally lowercased and tokenized (13a: mteval-v13a's rules); n-grams of orders
/// 1..4 are clipped by the most any one reference has; the reference length is the closest to the hypothesis's
/// (the shorter on a tie); the corpus sums decide the precisions, smoothed ("exp": NIST's, halving for each order with
/// no match), and the brevity penalty exp(1 − r/c) when c &lt; r. An empty reference line means that reference is
/// missing for the segment (nrefs:var in the signature), as in sacreBLEU 2.0.0.
/// </summary>
public sealed partial class Bleu
{
    public const string SacreBleuVersion = "2.0.0";
    private const int MaxOrder = 4;

    public enum Smoothing { Exp, Floor, AddK, None }

    public bool Lowercase { get; init; }

    /// <summary>"13a" (default) or "none" (split on whitespace only).</summary>
    public string Tokenizer { get; init; } = "13a";

    public Smoothing Smooth { get; init; } = Smoothing.Exp;

    /// <summary>floor's and add-k's value; null = sacreBLEU's default (0.1, 1).</summary>
    public double? SmoothValue { get; init; }

    /// <summary>The score and its parts, as sacreBLEU's BLEUScore holds them.</summary>
    public sealed record Score(double Value, long[] Correct, long[] Total, double[] Precisions, double BrevityPenalty, long HypLength, long RefLength, string Signature)
    {
        public double Ratio => RefLength == 0 ? 0 : (double)HypLength / RefLength;

        /// <summary>sacreBLEU's verbose part: "82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)".</summary>
        public string Verbose
        {
            get
            {
                var inv = CultureInfo.InvariantCulture;
                string precisions = string.Join("/", Precisions.Select(p => p.ToString("F1", inv)));
                return string.Create(inv, $"{precisions} (BP = {BrevityPenalty:F3} ratio = {Ratio:F3} hyp_len = {HypLength} ref_len = {RefLength})");
            }
        }

        /// <summary>sacreBLEU's text line: "BLEU|SIGNATURE = 48.53 " and the verbose part.</summary>
        public string Format(int width = 1) =>
            "BLEU|" + Signature + " = " + Value.ToString("F" + width, CultureInfo.InvariantCulture) + " " + Verbose;
    }

    /// <summary>
    /// Scores <paramref name="hypotheses"/> against reference streams (each as long as the hypotheses; an empty line is a
    /// missing reference for that segment).
    /// </summary>
    public Score CorpusScore(IReadOnlyList<string> hypotheses, IReadOnlyList<IReadOnlyList<string>> references)
    {
        ArgumentNullException.ThrowIfNull(hypotheses);
        ArgumentNullException.ThrowIfNull(references);
        if (references.Count == 0) throw new ArgumentException("at least one reference stream is needed", nameof(references));
        for (int r = 0; r < references.Count; r++)
            if (references[r].Count != hypotheses.Count)
                throw new ArgumentException($"reference stream {r + 1} has {references[r].Count} lines, the hypotheses {hypotheses.Count}", nameof(references));
        if (Tokenizer is not ("13a" or "none")) throw new ArgumentException($"tokenizer '{Tokenizer}': this BLEU has 13a and none", nameof(Tokenizer));
        var correct = new long[MaxOrder];
        var total = new long[MaxOrder];
        long hypLength = 0, refLength = 0;
        var counts = new HashSet<int>();
        var refNgrams = new Dictionary<string, int>(StringComparer.Ordinal);
        var refLengths = new List<int>();
        for (int s = 0; s < hypotheses.Count; s++)
        {
            refNgrams.Clear();
            refLengths.Clear();
            foreach (var stream in references)
            {
                string line = stream[s];
                if (line.Length == 0) continue; // a missing reference (sacreBLEU 2.0.0)
                var tokens = Words(Preprocess(line));
                refLengths.Add(tokens.Length);
                foreach (var (ngram, count) in Ngrams(tokens))
                    refNgrams[ngram] = Math.Max(refNgrams.GetValueOrDefault(ngram), count);
            }
            if (refLengths.Count == 0) throw new ArgumentException($"segment {s + 1} has no reference (every reference line is empty)", nameof(references));
            counts.Add(refLengths.Count);
            var hyp = Words(Preprocess(hypotheses[s]));
            hypLength += hyp.Length;
            refLength += ClosestLength(hyp.Length, refLengths);
            foreach (var (ngram, count) in Ngrams(hyp))
            {
                int n = Order(ngram) - 1;
                total[n] += count;
                if (refNgrams.TryGetValue(ngram, out int rc)) correct[n] += Math.Min(count, rc);
            }
        }
        string nrefs = counts.Count == 1 ? counts.First().ToString(CultureInfo.InvariantCulture) : "var";
        return Compute(correct, total, hypLength, refLength, Signature(nrefs));
    }

    /// <summary>sacreBLEU's BLEU signature (its long form).</summary>
    public string Signature(string nrefs)
    {
        string smooth = Smooth switch { Smoothing.Exp => "exp", Smoothing.Floor => "floor", Smoothing.AddK => "add-k", _ => "none" };
        double? value = Smooth switch { Smoothing.Floor => SmoothValue ?? 0.1, Smoothing.AddK => SmoothValue ?? 1, _ => null };
        if (value is double v) smooth += "[" + v.ToString("F2", CultureInfo.InvariantCulture) + "]";
        return $"nrefs:{nrefs}|case:{(Lowercase ? "lc" : "mixed")}|eff:no|tok:{Tokenizer}|smooth:{smooth}|version:{SacreBleuVersion}";
    }

    private Score Compute(long[] correct, long[] total, long hypLength, long refLength, string signature)
    {
        double bp = 1;
        if (hypLength < refLength) bp = hypLength > 0 ? Math.Exp(1 - (double)refLength / hypLength) : 0;
        var precisions = new double[MaxOrder];
        if (correct.All(c => c == 0)) return new Score(0, correct, total, precisions, bp, hypLength, refLength, signature);
        double k = SmoothValue ?? (Smooth == Smoothing.Floor ? 0.1 : 1);
        double halvings = 1;
        var c = correct.Select(x => (double)x).ToArray();
        var t = total.Select(x => (double)x).ToArray();
        for (int n = 0; n < MaxOrder; n++)
        {
            if (Smooth == Smoothing.AddK && n > 0) { c[n] += k; t[n] += k; }
            if (t[n] == 0) break;
            if (c[n] == 0)
            {
                if (Smooth == Smoothing.Exp) { halvings *= 2; precisions[n] = 100 / (halvings * t[n]); }
                else if (Smooth == Smoothing.Floor) precisions[n] = 100 * k / t[n];
            }
            else precisions[n] = 100 * c[n] / t[n];
        }
        double logSum = 0;
        foreach (double p in precisions) logSum += p == 0 ? -9999999999 : Math.Log(p);
        return new Score(bp * Math.Exp(logSum / MaxOrder), correct, total, precisions, bp, hypLength, refLength, signature);
    }

    private static int ClosestLength(int hyp, List<int> refs)
    {
        int bestDiff = -1, best = -1;
        foreach (int r in refs)
        {
            int diff = Math.Abs(hyp - r);
            if (bestDiff == -1 || diff < bestDiff) (bestDiff, best) = (diff, r);
            else if (diff == bestDiff && r < best) best = r;
        }
        return best;
    }

    private static int Order(string ngram)
    {
        int n = 1;
        foreach (char ch in ngram) if (ch == ' ') n++;
        return n;
    }

    /// <summary>Every n-gram of orders 1..4 with its count, keyed as its words joined by a space (words hold no spaces).</summary>
    private static Dictionary<string, int> Ngrams(string[] words)
    {
        var d = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int n = 1; n <= MaxOrder; n++)
            for (int i = 0; i + n <= words.Length; i++)
            {
                string key = string.Join(' ', words, i, n);
                d[key] = d.GetValueOrDefault(key) + 1;
            }
        return d;
    }

    /// <summary>Right-trimmed, lowercased when asked, tokenized.</summary>
    public string Preprocess(string segment)
    {
        string s = segment.TrimEnd(PythonWhitespace);
        if (Lowercase) s = s.ToLowerInvariant();
        return Tokenizer == "none" ? s : Tokenize13a(s);
    }

    /// <summary>mteval-v13a's tokenization, as sacreBLEU's Tokenizer13a and TokenizerRegexp apply it.</summary>
    public static string Tokenize13a(string line)
    {
        line = line.Replace("<skipped>", "").Replace("-\n", "").Replace("\n", " ");
        if (line.Contains('&')) line = line.Replace("&quot;", "\"").Replace("&amp;", "&").Replace("&lt;", "<").Replace("&gt;", ">");
        line = " " + line + " ";
        line = Symbols().Replace(line, " $1 ");
        line = PeriodCommaAfterNonDigit().Replace(line, "$1 $2 ");
        line = PeriodCommaBeforeNonDigit().Replace(line, " $1 $2");
        line = DashAfterDigit().Replace(line, "$1 $2 ");
        return string.Join(' ', Words(line));
    }

    /// <summary>Python's str.split(): runs of Unicode whitespace (str.isspace, which also counts U+001C..U+001F).</summary>
    private static string[] Words(string s) => s.Split(PythonWhitespace, StringSplitOptions.RemoveEmptyEntries);

    private static readonly char[] PythonWhitespace = BuildWhitespace();

    private static char[] BuildWhitespace()
    {
        var list = new List<char>();
        for (int c = 0; c <= 0xFFFF; c++)
            if (char.IsWhiteSpace((char)c) || c is >= 0x1C and <= 0x1F) list.Add((char)c);
        return list.ToArray();
    }

    [GeneratedRegex(@"([{-~\[-` -&(-+:-@/])")]
    private static partial Regex Symbols();

    [GeneratedRegex(@"([^0-9])([.,])")]
    private static partial Regex PeriodCommaAfterNonDigit();

    [GeneratedRegex(@"([.,])([^0-9])")]
    private static partial Regex PeriodCommaBeforeNonDigit();

    [GeneratedRegex(@"([0-9])(-)")]
    private static partial Regex DashAfterDigit();
}
