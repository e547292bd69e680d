namespace Ingot.Formats.HuggingFace;

/// <summary>
/// The *.safetensors files of an HF folder (one, or the shards of model-0000N-of-0000M), open until Dispose, with
/// every tensor under its canonical name (the family's <c>HfName</c>: "transformer.h.0…" and "h.0…" are one GPT-2
/// name). A name in two files is an error.
/// </summary>
internal sealed class HfCheckpoint : IDisposable
{
    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, (SafetensorsFile File, SafetensorsTensor Tensor)> _byName;

    private HfCheckpoint(List<SafetensorsFile> files, Dictionary<string, (SafetensorsFile, SafetensorsTensor)> byName)
    {
        _files = files;
        _byName = byName;
    }

    public static HfCheckpoint Open(IReadOnlyList<string> paths, Func<string, string> canonicalName)
    {
        var files = new List<SafetensorsFile>();
        try
        {
            var byName = new Dictionary<string, (SafetensorsFile, SafetensorsTensor)>(StringComparer.Ordinal);
            foreach (var p in paths)
            {
                var f = SafetensorsFile.Open(p);
                files.Add(f);
                foreach (var t in f.Tensors)
                    if (!byName.TryAdd(canonicalName(t.Name), (f, t))) throw new InvalidModelFileException(f.Path, $"tensor '{t.Name}'", null, "appears twice (in this file or another *.safetensors of the folder)");
            }
            return new HfCheckpoint(files, byName);
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }

    /// <summary>The file a missing tensor is reported against.</summary>
    public string FirstPath => _files[0].Path;

    public IEnumerable<string> Names => _byName.Keys;

    public bool Has(string name) => _byName.ContainsKey(name);

    public bool TryFind(string name, out SafetensorsFile file, out SafetensorsTensor tensor)
    {
        bool found = _byName.TryGetValue(name, out var e);
        (file, tensor) = e;
        return found;
    }

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
    }
}
