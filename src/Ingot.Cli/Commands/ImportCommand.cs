using Ingot.Cli.Building;
using Ingot.Formats;
using Ingot.Host.CommandLine;

namespace Ingot.Cli.Commands;

/// <summary>`ingot import MODEL [--tokenizer FILE] [--name NAME] [-o SPEC.json] [--gguf OUT.gguf]`: writes the model's spec.</summary>
public sealed class ImportCommand : ICliCommand
{
    public string Name => "import";
    public string Summary => "read a model (GGUF, llama2.c .bin, HF folder) and write its spec modelspecs/NAME.json";
    public string Usage =>
        "usage: ingot import MODEL [--tokenizer FILE] [--name NAME] [-o SPEC.json] [--gguf OUT.gguf]\n" +
        "  MODEL        a .gguf file, a llama2.c checkpoint (.bin; needs --tokenizer tokenizer.bin unless one sits next to it),\n" +
        "               or a Hugging Face folder (config.json + *.safetensors + tokenizer.model or tokenizer.json)\n" +
        "  --name NAME  spec name (default: the file name without extension, dots replaced by dashes)\n" +
        "  -o FILE      where to write the spec (default: modelspecs/NAME.json; '-' prints it)\n" +
        "  --gguf FILE  also write the model as GGUF (F32 weights + tokenizer metadata; a copy for GGUF input)";

    public int Run(string[] args)
    {
        var r = new ArgReader(args);
        string? tokenizer = r.OptionOrNull("--tokenizer");
        string? name = r.OptionOrNull("--name");
        string? output = r.OptionOrNull("-o", "--output");
        string? gguf = r.OptionOrNull("--gguf");
        string model = r.RequiredPositional("MODEL");
        r.ThrowIfUnknown();
        if (name is not null && (name.Length == 0 || name.IndexOfAny(['/', '\\', '.', ' ']) >= 0))
            throw new UsageException($"--name '{name}' must be a plain file name without dots, slashes or spaces");

        using var m = ModelImporter.Import(model, tokenizer, name);
        string json = ModelSpecJson.Serialize(m.Spec);
        SpecCompileCheck.ThrowIfNotCompilable(m.Spec.Name, json);
        if (output == "-")
        {
            Console.Out.Write(json);
        }
        else
        {
            output ??= Path.Combine("modelspecs", m.Spec.Name + ".json");
            string? dir = Path.GetDirectoryName(Path.GetFullPath(output));
            if (dir is not null) Directory.CreateDirectory(dir);
            File.WriteAllText(output, json);
            Console.Error.WriteLine($"{output}: {m.Spec.Architecture} {m.Spec.Layers} layers, dim {m.Spec.Dim}, vocab {m.Spec.VocabSize} (from {m.Format})");
        }
        if (gguf is not null)
        {
            m.WriteGguf(gguf);
            Console.Error.WriteLine($"{gguf}: written");
        }
        return 0;
    }
}
