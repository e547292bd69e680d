using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Ingot.PeerBench;

// Ingot.PeerBench MODEL.gguf INGOT_EXE [-p 128] [-n 64] [-r 3] [-t 2] [--passes 1] [--kv-type f16|f32] [--llama-cpp DIR] [--ingot-weights FILE]
//
// ppN and tgN of one GGUF file, in the same minutes, through:
//   - INGOT_EXE (an `ingot build` of that file): its `bench` verb, -p/-n/-r/-t passed on, on MODEL.gguf, or on FILE
//     with --ingot-weights (the OUT/NAME.gguf its build wrote: the same values, in Ingot's weights layout where the
//     build chose it);
//   - LLamaSharp 0.30.0 in this process: one batch of N prompt tokens (ppN), then N single-token decodes after a
//     one-token prompt (tgN), the KV cache cleared before each repetition, one untimed warm-up first: the same
//     procedure as Ingot's bench and llama-bench;
//   - llama-bench, when --llama-cpp DIR or LLAMA_CPP_DIR names a llama.cpp checkout or build (DIR, DIR/bin or
//     DIR/build/bin holds llama-bench).
// Every engine's KV cache holds --kv-type (default f16: llama.cpp's and LLamaSharp's default, Ingot's --kv-type f16).
// Token ids are pseudo-random with a fixed seed. Prints one row per test: each engine's mean t/s, then Ingot ÷ the
// better peer. With --passes P the engines run P times in turn (Ingot, LLamaSharp, llama-bench, Ingot, …): each pass's
// ratio comes from the same minutes, which on a shared machine whose bandwidth drifts by tens of percent says more than
// one long run per engine; the row then gives each engine's median over the passes and the passes' median ratio,
// followed by every pass's ratio.
var inv = CultureInfo.InvariantCulture;
var positional = new List<string>();
int pp = 128, tg = 64, reps = 3, threads = 2, passes = 1;
string? llamaCpp = Environment.GetEnvironmentVariable("LLAMA_CPP_DIR"), ingotWeights = null;
string kvType = "f16";
for (int i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "-p": pp = int.Parse(Value(), inv); break;
        case "-n": tg = int.Parse(Value(), inv); break;
        case "-r": reps = int.Parse(Value(), inv); break;
        case "-t": threads = int.Parse(Value(), inv); break;
        case "--passes": passes = int.Parse(Value(), inv); break;
        case "--llama-cpp": llamaCpp = Value(); break;
        case "--kv-type": kvType = Value(); break;
        case "--ingot-weights": ingotWeights = Path.GetFullPath(Value()); break;
        default: positional.Add(args[i]); break;
    }
}
if (positional.Count != 2 || pp < 1 || tg < 1 || reps < 1 || threads < 1 || passes < 1 || kvType is not ("f16" or "f32"))
{
    Console.Error.WriteLine("usage: Ingot.PeerBench MODEL.gguf INGOT_EXE [-p 128] [-n 64] [-r 3] [-t 2] [--passes 1] [--kv-type f16|f32] [--llama-cpp DIR] [--ingot-weights FILE]");
    return 2;
}
string model = Path.GetFullPath(positional[0]), ingot = Path.GetFullPath(positional[1]);
ingotWeights ??= model;
foreach (string f in new[] { model, ingot, ingotWeights })
    if (!File.Exists(f)) { Console.Error.WriteLine($"peerbench: {f} does not exist"); return 2; }

string? llamaBench = llamaCpp is null ? null
    : new[] { llamaCpp, Path.Combine(llamaCpp, "bin"), Path.Combine(llamaCpp, "build", "bin") }
        .Select(d => Path.Combine(d, "llama-bench")).FirstOrDefault(File.Exists);
if (llamaCpp is not null && llamaBench is null) { Console.Error.WriteLine($"peerbench: no llama-bench under {llamaCpp}"); return 2; }
if (ingotWeights != model) Console.WriteLine($"ingot reads {ingotWeights}");

// per pass, per engine (Ingot, LLamaSharp, then llama.cpp when named): its pp and tg t/s
var passResults = new List<List<(string Engine, double Pp, double Tg)>>();
for (int pass = 0; pass < passes; pass++)
{
    var results = new List<(string Engine, double Pp, double Tg)>();
    // Ingot first, in its own process, the file through --model, so a spec mismatch fails here, not silently.
    var (code, output) = Run(ingot, "bench", "-p", I(pp), "-n", I(tg), "-r", I(reps), "-t", I(threads), "--kv-type", kvType, "--model", ingotWeights);
    if (code != 0) { Console.Error.WriteLine($"peerbench: {ingot} bench failed (exit {code}): {output.Trim()}"); return 1; }
    results.Add(("ingot", BenchRate(output, "pp" + I(pp)), BenchRate(output, "tg" + I(tg))));

    results.Add(LlamaSharpBench.Run(model, pp, tg, reps, threads, kvType == "f16"));

    if (llamaBench is not null)
    {
        (code, output) = Run(llamaBench, "-m", model, "-p", I(pp), "-n", I(tg), "-r", I(reps), "-t", I(threads), "-ctk", kvType, "-ctv", kvType, "-o", "csv");
        if (code != 0) { Console.Error.WriteLine($"peerbench: llama-bench failed (exit {code}): {output.Trim()}"); return 1; }
        results.Add(("llama.cpp", CsvRate(output, pp, 0), CsvRate(output, 0, tg)));
    }
    passResults.Add(results);
}

Console.WriteLine($"{Path.GetFileName(model)}, {threads} threads, {reps} repetitions{(passes > 1 ? $", {passes} passes (medians)" : "")}, {Environment.ProcessorCount} cores, {kvType} KV cache");
var engines = passResults[0].Select(r => r.Engine).ToList();
Console.WriteLine($"| test | {string.Join(" | ", engines)} | ingot ÷ best peer |");
Console.WriteLine($"|---|{string.Concat(engines.Select(_ => "---:|"))}---:|");
foreach (var (test, pick) in new (string, Func<(string, double Pp, double Tg), double>)[] { ("pp" + I(pp), r => r.Pp), ("tg" + I(tg), r => r.Tg) })
{
    // each pass's ratio from its own figures (the same minutes), then the median of those
    var ratios = passResults.Select(rs => pick(rs[0]) / rs.Skip(1).Max(pick)).ToList();
    var rates = Enumerable.Range(0, engines.Count).Select(e => Median(passResults.Select(rs => pick(rs[e])))).ToList();
    string each = passes > 1 ? " (" + string.Join(", ", ratios.Select(r => r.ToString("F2", inv) + "×")) + ")" : "";
    Console.WriteLine($"| {test} | {string.Join(" | ", rates.Select(r => r.ToString("F1", inv)))} | {Median(ratios).ToString("F2", inv)}×{each} |");
}
return 0;

static double Median(IEnumerable<double> values)
{
    var v = values.Order().ToList();
    return v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
}

static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

static (int Code, string Output) Run(string file, params string[] arguments)
{
    var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (string a in arguments) psi.ArgumentList.Add(a);
    using var p = Process.Start(psi)!;
    var err = p.StandardError.ReadToEndAsync();
    string o = p.StandardOutput.ReadToEnd();
    p.WaitForExit();
    return (p.ExitCode, p.ExitCode == 0 ? o : o + err.Result);
}

// A row of Ingot's llama-bench-style table: "| model | … | pp128 | 1234.56 ± 7.89 |".
static double BenchRate(string table, string test)
{
    Match m = Regex.Match(table, @"\|\s*" + Regex.Escape(test) + @"\s*\|\s*([0-9.]+) ±", RegexOptions.Multiline);
    if (!m.Success) throw new InvalidDataException($"no {test} row in the bench output:\n{table}");
    return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
}

// llama-bench -o csv: a header line naming n_prompt, n_gen and avg_ts, then one line per test.
static double CsvRate(string csv, int nPrompt, int nGen)
{
    var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .SkipWhile(l => !l.StartsWith("\"build_commit\"", StringComparison.Ordinal) && !l.StartsWith("build_commit", StringComparison.Ordinal)).ToList();
    if (lines.Count < 2) throw new InvalidDataException("llama-bench printed no CSV table:\n" + csv);
    string[] Cells(string line) => line.Split(',').Select(c => c.Trim('"')).ToArray();
    string[] header = Cells(lines[0]);
    int ip = Array.IndexOf(header, "n_prompt"), ig = Array.IndexOf(header, "n_gen"), it = Array.IndexOf(header, "avg_ts");
    foreach (string line in lines.Skip(1))
    {
        string[] c = Cells(line);
        if (c.Length == header.Length && c[ip] == nPrompt.ToString(CultureInfo.InvariantCulture) && c[ig] == nGen.ToString(CultureInfo.InvariantCulture))
            return double.Parse(c[it], CultureInfo.InvariantCulture);
    }
    throw new InvalidDataException($"llama-bench printed no row for n_prompt {nPrompt}, n_gen {nGen}:\n{csv}");
}
