using System.Diagnostics;
using System.Text.RegularExpressions;
using Ingot.Formats;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Quants;
using Spectre.Console;

namespace Ingot.Cli.Commands;

/// <summary>
/// `ingot quantize IN.gguf OUT.gguf TYPE`: llama-quantize without an importance matrix. Per-tensor types follow
/// llama.cpp's mixes (<see cref="QuantMix"/>), the data comes from the reference quantizers (bit-identical to
/// llama-quantize for F32 input), metadata is copied with general.quantization_version / general.file_type
/// moved to the end as llama-quantize does, and tensors are written in llama-quantize's order: for F32 input the
/// output file is byte-identical to llama-quantize's (checked on shared/golden/models/llama-gqa.*).
/// </summary>
public sealed class QuantizeCommand : ICliCommand
{
    public string Name => "quantize";
    public string Summary => "quantize a GGUF model (Q8_0, Q4_0, Q4_K_M, Q5_K_M, Q6_K, …) like llama-quantize";
    public string Usage =>
        "usage: ingot quantize IN.gguf OUT.gguf TYPE [--threads N] [--allow-requantize] [--tensor-type REGEX=TYPE]...\n" +
        "  TYPE: " + string.Join(", ", QuantMix.Names) + "\n" +
        "  1-D tensors and norms keep their type; K mixes put output.weight in Q6_K.\n" +
        "  --allow-requantize      accept an already quantized input (dequantized first; quality loss)\n" +
        "  --tensor-type RE=TYPE   as llama-quantize: every tensor the mix quantizes whose name matches the regex RE\n" +
        "                          gets ggml type TYPE instead (e.g. attn_v=q8_0, 'blk\\.1\\.ffn_.*=q5_1'); first match wins";

    public int Run(string[] args)
    {
        var r = new ArgReader(args);
        int threads = r.Int(0, "--threads", "-t");
        bool allowRequantize = r.Flag("--allow-requantize");
        var overrides = r.OptionValues("--tensor-type").Select(ParseOverride).ToList();
        string input = r.RequiredPositional("IN.gguf");
        string output = r.RequiredPositional("OUT.gguf");
        string typeName = r.RequiredPositional("TYPE");
        r.ThrowIfUnknown();
        if (!QuantMix.TryParse(typeName, out QuantFileType ft))
            throw new UsageException($"unknown quantization type '{typeName}' (one of {string.Join(", ", QuantMix.Names)})");
        if (Path.GetFullPath(input) == Path.GetFullPath(output))
            throw new UsageException("OUT.gguf must differ from IN.gguf");

        using var src = GgufFile.Open(input);
        // the quantizer reads rows in GGUF's order; a file in Ingot's interleaved layout is made from a GGUF, not re-quantized
        if (src.ContainsKey(Q4_0x16.Key))
            throw new InvalidModelFileException(input, $"metadata key '{Q4_0x16.Key}'", src.GetMetadataOffset(Q4_0x16.Key),
                "the file is in Ingot's weights layout (ingot build --weights-layout ingot); quantize the GGUF it was built from");
        var sw = Stopwatch.StartNew();
        int nThreads = threads <= 0 ? Environment.ProcessorCount : threads;
        GgufQuantizer.Stats stats;
        if (!Console.IsErrorRedirected && AnsiConsole.Profile.Capabilities.Interactive)
        {
            // A live bar on a terminal; plain one-line-per-tensor progress when stderr is a file or a pipe.
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            stats = console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("quantizing", maxValue: 1.0);
                    return GgufQuantizer.Quantize(src, output, ft, nThreads, allowRequantize, overrides, p =>
                    {
                        task.Description = Markup.Escape($"{p.Tensor} {p.From} -> {p.To}");
                        task.Value = p.Fraction;
                    });
                });
        }
        else
        {
            stats = GgufQuantizer.Quantize(src, output, ft, nThreads, allowRequantize, overrides,
                p => Console.Error.WriteLine($"[{p.Index}/{p.Count}] {100.0 * p.Fraction,5:F1}%  {p.Tensor,-40} {p.From,-7} -> {p.To,-7}"));
        }
        Console.WriteLine($"{Path.GetFileName(output)}: {ft}, {stats.Tensors} tensors ({stats.Quantized} quantized), " +
                          $"{stats.InputBytes / 1048576.0:F2} MiB -> {stats.OutputBytes / 1048576.0:F2} MiB " +
                          $"({100.0 * stats.OutputBytes / Math.Max(1, stats.InputBytes):F1} % of the input, " +
                          $"{8.0 * stats.OutputBytes / Math.Max(1, stats.InputElements):F2} bits per weight) in {sw.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    private static GgufQuantizer.TypeOverride ParseOverride(string spec)
    {
        int eq = spec.LastIndexOf('=');
        if (eq <= 0 || eq == spec.Length - 1) throw new UsageException($"--tensor-type '{spec}': expected REGEX=TYPE");
        string typeName = spec[(eq + 1)..];
        if (!GgmlTypeTraits.TryParse(typeName, out var type) || !QuantTraits.IsSupportedWeight(type))
            throw new UsageException($"--tensor-type '{spec}': '{typeName}' is not a weight type ({string.Join(", ", QuantTraits.WeightTypesArray.Select(GgmlTypeTraits.Name))})");
        try
        {
            return new GgufQuantizer.TypeOverride(new Regex(spec[..eq], RegexOptions.CultureInvariant), type);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--tensor-type '{spec}': bad regex: {e.Message}");
        }
    }
}

/// <summary>Quantizes every tensor of a GGUF file into a new GGUF file through Ingot.Formats' GgufWriter.</summary>
internal static unsafe class GgufQuantizer
{
    public readonly record struct Stats(int Tensors, int Quantized, long InputBytes, long OutputBytes, long InputElements);

    /// <summary>One tensor done: its position among the quantized ones and the fraction of elements done so far.</summary>
    public readonly record struct Progress(int Index, int Count, double Fraction, string Tensor, string From, string To);

    /// <summary>A --tensor-type rule: tensors the mix quantizes whose name matches get this type instead.</summary>
    public sealed record TypeOverride(Regex Pattern, GgmlType Type);

    private const uint QuantizationVersion = 2; // GGML_QNT_VERSION

    public static Stats Quantize(GgufFile src, string outputPath, QuantFileType ft, int threads, bool allowRequantize,
                                 IReadOnlyList<TypeOverride> overrides, Action<Progress> progress)
    {
        string arch = src.TryGetValue("general.architecture", out var a) && a.Value is string s ? s : "llama";
        var info = new QuantModelInfo(
            Layers: IntValue(src, $"{arch}.block_count", 0),
            Heads: IntValue(src, $"{arch}.attention.head_count", 1),
            KvHeads: IntValue(src, $"{arch}.attention.head_count_kv", IntValue(src, $"{arch}.attention.head_count", 1)),
            Experts: IntValue(src, $"{arch}.expert_count", 0));

        var plan = QuantMix.Plan(ft, src.Tensors.Select(t => new QuantTensor(t.Name, t.Type, t.Dims)).ToList(), info)
            .Select(d => Override(d, overrides)).ToList();
        var byName = src.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var d in plan)
        {
            if (!d.Requantizes) continue;
            var t = d.Tensor;
            if (t.Type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16) && !allowRequantize)
                throw new NotSupportedException($"tensor {t.Name} is already {GgmlTypeTraits.Name(t.Type)}; pass --allow-requantize to re-quantize it");
            if (!QuantTraits.IsSupportedWeight(t.Type))
                throw new NotSupportedException($"tensor {t.Name}: cannot decode {GgmlTypeTraits.Name(t.Type)}");
            if (t.Dims[0] > int.MaxValue) throw new NotSupportedException($"tensor {t.Name}: rows of {t.Dims[0]} elements are too long");
        }

        // metadata as llama-quantize leaves it: everything copied, quantization_version and file_type re-added last
        var w = new GgufWriter(src.Alignment == 0 ? GgufFile.DefaultAlignment : src.Alignment);
        w.CopyMetadata(src, key => key is not ("general.quantization_version" or "general.file_type"));
        w.Set("general.quantization_version", QuantizationVersion);
        w.Set("general.file_type", (uint)ft);

        long inputBytes = 0, outputBytes = 0, inputElements = src.Tensors.Sum(t => t.ElementCount), totalElements = plan.Where(d => d.Requantizes).Sum(d => Elements(d.Tensor)), doneElements = 0;
        int quantized = 0, index = 0;
        foreach (var d in plan)
        {
            var st = byName[d.Tensor.Name];
            inputBytes += st.ByteSize;
            if (!d.Requantizes)
            {
                outputBytes += w.AddTensor(st.Name, src, st).ByteSize;
                continue;
            }
            quantized++;
            outputBytes += w.AddTensor(st.Name, d.NewType, st.Dims, stream =>
            {
                // runs while the file is written, in plan order
                stream.Write(QuantizeTensor(src.GetTensorPointer(st), st, d.NewType, threads));
                doneElements += Elements(d.Tensor);
                progress(new Progress(++index, QuantizedCount(plan), (double)doneElements / Math.Max(1, totalElements), st.Name,
                                      GgmlTypeTraits.Name(st.Type), GgmlTypeTraits.Name(d.NewType)));
            }).ByteSize;
        }
        w.Write(outputPath);
        return new Stats(plan.Count, quantized, inputBytes, outputBytes, inputElements);

        static int QuantizedCount(IReadOnlyList<QuantDecision> p) => p.Count(x => x.Requantizes);
    }

    /// <summary>Applies the first matching --tensor-type rule to a tensor the mix quantizes (a tensor it keeps stays kept).</summary>
    private static QuantDecision Override(QuantDecision d, IReadOnlyList<TypeOverride> overrides)
    {
        if (!QuantMix.IsQuantizable(d.Tensor)) return d;
        foreach (var o in overrides)
        {
            if (!o.Pattern.IsMatch(d.Tensor.Name)) continue;
            if (d.Tensor.Dims[0] % GgmlTypeTraits.BlockSize(o.Type) != 0)
                throw new UsageException($"--tensor-type {o.Pattern}={GgmlTypeTraits.Name(o.Type)}: {d.Tensor.Name} has rows of {d.Tensor.Dims[0]} elements, not a multiple of {GgmlTypeTraits.BlockSize(o.Type)}");
            return d with { NewType = o.Type };
        }
        return d;
    }

    private static long Elements(QuantTensor t) => t.Dims.Aggregate(1L, (x, y) => x * y);

    private static byte[] QuantizeTensor(byte* srcData, GgufTensorInfo t, GgmlType newType, int threads)
    {
        int cols = (int)t.Dims[0];
        long rows = t.Dims.Skip(1).Aggregate(1L, (x, y) => x * y);
        long inRowBytes = GgmlTypeTraits.RowBytes(t.Type, cols);
        long outRowBytes = GgmlTypeTraits.RowBytes(newType, cols);
        if (inRowBytes < 0 || inRowBytes * rows != t.ByteSize)
            throw new InvalidModelFileException("", $"tensor {t.Name}", t.Offset, $"size {t.ByteSize} does not match {rows} rows of {cols} {GgmlTypeTraits.Name(t.Type)}");
        var result = new byte[checked(rows * outRowBytes)];
        nint srcBase = (nint)srcData;
        long chunk = Math.Max(1, rows / (threads * 4));
        fixed (byte* pr = result)
        {
            nint dstBase = (nint)pr;
            Parallel.For(0, (int)((rows + chunk - 1) / chunk), new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
            {
                float[] tmp = t.Type == GgmlType.F32 ? [] : new float[cols];
                fixed (float* ptmp = tmp)
                {
                    for (long r = c * chunk; r < Math.Min(rows, (c + 1) * chunk); r++)
                    {
                        byte* inRow = (byte*)srcBase + r * inRowBytes;
                        float* x = (float*)inRow;
                        if (t.Type != GgmlType.F32)
                        {
                            Dequantize.Row(t.Type, inRow, ptmp, cols);
                            x = ptmp;
                        }
                        Runtime.Quants.Quantize.WeightRow(newType, x, (byte*)dstBase + r * outRowBytes, cols);
                    }
                }
            });
        }
        return result;
    }

    private static int IntValue(GgufFile f, string key, int fallback)
    {
        if (!f.TryGetValue(key, out var v)) return fallback;
        return v.Value switch
        {
            Array arr when arr.Length > 0 => arr.Cast<object>().Select(o => Convert.ToInt32(o, System.Globalization.CultureInfo.InvariantCulture)).Max(),
            Array => fallback,
            var o => Convert.ToInt32(o, System.Globalization.CultureInfo.InvariantCulture),
        };
    }
}
