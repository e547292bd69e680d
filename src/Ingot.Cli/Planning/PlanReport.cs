using System.Globalization;
using System.Text;
using Ingot.Formats;

namespace Ingot.Cli.Planning;

/// <summary>A planned option with its predictions on this machine.</summary>
public sealed record PlanRow(PlanOption Option, double DecodeTps, double? PrefillTps, bool Fits, double? Perplexity = null);

/// <summary>
/// The predictions and their output: decode t/s from the bytes read per token at the bandwidth measured now and the
/// fraction of it today's kernels reach, plus a per-layer cost (<see cref="DecodeSeconds"/>, from a calibration run); prefill t/s = the type's measured
/// rows-kernel rate ÷ multiply-accumulates per token (every weight but token_embd's). The Markdown table and the SVG
/// (decode t/s against RAM, one labelled point per option).
/// </summary>
public static class PlanReport
{
    /// <summary>
    /// Decode seconds per token: the bytes a token reads at the rate the type's decode kernel streams from memory on this
    /// machine now (<see cref="MachineProbe.DecodeStreamRate"/>), times the ratio a whole model reaches of that rate, plus a
    /// fixed cost per layer (the fork/join of each op, norms, attention). The ratio and the per-layer cost come from a
    /// calibration run on this machine type (Zen 5, 2 threads): `bench -p 0 -n 64 -r 3 -t 2` of ingot synth files of the
    /// stories110M shape (12 layers) and the Llama-3.2-1B shape (16 layers) in the same minutes as the probe; two sizes,
    /// two unknowns per type.
    /// </summary>
    public static double DecodeSeconds(PlanOption o, double streamGbps) =>
        o.BytesPerToken / (streamGbps * 1e9 * StreamFraction(o.MainType)) + o.Model.Spec.Layers * PerLayerSeconds(o.MainType);

    // A whole model streams faster than the probe's bare kernel loop (its quads prefetch the next tile's rows, and the
    // two threads overlap their ops), so the ratios are above 1.
    private static double StreamFraction(GgmlType main) => main switch
    {
        GgmlType.Q4_0 => 1.56,
        GgmlType.Q4_K => 1.09,
        _ => 1.18, // Q8_0 (and F16/BF16, probed as Q8_0)
    };

    private static double PerLayerSeconds(GgmlType main) => main switch
    {
        GgmlType.Q4_0 => 41e-6,
        GgmlType.Q4_K => 16e-6,
        _ => 9e-6,
    };

    /// <summary>The table; <paramref name="pplHeader"/> (when not null) adds a perplexity column under that header.</summary>
    public static string Markdown(IReadOnlyList<PlanRow> rows, int ctx, double bandwidth, IReadOnlyDictionary<GgmlType, double> streams, long available, string? pplHeader = null)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(string.Create(inv, $"Read bandwidth {bandwidth:F1} GB/s (measured now); decode kernels stream {string.Join(", ", streams.Select(kv => GgmlTypeTraits.Name(kv.Key) + " " + kv.Value.ToString("F1", inv)))} GB/s; {available / 1e9:F1} GB of memory available; KV cache of {ctx} tokens (f32).\n\n"));
        sb.Append("| model | type | params | file | RAM | decode t/s | prefill t/s | fits |" + (pplHeader is null ? "" : " " + pplHeader + " |") + "\n");
        sb.Append("|---|---|---:|---:|---:|---:|---:|---|" + (pplHeader is null ? "" : "---:|") + "\n");
        foreach (var r in rows)
        {
            var o = r.Option;
            sb.Append(string.Create(inv, $"| {o.Model.Name} | {o.TypeName} | {Count(o.Model.Parameters)} | {Size(o.FileBytes)} | {Size(o.RamBytes)} | {r.DecodeTps:F1} | {(r.PrefillTps is double p ? p.ToString("F0", inv) : "—")} | {(r.Fits ? "yes" : "no")} |{(pplHeader is null ? "" : " " + (r.Perplexity is double ppl ? ppl.ToString("F4", inv) : "—") + " |")}\n"));
        }
        return sb.ToString();
    }

    public static string Count(long n) => n >= 1_000_000_000 ? (n / 1e9).ToString("F2", CultureInfo.InvariantCulture) + " B"
        : n >= 1_000_000 ? (n / 1e6).ToString("F1", CultureInfo.InvariantCulture) + " M"
        : (n / 1e3).ToString("F1", CultureInfo.InvariantCulture) + " K";

    public static string Size(long bytes) => bytes >= 1L << 30 ? (bytes / (double)(1L << 30)).ToString("F2", CultureInfo.InvariantCulture) + " GiB"
        : (bytes / (double)(1L << 20)).ToString("F1", CultureInfo.InvariantCulture) + " MiB";

    /// <summary>Decode t/s (log scale) against RAM (log scale), one labelled point per option; a dashed line at the memory available.</summary>
    public static string Svg(IReadOnlyList<PlanRow> rows, long available)
    {
        var inv = CultureInfo.InvariantCulture;
        const double W = 800, H = 520, L = 80, R = 30, T = 40, B = 60;
        double minX = rows.Min(r => r.Option.RamBytes) / 1.5, maxX = Math.Max(rows.Max(r => r.Option.RamBytes), Math.Min(available, rows.Max(r => r.Option.RamBytes) * 4)) * 1.5;
        double minY = rows.Min(r => r.DecodeTps) / 1.5, maxY = rows.Max(r => r.DecodeTps) * 1.5;
        double X(double v) => L + (Math.Log10(v) - Math.Log10(minX)) / (Math.Log10(maxX) - Math.Log10(minX)) * (W - L - R);
        double Y(double v) => H - B - (Math.Log10(v) - Math.Log10(minY)) / (Math.Log10(maxY) - Math.Log10(minY)) * (H - T - B);
        string F(double v) => v.ToString("F1", inv);
        var sb = new StringBuilder();
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append($"<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n");
        sb.Append($"<text x=\"{W / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">Decode speed against memory (ingot plan)</text>\n");
        sb.Append($"<line x1=\"{L}\" y1=\"{H - B}\" x2=\"{W - R}\" y2=\"{H - B}\" stroke=\"black\"/><line x1=\"{L}\" y1=\"{T}\" x2=\"{L}\" y2=\"{H - B}\" stroke=\"black\"/>\n");
        foreach (double tick in Ticks(minX, maxX))
            sb.Append($"<line x1=\"{F(X(tick))}\" y1=\"{H - B}\" x2=\"{F(X(tick))}\" y2=\"{H - B + 5}\" stroke=\"black\"/><text x=\"{F(X(tick))}\" y=\"{H - B + 18}\" text-anchor=\"middle\">{Decimal(tick)}</text>\n");
        foreach (double tick in Ticks(minY, maxY))
            sb.Append($"<line x1=\"{L - 5}\" y1=\"{F(Y(tick))}\" x2=\"{L}\" y2=\"{F(Y(tick))}\" stroke=\"black\"/><text x=\"{L - 8}\" y=\"{F(Y(tick) + 4)}\" text-anchor=\"end\">{(tick >= 1 ? tick.ToString("F0", inv) : tick.ToString("G3", inv))}</text>\n");
        sb.Append($"<text x=\"{(L + W - R) / 2}\" y=\"{H - 15}\" text-anchor=\"middle\">RAM (weights + KV cache + buffers)</text>\n");
        sb.Append($"<text x=\"18\" y=\"{(T + H - B) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {(T + H - B) / 2})\">predicted decode tokens/s</text>\n");
        if (available > minX && available < maxX)
            sb.Append($"<line x1=\"{F(X(available))}\" y1=\"{T}\" x2=\"{F(X(available))}\" y2=\"{H - B}\" stroke=\"#c00\" stroke-dasharray=\"6 4\"/><text x=\"{F(X(available) - 4)}\" y=\"{T + 12}\" text-anchor=\"end\" fill=\"#c00\">memory available</text>\n");
        string[] colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
        var models = rows.Select(r => r.Option.Model.Name).Distinct().ToList();
        // Options of one model sit close together: their labels are staggered down the page so they do not overprint.
        var placed = new List<(double X, double Y)>();
        foreach (var r in rows)
        {
            string colour = colours[models.IndexOf(r.Option.Model.Name) % colours.Length];
            double x = X(r.Option.RamBytes), y = Y(r.DecodeTps), ly = y - 6;
            while (placed.Any(p => Math.Abs(p.X - x) < 160 && Math.Abs(p.Y - ly) < 13)) ly += 13;
            placed.Add((x, ly));
            sb.Append($"<circle cx=\"{F(x)}\" cy=\"{F(y)}\" r=\"5\" fill=\"{colour}\"/><text x=\"{F(x + 8)}\" y=\"{F(ly)}\">{Escape(r.Option.Model.Name + " " + r.Option.TypeName)}</text>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    /// <summary>A byte count in decimal units for an axis ("20 MB", "1 GB").</summary>
    private static string Decimal(double bytes) => bytes >= 1e9 ? (bytes / 1e9).ToString("G3", CultureInfo.InvariantCulture) + " GB" : (bytes / 1e6).ToString("G3", CultureInfo.InvariantCulture) + " MB";

    /// <summary>1-2-5 steps within [min, max].</summary>
    private static IEnumerable<double> Ticks(double min, double max)
    {
        for (double decade = Math.Pow(10, Math.Floor(Math.Log10(min))); decade <= max; decade *= 10)
            foreach (double m in new[] { 1.0, 2.0, 5.0 })
                if (decade * m >= min && decade * m <= max) yield return decade * m;
    }

    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
