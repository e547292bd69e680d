using Ingot.Cli.Building;
using Ingot.Formats;
using Ingot.Host.CommandLine;

namespace Ingot.Cli.Commands;

/// <summary>
/// <c>ingot build MODEL</c>: import → spec JSON → host project → NativeAOT publish → <c>OUT/NAME</c> + <c>OUT/NAME.gguf</c>.
/// Progress lines go to stdout; the last line is the executable's full path (scripts take it with <c>tail -1</c>).
/// </summary>
public sealed class BuildCommand : ICliCommand
{
    public string Name => "build";
    public string Summary => "compile a model into a native executable";

    public string Usage =>
        "usage: ingot build MODEL [--tokenizer FILE] [--name NAME] [-o OUT] [--isa ISA] [-r RID] [--single-file]\n" +
        "                  [--weights-layout gguf|ingot]\n\n" +
        "  MODEL             a GGUF file, a llama2.c .bin checkpoint, or a Hugging Face folder\n" +
        "  --tokenizer FILE  tokenizer for a llama2.c checkpoint (tok512.bin, tokenizer.model …)\n" +
        "  --name NAME       executable name (default: the file name without a quantization tag)\n" +
        "  -o, --out OUT     output directory (default: out/); gets OUT/NAME and OUT/NAME.gguf\n" +
        "  --isa ISA         " + string.Join(" | ", IsaTarget.Known) + " (default " + IsaTarget.Default + ")\n" +
        "  -r, --runtime RID runtime identifier (default: linux-x64, or linux-arm64 for arm64)\n" +
        "  --weights-layout  gguf: the weights as the model file has them; ingot: Q4_0 and Q4_K matmul weights 16 rows\n" +
        "                    interleaved\n" +
        "                    (same values, same logits; faster with AVX512-VNNI, see README). Default: ingot for\n" +
        "                    x86-64-v4, and for native / auto on a CPU with AVX512-VNNI; gguf otherwise\n" +
        "  --single-file     append the weights to OUT/NAME (page-aligned; it maps them from its own file; --model still\n" +
        "                    overrides): copy that one file anywhere and run it\n";

    public int Run(string[] args) => Run(args, Console.Out);

    public int Run(string[] args, TextWriter output)
    {
        var a = new ArgReader(args);
        string? tokenizer = a.OptionOrNull("--tokenizer");
        string? name = a.OptionOrNull("--name");
        string outDir = a.OptionOr("out", "-o", "--out");
        string isa = a.OptionOr(IsaTarget.Default, "--isa");
        string? rid = a.OptionOrNull("-r", "--runtime");
        bool singleFile = a.Flag("--single-file");
        string? layout = a.OptionOrNull("--weights-layout");
        if (layout is not (null or "gguf" or "ingot")) throw new UsageException($"--weights-layout takes gguf or ingot; got '{layout}'");
        string model = a.RequiredPositional("MODEL");
        a.ThrowIfUnknown();

        var target = IsaTarget.Parse(isa, rid);
        layout ??= target.DefaultWeightsLayout;
        if (!File.Exists(model) && !Directory.Exists(model)) throw ModelBuilder.ModelNotFound(model);
        if (tokenizer is not null && !File.Exists(tokenizer)) throw new FileNotFoundException($"tokenizer not found: {Path.GetFullPath(tokenizer)}", tokenizer);
        var compiler = CompilerSource.Locate();
        name = name is null ? ModelBuilder.DefaultName(model) : ModelBuilder.Sanitize(name);

        output.WriteLine($"importing {Path.GetFullPath(model)}");
        output.Flush();
        using var source = ModelSource.Import(model, tokenizer, name);
        output.WriteLine($"model: {name} — {source.Summary}");
        string fullOut = Path.GetFullPath(outDir);
        string buildDir = Path.Combine(fullOut, ".ingot-build", name);
        // One file: the GGUF goes to the build folder and then onto the end of the executable (an auto build's launcher,
        // where its variants look too), and no NAME.gguf is left beside it.
        string weights = ModelBuilder.WriteWeights(source, name, singleFile ? buildDir : fullOut, output, layout == "ingot");
        if (singleFile && File.Exists(Path.Combine(fullOut, name + ".gguf"))) { File.Delete(Path.Combine(fullOut, name + ".gguf")); File.Delete(Path.Combine(fullOut, name + ".gguf.source")); }
        string exe = ModelBuilder.BuildExecutable(source, name, target, buildDir, fullOut, compiler, output);
        if (singleFile)
        {
            AppendedWeights.Append(exe, weights);
            output.WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, "weights appended: {0:N0} bytes", new FileInfo(weights).Length).Replace(',', '_'));
        }
        output.WriteLine(exe);
        output.Flush();
        return 0;
    }
}
