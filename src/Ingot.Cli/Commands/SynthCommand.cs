using Ingot.Specs;
using Ingot.Formats;
using Ingot.Host.CommandLine;

namespace Ingot.Cli.Commands;

/// <summary>`ingot synth …`: a random-weight GGUF llama model of any shape, with a synthetic SPM vocabulary.</summary>
public sealed class SynthCommand : ICliCommand
{
    public string Name => "synth";
    public string Summary => "write a random-weight GGUF model of a given shape (for tests and benchmarks)";
    public string Usage =>
        "usage: ingot synth [--arch llama] --dim N --layers N --heads N [--kv-heads N] --ffn N --vocab N [--ctx N]\n" +
        "                   [--type f32|f16|bf16|q8_0|q4_0|q4_k|q6_k|…] [--seed S] [--tied] [--name NAME] [--spec SPEC.json] -o OUT.gguf\n" +
        "  weights N(0, 1/fan_in), norms ~1; 1-D tensors stay f32; rows that are not whole blocks of --type are f16.\n" +
        "  --spec FILE  also write the model's spec";

    public int Run(string[] args)
    {
        var r = new ArgReader(args);
        string arch = r.OptionOr("llama", "--arch");
        int dim = r.Int(768, "--dim");
        int layers = r.Int(12, "--layers");
        int heads = r.Int(12, "--heads");
        int kvHeads = r.Int(heads, "--kv-heads");
        int ffn = r.Int(2048, "--ffn");
        int vocab = r.Int(32000, "--vocab");
        int ctx = r.Int(2048, "--ctx");
        string typeName = r.OptionOr("f32", "--type");
        long seed = r.Long(1, "--seed");
        bool tied = r.Flag("--tied");
        string? specOut = r.OptionOrNull("--spec");
        string? output = r.OptionOrNull("-o", "--output");
        string? name = r.OptionOrNull("--name");
        r.ThrowIfUnknown();
        if (output is null) throw new UsageException("missing -o OUT.gguf");
        if (!GgmlTypeTraits.TryParse(typeName, out var type)) throw new UsageException($"unknown type '{typeName}'");
        if (!GgufSynth.CanEncodeWithoutQuantizer(type) && !Runtime.Quants.QuantTraits.IsSupportedWeight(type))
            throw new UsageException($"type '{typeName}' cannot be quantized by Ingot.Runtime.Quants");

        var o = new SynthOptions
        {
            Architecture = arch, Name = name ?? ModelImporter.DefaultName(output), Dim = dim, Layers = layers, Heads = heads, KvHeads = kvHeads,
            FfnDim = ffn, VocabSize = vocab, ContextLength = ctx, Type = type, Seed = unchecked((ulong)seed), Tied = tied,
        };
        ModelSpec spec;
        try { spec = GgufSynth.Write(output, o, QuantizeRow); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        if (specOut is not null) ModelSpecJson.Write(spec, specOut);
        long bytes = new FileInfo(output).Length;
        Console.Error.WriteLine($"{output}: {layers} layers, dim {dim}, {GgmlTypeTraits.Name(type)}, {bytes / 1048576.0:F1} MiB");
        return 0;
    }

    /// <summary>The quantizer seam of <see cref="GgufSynth"/>: reference (ggml-identical) row quantization from Ingot.Runtime.</summary>
    private static unsafe byte[] QuantizeRow(GgmlType type, float[] row)
    {
        var dst = new byte[GgmlTypeTraits.RowBytes(type, row.Length)];
        fixed (float* x = row)
        fixed (byte* d = dst)
            Runtime.Quants.Quantize.WeightRow(type, x, d, row.Length);
        return dst;
    }
}
