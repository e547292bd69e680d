using System.Text;
using Ingot.Specs;

namespace Ingot.Formats;

/// <summary>
/// modelspecs/NAME.json ⇄ <see cref="ModelSpec"/> for the importers and the CLI: the shared <see cref="SpecWriter"/> and
/// <see cref="SpecParser"/> (the generator uses the same two), plus what only a file reader checks: that every weight
/// type is a ggml type name. A bad spec throws <see cref="InvalidModelFileException"/> naming the key and the line.
/// </summary>
public static class ModelSpecJson
{
    public static string Serialize(ModelSpec spec) => SpecWriter.Write(spec);

    public static void Write(ModelSpec spec, string path) => File.WriteAllText(path, Serialize(spec), new UTF8Encoding(false));

    public static ModelSpec Read(string path) => Parse(File.ReadAllText(path), path);

    public static ModelSpec Parse(string json, string path = "<spec>")
    {
        var r = SpecParser.Parse(json);
        if (r.Spec is null)
        {
            var p = r.Problems[0];
            throw new InvalidModelFileException(path, p.Id == SpecProblem.MalformedJson ? "json" : $"key '{p.Key}'", p.Offset,
                p.Id == SpecProblem.MalformedJson ? $"line {p.Line}, column {p.Column}: {p.Message}" : p.Message);
        }
        foreach (var role in r.Spec.Weights.Roles) CheckType(path, "weights." + role.Role, role.Type);
        foreach (var o in r.Spec.Weights.Layers) CheckType(path, $"weights.layers.{o.Layer}.{o.Role}", o.Type);
        return r.Spec;
    }

    private static void CheckType(string path, string key, string type)
    {
        if (!GgmlTypeTraits.TryParse(type, out _)) throw new InvalidModelFileException(path, $"key '{key}'", null, $"not a ggml type name: '{type}'");
    }
}

/// <summary>The spec's weight map in <see cref="GgmlType"/> terms.</summary>
public static class SpecWeights
{
    /// <summary>Builds a <see cref="WeightsSpec"/> from GGUF tensor names and types (see <see cref="WeightsSpec.FromTensors"/>).</summary>
    public static WeightsSpec FromTensors(IEnumerable<(string Name, GgmlType Type)> tensors) =>
        WeightsSpec.FromTensors(tensors.Select(t => new KeyValuePair<string, string>(t.Name, GgmlTypeTraits.Name(t.Type))));

    /// <summary>The type of one tensor role (a layer override if <paramref name="layer"/> has one), or null.</summary>
    public static GgmlType? TypeOf(this WeightsSpec w, string role, int layer = -1)
    {
        string? name = layer >= 0 ? w.ForLayer(layer, role) : w.Role(role);
        return name is not null && GgmlTypeTraits.TryParse(name, out var t) ? t : null;
    }
}
