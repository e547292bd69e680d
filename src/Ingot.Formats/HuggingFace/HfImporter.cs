using System.Globalization;
using Ingot.Formats.Architectures;
using Ingot.Specs;

namespace Ingot.Formats.HuggingFace;

/// <summary>
/// A Hugging Face model folder: config.json, *.safetensors (F32/F16/BF16; one file or shards) and tokenizer.model or
/// tokenizer.json. config.json's model_type picks the family (<see cref="ArchitectureMapping.HfModelTypes"/>), whose
/// HF mapping says what the config means and which tensor goes where, as llama.cpp's convert_hf_to_gguf does. The
/// GGUF metadata is written from the config's spec fields, and the spec reported is read back from that metadata
/// and the tensor table with <see cref="GgufSpecReader"/>: what `ingot import` prints is what its --gguf file says.
/// </summary>
public static class HfImporter
{
    public static ImportedModel Import(string dir, string? tokenizerPath, string? name)
    {
        string configPath = Path.Combine(dir, "config.json");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{dir}: not a Hugging Face model folder (no config.json)", configPath);
        var files = Directory.GetFiles(dir, "*.safetensors").Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new FileNotFoundException($"{dir}: no *.safetensors weights (PyTorch .bin checkpoints are not supported)");
        name ??= ModelImporter.DefaultName(dir);

        var config = HfConfig.Read(configPath);
        string modelType = config.String("model_type") ?? throw config.Error("model_type", "missing (it names the model family)");
        var mapping = ArchitectureMapping.ForHfModelType(modelType)
            ?? throw config.Error("model_type", $"'{modelType}' is not supported (supported: {string.Join(", ", ArchitectureMapping.HfModelTypeNames)})");
        config = config.WithDefaults(mapping.HfDefaults);
        var fields = mapping.FromHfConfig(config) with { Name = name };
        var vocabulary = HfVocabulary.Read(dir, tokenizerPath, config, fields.VocabSize, mapping.HfAddSpacePrefix);

        var ck = HfCheckpoint.Open(files, mapping.HfName);
        try
        {
            var plan = mapping.HfTensors(fields, config, ck).ToList();
            var tensors = plan.Select(t => t.Bind(ck, mapping.Name)).ToList();
            RefuseUnused(ck, plan, fields, mapping);
            fields = fields with { Weights = SpecWeights.FromTensors(tensors.Select(t => (t.Name, t.Type))) };
            var metadata = ArchitectureMapping.Metadata(fields, w => { vocabulary(w); mapping.HfMetadata(config, w); });
            var header = GgufFile.FromHeader(configPath, metadata, tensors.Select(t => (t.Name, t.Type, t.Dims)));
            var spec = GgufSpecReader.FromGguf(header, name);
            return new ImportedModel("hf", dir, spec, metadata, tensors, ck);
        }
        catch
        {
            ck.Dispose();
            throw;
        }
    }

    /// <summary>Every checkpoint tensor is used or one the converter drops; anything else is one line naming it.</summary>
    private static void RefuseUnused(HfCheckpoint ck, List<HfTensor> plan, ModelSpec s, ArchitectureMapping mapping)
    {
        var used = plan.Select(t => t.Hf).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (string n in ck.Names.Order(StringComparer.Ordinal))
        {
            if (used.Contains(n) || mapping.HfDrops(n, s)) continue;
            ck.TryFind(n, out var file, out var t);
            int layer = n.Split('.').Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? i : -1).FirstOrDefault(i => i >= 0, -1);
            string problem = layer >= s.Layers
                ? $"belongs to layer {layer}, beyond num_hidden_layers {s.Layers} in config.json"
                : $"has no place in a {mapping.Name} model as config.json describes it";
            throw new InvalidModelFileException(file.Path, $"tensor '{t.Name}'", null, problem);
        }
    }
}
