using Ingot.Specs;
using Ingot.Cli.Building;
using Ingot.Formats;
using Ingot.Formats.Architectures;
using Ingot.Host.CommandLine;

namespace Ingot.Cli.Commands;

/// <summary>`ingot synth …`: a random-weight GGUF model of any family and shape, with a synthetic SPM vocabulary.</summary>
public sealed class SynthCommand : ICliCommand
{
    public string Name => "synth";
    public string Summary => "write a random-weight GGUF model of a given family and shape (for tests and benchmarks)";
    public string Usage =>
        "usage: ingot synth [--arch FAMILY] --dim N --layers N --heads N [--kv-heads N] [--head-dim N] --ffn N --vocab N [--ctx N]\n" +
        "                   [--type f32|f16|bf16|q8_0|q4_0|q4_k|q6_k|…] [--seed S] [--tied|--untied] [--name NAME] [--spec SPEC.json] -o OUT.gguf\n" +
        "                   [--rope-theta F] [--norm-eps F] [--rope-dims N] [--window N] [--residual parallel|sequential]\n" +
        "                   [--embedding-scale F] [--residual-scale F] [--attention-scale F] [--logit-scale F] [--attn-softcap F] [--final-softcap F]\n" +
        "                   [--pooling none|mean|cls|last|rank] [--labels N]\n" +
        $"  FAMILY: {string.Join(", ", ArchitectureMapping.GgufNames)} (default llama); each gets its own layout (biases, rope,\n" +
        "  norms, fused matrices) and only the options its llama.cpp graph has: --window (llama, phi3: every layer; gemma2: even\n" +
        "  layers), --residual (gptneox), the four scales (granite), the soft-caps (gemma2), --rope-dims < head_dim (not llama),\n" +
        "  --pooling (bert; rank adds the cls / cls.output head, --labels N outputs: a classifier's labels, default 1).\n" +
        "  weights N(0, 1/fan_in), norms ~1, biases N(0, 0.1²); 1-D tensors and position_embd stay f32; rows that are not whole\n" +
        "  blocks of --type are f16. --spec FILE also writes the model's spec";

    public int Run(string[] args) => Run(args, Console.Error);

    /// <summary><paramref name="log"/> gets the one line saying what was written.</summary>
    public int Run(string[] args, TextWriter log)
    {
        var r = new ArgReader(args);
        string arch = r.OptionOr("llama", "--arch");
        int dim = r.Int(768, "--dim");
        int layers = r.Int(12, "--layers");
        int heads = r.Int(12, "--heads");
        int kvHeads = r.Int(heads, "--kv-heads");
        int headDim = r.Int(0, "--head-dim");
        int ffn = r.Int(2048, "--ffn");
        int vocab = r.Int(32000, "--vocab");
        int ctx = r.Int(2048, "--ctx");
        string typeName = r.OptionOr("f32", "--type");
        long seed = r.Long(1, "--seed");
        bool tied = r.Flag("--tied"), untied = r.Flag("--untied");
        string? residual = r.OptionOrNull("--residual");
        string? pooling = r.OptionOrNull("--pooling");
        var o = new SynthOptions
        {
            Architecture = arch, Dim = dim, Layers = layers, Heads = heads, KvHeads = kvHeads, HeadDim = headDim, FfnDim = ffn, VocabSize = vocab,
            ContextLength = ctx, Seed = unchecked((ulong)seed), Tied = tied ? true : untied ? false : null,
            RopeTheta = r.FloatOrNull("--rope-theta"), NormEpsilon = r.FloatOrNull("--norm-eps"), RopeDims = r.IntOrNull("--rope-dims"),
            Window = r.IntOrNull("--window"),
            Residual = residual switch
            {
                null => null,
                "parallel" => ResidualKind.Parallel,
                "sequential" => ResidualKind.Sequential,
                _ => throw new UsageException($"--residual '{residual}': parallel or sequential"),
            },
            Scales = (r.FloatOrNull("--embedding-scale"), r.FloatOrNull("--residual-scale"), r.FloatOrNull("--attention-scale"), r.FloatOrNull("--logit-scale")),
            Softcaps = (r.FloatOrNull("--attn-softcap"), r.FloatOrNull("--final-softcap")),
            Labels = r.IntOrNull("--labels"),
            Pooling = pooling is null ? null
                : SpecNames.TryParse(pooling, out PoolingKind pk) ? pk : throw new UsageException($"--pooling '{pooling}': one of {string.Join(", ", SpecNames.All<PoolingKind>())}"),
        };
        string? specOut = r.OptionOrNull("--spec");
        string? output = r.OptionOrNull("-o", "--output");
        string? name = r.OptionOrNull("--name");
        r.ThrowIfUnknown();
        if (output is null) throw new UsageException("missing -o OUT.gguf");
        if (tied && untied) throw new UsageException("--tied and --untied contradict each other");
        if (!GgmlTypeTraits.TryParse(typeName, out var type)) throw new UsageException($"unknown type '{typeName}'");
        if (!GgufSynth.CanEncodeWithoutQuantizer(type) && !Runtime.Quants.QuantTraits.IsSupportedWeight(type))
            throw new UsageException($"type '{typeName}' cannot be quantized by Ingot.Runtime.Quants");

        o = o with { Name = name ?? ModelImporter.DefaultName(output), Type = type };
        ModelSpec spec;
        try { spec = SynthModel.Write(output, o, QuantizeRow); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        if (specOut is not null) ModelSpecJson.Write(spec, specOut);
        long bytes = new FileInfo(output).Length;
        log.WriteLine($"{output}: {spec.Architecture}, {layers} layers, dim {dim}, {GgmlTypeTraits.Name(type)}, {bytes / 1048576.0:F1} MiB");
        return 0;
    }

    /// <summary>The quantizer seam of <see cref="GgufSynth"/>: reference (ggml-identical) row quantization from Ingot.Runtime.</summary>
    public static unsafe byte[] QuantizeRow(GgmlType type, float[] row)
    {
        var dst = new byte[GgmlTypeTraits.RowBytes(type, row.Length)];
        fixed (float* x = row)
        fixed (byte* d = dst)
            Runtime.Quants.Quantize.WeightRow(type, x, d, row.Length);
        return dst;
    }
}
