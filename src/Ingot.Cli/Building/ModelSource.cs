using System.Globalization;
using Ingot.Formats;

namespace Ingot.Cli.Building;

/// <summary>
/// A model as `ingot build`/`run` need it: its spec JSON, its GGUF header bytes (for the fingerprint) and a way to
/// write the GGUF the executable loads. The one place that talks to the formats importer.
/// </summary>
public sealed class ModelSource : IDisposable
{
    private readonly ImportedModel _model;

    private ModelSource(string path, string? tokenizerPath, ImportedModel model)
    {
        Path = System.IO.Path.GetFullPath(path);
        TokenizerPath = tokenizerPath is null ? null : System.IO.Path.GetFullPath(tokenizerPath);
        _model = model;
        IsGguf = model.Format == "gguf";
        GgufHeader = IsGguf ? ReadGgufHeader(Path) : [];
        var s = model.Spec;
        Summary = string.Create(CultureInfo.InvariantCulture,
            $"{s.Architecture} from {model.Format}: {s.Layers} layers, dim {s.Dim}, {s.Attention.Heads}/{s.Attention.KvHeads} heads, ffn {s.FfnDim}, vocab {s.VocabSize}, trained context {s.ContextLength}");
    }

    public string Path { get; }
    public string? TokenizerPath { get; }
    public bool IsGguf { get; }
    /// <summary>The GGUF header of the input (empty for other formats, whose spec JSON already says everything the build depends on).</summary>
    public byte[] GgufHeader { get; }
    public string Summary { get; }

    /// <summary>Reads the model's header/config (no tensor data) through <see cref="ModelImporter"/>.</summary>
    public static ModelSource Import(string path, string? tokenizerPath, string name) =>
        new(path, tokenizerPath, ModelImporter.Import(path, tokenizerPath, name));

    /// <summary>The spec JSON with its "name" set to <paramref name="name"/> (the AdditionalFile, the executable and its weights file share it).</summary>
    public string SpecJsonFor(string name)
    {
        return ModelSpecJson.Serialize(_model.Spec with { Name = name });
    }

    /// <summary>Writes the GGUF the executable loads: a copy for GGUF input, a conversion otherwise.</summary>
    public void WriteGguf(string destination) => _model.WriteGguf(destination);

    public void Dispose() => _model.Dispose();

    /// <summary>
    /// The bytes before the tensor data: magic, version, metadata and tensor infos (names, types, shapes, offsets).
    /// Everything the compiled binary can depend on, and nothing of the weights' values.
    /// </summary>
    public static byte[] ReadGgufHeader(string path)
    {
        long dataOffset;
        using (var gguf = GgufFile.Open(path)) dataOffset = gguf.DataOffset;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (dataOffset < 0 || dataOffset > stream.Length || dataOffset > int.MaxValue)
            throw new InvalidModelFileException(path, "data offset", null, $"{dataOffset} is outside the file ({stream.Length} bytes)");
        var header = new byte[dataOffset];
        stream.ReadExactly(header);
        return header;
    }

    /// <summary>True if the file starts with the GGUF magic.</summary>
    public static bool LooksLikeGguf(string path)
    {
        if (!File.Exists(path)) return false;
        Span<byte> magic = stackalloc byte[4];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return stream.Read(magic) == 4 && magic.SequenceEqual("GGUF"u8);
    }

    /// <summary>Identity of the input (path, size, modification time; tokenizer too), to tell whether a converted copy is stale.</summary>
    public string Stamp()
    {
        static string One(string p)
        {
            if (File.Exists(p)) { var f = new FileInfo(p); return string.Create(CultureInfo.InvariantCulture, $"{f.FullName}|{f.Length}|{f.LastWriteTimeUtc.Ticks}"); }
            var d = new DirectoryInfo(p);
            return string.Join(";", d.EnumerateFiles().OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => One(f.FullName)));
        }
        return One(Path) + (TokenizerPath is null ? "" : "+" + One(TokenizerPath));
    }
}
