using System.Diagnostics;
using Ingot.Formats;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Quants;

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
        "usage: ingot quantize IN.gguf OUT.gguf TYPE [--threads N] [--allow-requantize]\n" +
        "  TYPE: " + string.Join(", ", QuantMix.Names) + "\n" +
        "  1-D tensors and norms keep their type; K mixes put output.weight in Q6_K.\n" +
        "  --allow-requantize  accept an already quantized input (dequantized first; quality loss)";

    public int Run(string[] args)
    {
        var r = new ArgReader(args);
        int threads = r.Int(0, "--threads", "-t");
        bool allowRequantize = r.Flag("--allow-requantize");
        string input = r.RequiredPositional("IN.gguf");
        string output = r.RequiredPositional("OUT.gguf");
        string typeName = r.RequiredPositional("TYPE");
        r.ThrowIfUnknown();
        if (!QuantMix.TryParse(typeName, out QuantFileType ft))
            throw new UsageException($"unknown quantization type '{typeName}' (one of {string.Join(", ", QuantMix.Names)})");
        if (Path.GetFullPath(input) == Path.GetFullPath(output))
            throw new UsageException("OUT.gguf must differ from IN.gguf");

        using var src = GgufFile.Open(input);
        var sw = Stopwatch.StartNew();
        var stats = GgufQuantizer.Quantize(src, output, ft, threads <= 0 ? Environment.ProcessorCount : threads, allowRequantize, Console.Error);
        Console.Error.WriteLine();
        Console.WriteLine($"{Path.GetFileName(output)}: {ft}, {stats.Tensors} tensors ({stats.Quantized} quantized), " +
                          $"{stats.InputBytes / 1048576.0:F2} MiB -> {stats.OutputBytes / 1048576.0:F2} MiB in {sw.Elapsed.TotalSeconds:F1} s");
        return 0;
    }
}

/// <summary>Quantizes every tensor of a GGUF file into a new GGUF file through Ingot.Formats' GgufWriter.</summary>
internal static unsafe class GgufQuantizer
{
    public readonly record struct Stats(int Tensors, int Quantized, long InputBytes, long OutputBytes);

    private const uint QuantizationVersion = 2; // GGML_QNT_VERSION

    public static Stats Quantize(GgufFile src, string outputPath, QuantFileType ft, int threads, bool allowRequantize, TextWriter progress)
    {
        string arch = src.TryGetValue("general.architecture", out var a) && a.Value is string s ? s : "llama";
        var info = new QuantModelInfo(
            Layers: IntValue(src, $"{arch}.block_count", 0),
            Heads: IntValue(src, $"{arch}.attention.head_count", 1),
            KvHeads: IntValue(src, $"{arch}.attention.head_count_kv", IntValue(src, $"{arch}.attention.head_count", 1)),
            Experts: IntValue(src, $"{arch}.expert_count", 0));

        var plan = QuantMix.Plan(ft, src.Tensors.Select(t => new QuantTensor(t.Name, t.Type, t.Dims)).ToList(), info);
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

        long inputBytes = 0, outputBytes = 0, totalElements = plan.Where(d => d.Requantizes).Sum(d => Elements(d.Tensor)), doneElements = 0;
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
                progress.Write($"\r[{++index}/{QuantizedCount(plan)}] {100.0 * doneElements / Math.Max(1, totalElements),5:F1}%  {st.Name,-40} {GgmlTypeTraits.Name(st.Type),-7} -> {GgmlTypeTraits.Name(d.NewType),-7}");
            }).ByteSize;
        }
        w.Write(outputPath);
        return new Stats(plan.Count, quantized, inputBytes, outputBytes);

        static int QuantizedCount(IReadOnlyList<QuantDecision> p) => p.Count(x => x.Requantizes);
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
