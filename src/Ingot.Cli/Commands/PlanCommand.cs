using System.Globalization;
using Ingot.Cli.Building;
using Ingot.Cli.Planning;
using Ingot.Formats;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Quants;

namespace Ingot.Cli.Commands;

/// <summary>
/// <c>ingot plan [MODEL…] [--shape K=V,…] [--types q4_0,q4_k_m,q8_0,f16] [--ctx N]</c>: the SLM-or-LLM table. For every
/// model × weight type: parameters, file size, RAM at the context, predicted decode and prefill tokens/s on this
/// machine (bandwidth and kernel rate measured on the spot), and whether it fits in the memory available now.
/// </summary>
public sealed class PlanCommand : ICliCommand
{
    public string Name => "plan";
    public string Summary => "predict size, RAM and speed of models × weight types on this machine (Markdown table, SVG plot)";

    public string Usage =>
        "usage: ingot plan [MODEL…] [--shape K=V,…]… [--types T,T,…] [--ctx N] [-t N] [--bandwidth GBPS] [--plot FILE.svg]\n\n" +
        "  MODEL            a GGUF file, a Hugging Face folder or its config.json (architectures Ingot compiles)\n" +
        "  --shape K=V,…    a llama-family shape: dim, layers, heads, kv (default heads), ffn, vocab, [ctx,] [tied], [name]\n" +
        "                   e.g. dim=2048,layers=16,heads=32,kv=8,ffn=8192,vocab=128256,tied\n" +
        "  --types T,…      weight types (llama-quantize's names; default q4_0,q4_k_m,q8_0,f16); 'file' = a GGUF as it is\n" +
        "  --ctx N          KV cache tokens for RAM (default 4096)\n" +
        "  -t N             threads to measure with (default: all cores)\n" +
        "  --bandwidth G    use G GB/s for the bandwidth and every kernel's stream rate instead of measuring\n" +
        "  --plot FILE.svg  draw decode t/s against RAM\n" +
        "  --eval TEXT      add the perplexity of TEXT for the options that exist as files (each GGUF as it is; built and\n" +
        "                   run as `ingot run FILE perplexity -f TEXT --ctx N` would)\n" +
        "  --eval-ctx N     the perplexity's chunk size (default 512)\n";

    public int Run(string[] args) => Run(args, Console.Out);

    public int Run(string[] args, TextWriter output)
    {
        var a = new ArgReader(args);
        var shapes = a.OptionValues("--shape");
        string types = a.OptionOr("q4_0,q4_k_m,q8_0,f16", "--types");
        int ctx = a.Int(4096, "--ctx", "-c");
        int threads = a.Int(Environment.ProcessorCount, "-t", "--threads");
        float? bandwidth = a.FloatOrNull("--bandwidth");
        string? plot = a.OptionOrNull("--plot");
        string? eval = a.OptionOrNull("--eval");
        int evalCtx = a.Int(512, "--eval-ctx");
        var paths = new List<string>();
        while (a.Positional() is { } p) paths.Add(p);
        a.ThrowIfUnknown();
        if (paths.Count == 0 && shapes.Count == 0) throw new UsageException("give at least one MODEL or --shape");
        if (ctx < 1) throw new UsageException("--ctx must be >= 1");
        if (threads < 1) throw new UsageException("-t must be >= 1");
        if (bandwidth is <= 0) throw new UsageException("--bandwidth must be positive");
        if (eval is not null && !File.Exists(eval)) throw new UsageException($"--eval {eval}: no such file");
        if (evalCtx < 4) throw new UsageException("--eval-ctx must be at least 4");

        // Each model with its GGUF file when it is one (the 'file' type and --eval apply to those only).
        var models = new List<(PlanModel Model, string? Gguf)>();
        foreach (string path in paths) models.Add((Load(path), path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? path : null));
        foreach (string shape in shapes) models.Add((Shape(shape), null));
        var kinds = new List<QuantFileType?>();
        foreach (string t in types.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (t == "file") { kinds.Add(null); continue; }
            if (!QuantMix.TryParse(t, out var ft)) throw new UsageException($"--types: unknown type '{t}' (one of file, {string.Join(", ", QuantMix.Names).ToLowerInvariant()})");
            kinds.Add(ft);
        }

        double gbps = bandwidth ?? MachineProbe.ReadBandwidth(threads);
        long available = MachineProbe.AvailableMemory();
        var rates = new Dictionary<GgmlType, double?>();
        var streams = new Dictionary<GgmlType, double>();
        var rows = new List<PlanRow>();
        var notes = new List<string>();
        foreach (var (model, file) in models)
        {
            // Multiply-accumulates per token: every weight but token_embd's, which is one row read unless it is also the
            // (tied) output matrix.
            long embd = model.Tensors.Where(t => t.Name == "token_embd.weight").Sum(t => t.Dims.Aggregate(1L, (x, d) => x * d));
            long macs = model.Parameters - (model.Tensors.Any(t => t.Name == "output.weight") ? embd : 0);
            foreach (var kind in kinds)
            {
                if (kind is null && file is null) continue;
                PlanOption option;
                try { option = PlanOption.Size(model, kind, ctx); }
                catch (NotSupportedException e) { notes.Add($"{model.Name} as {kind}: not possible ({e.Message})"); continue; }
                if (!streams.TryGetValue(option.MainType, out double stream))
                    streams[option.MainType] = stream = bandwidth is float given ? given : MachineProbe.DecodeStreamRate(option.MainType, threads) ?? gbps;
                double decode = 1 / PlanReport.DecodeSeconds(option, stream);
                if (!rates.TryGetValue(option.MainType, out var rate)) rates[option.MainType] = rate = MachineProbe.PrefillMacRate(option.MainType, threads);
                double? ppl = eval is not null && kind is null && file is not null ? Perplexity(file, eval, evalCtx, threads) : null;
                rows.Add(new PlanRow(option, decode, rate is double r ? r / macs : null, option.RamBytes <= available, ppl));
            }
        }
        if (rows.Count == 0) throw new UsageException("no option to plan ('file' applies to GGUF inputs only)");
        output.Write(PlanReport.Markdown(rows, ctx, gbps, streams, available, eval is null ? null : $"PPL ({Path.GetFileName(eval)}, ctx {evalCtx})"));
        foreach (string note in notes) output.WriteLine("\n" + note);
        output.Flush();
        if (plot is not null)
        {
            File.WriteAllText(plot, PlanReport.Svg(rows, available));
            Console.Error.WriteLine($"ingot plan: wrote {plot}");
        }
        return 0;
    }

    /// <summary>
    /// The perplexity of <paramref name="text"/> under <paramref name="gguf"/>: the model's executable (built once, cached
    /// as `ingot run` caches it) runs its perplexity verb; its "Final estimate" line is read back.
    /// </summary>
    private static double Perplexity(string gguf, string text, int ctx, int threads)
    {
        var target = IsaTarget.Parse(RunCommand.DefaultIsa, null); // built to run here, as `ingot run` builds
        string exe = RunCommand.EnsureBuilt(gguf, null, null, target, rebuild: false, Console.Error, out string? weights);
        var psi = new System.Diagnostics.ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { "perplexity", "-f", text, "--ctx", ctx.ToString(CultureInfo.InvariantCulture), "-t", threads.ToString(CultureInfo.InvariantCulture), "--model", weights ?? gguf })
            psi.ArgumentList.Add(arg);
        using var p = System.Diagnostics.Process.Start(psi) ?? throw new IOException($"cannot start {exe}");
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var m = System.Text.RegularExpressions.Regex.Match(stdout, @"Final estimate: PPL = ([0-9.]+)");
        if (p.ExitCode != 0 || !m.Success)
            throw new IOException($"perplexity of {text} under {gguf} failed: {stderr.Result.Trim()}");
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>A GGUF file (its tensors as they are), or a Hugging Face folder / config.json (its tensors from the family's layout).</summary>
    private static PlanModel Load(string path)
    {
        if (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            using var f = GgufFile.Open(path);
            var spec = GgufSpecReader.FromGguf(f);
            return new PlanModel(Path.GetFileNameWithoutExtension(path), spec, [.. f.Tensors.Select(t => new QuantTensor(t.Name, t.Type, t.Dims))]);
        }
        string folder = Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!;
        using var imported = ModelImporter.Import(folder);
        var s = imported.Spec;
        var tensors = SynthModel.TensorsOf(s).Select(t => new QuantTensor(t.Name, GgmlType.F32, t.Dims)).ToList();
        return new PlanModel(Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)), s, tensors);
    }

    /// <summary>--shape dim=…,layers=…,heads=…,kv=…,ffn=…,vocab=…[,ctx=…][,tied][,name=…][,arch=…]: the tensors `ingot synth` would write.</summary>
    public static PlanModel Shape(string shape)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in shape.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            if (eq < 0) values[part] = "";
            else values[part[..eq]] = part[(eq + 1)..];
        }
        int Int(string key, int? fallback = null)
        {
            if (!values.Remove(key, out string? v)) return fallback ?? throw new UsageException($"--shape {shape}: missing {key}=N");
            return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new UsageException($"--shape {shape}: {key}={v} is not a positive integer");
        }
        int dim = Int("dim"), layers = Int("layers"), heads = Int("heads"), kv = Int("kv", heads), ffn = Int("ffn"), vocab = Int("vocab"), context = Int("ctx", 4096);
        bool tied = values.Remove("tied");
        values.Remove("name", out string? name);
        values.Remove("arch", out string? arch);
        if (values.Count > 0) throw new UsageException($"--shape {shape}: unknown key '{values.Keys.First()}' (dim, layers, heads, kv, ffn, vocab, ctx, tied, name, arch)");
        name ??= $"shape d{dim} l{layers}";
        var o = new SynthOptions
        {
            Architecture = arch ?? "llama", Name = name, Dim = dim, Layers = layers, Heads = heads, KvHeads = kv, FfnDim = ffn, VocabSize = vocab,
            ContextLength = context, Tied = tied ? true : null,
        };
        try
        {
            var (spec, tensors) = SynthModel.Plan(o);
            return new PlanModel(name, spec, [.. tensors.Select(t => new QuantTensor(t.Name, GgmlType.F32, t.Dims))]);
        }
        catch (ArgumentException e) { throw new UsageException($"--shape {shape}: {e.Message}"); }
    }
}
