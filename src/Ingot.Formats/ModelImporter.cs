using Ingot.Specs;

namespace Ingot.Formats;

/// <summary>One tensor of an imported model in GGUF terms: canonical name, type, ne dims, and a writer of exactly its bytes.</summary>
public sealed record ImportedTensor(string Name, GgmlType Type, long[] Dims, Action<Stream> WriteData);

/// <summary>
/// A model read from any supported format: its <see cref="ModelSpec"/>, plus what it takes to write it as GGUF
/// (the metadata and the tensors in canonical GGUF names and order, weights in GGUF's interleaved rope order).
/// Source files stay open until Dispose, because tensor data is streamed at write time.
/// </summary>
public sealed class ImportedModel : IDisposable
{
    private readonly IDisposable? _owner;

    internal ImportedModel(string format, string sourcePath, ModelSpec spec, IReadOnlyList<GgufMetadataEntry> metadata,
                           IReadOnlyList<ImportedTensor> tensors, IDisposable? owner)
    {
        Format = format;
        SourcePath = sourcePath;
        Spec = spec;
        Metadata = metadata;
        Tensors = tensors;
        _owner = owner;
    }

    /// <summary>"gguf" | "llama2c" | "hf".</summary>
    public string Format { get; }
    public string SourcePath { get; }
    public ModelSpec Spec { get; }
    public IReadOnlyList<GgufMetadataEntry> Metadata { get; }
    public IReadOnlyList<ImportedTensor> Tensors { get; }

    /// <summary>Writes the model as a GGUF v3 file (a byte copy for GGUF input).</summary>
    public void WriteGguf(string outPath)
    {
        if (Format == "gguf")
        {
            if (System.IO.Path.GetFullPath(outPath) != System.IO.Path.GetFullPath(SourcePath)) File.Copy(SourcePath, outPath, overwrite: true);
            return;
        }
        var w = new GgufWriter();
        foreach (var e in Metadata) w.Set(e.Key, e.Value);
        foreach (var t in Tensors) w.AddTensor(t.Name, t.Type, t.Dims, t.WriteData);
        w.Write(outPath);
    }

    public void Dispose() => _owner?.Dispose();
}

/// <summary>
/// Detects the input format and imports it: a *.gguf file; a llama2.c checkpoint (*.bin, with its tokenizer.bin);
/// or a Hugging Face folder (config.json + *.safetensors + tokenizer.model or tokenizer.json).
/// </summary>
public static class ModelImporter
{
    public static ImportedModel Import(string path, string? tokenizerPath = null, string? name = null)
    {
        if (Directory.Exists(path))
            return HuggingFace.HfImporter.Import(path, tokenizerPath, name);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file or directory", path);
        if (HasGgufMagic(path))
        {
            using var f = GgufFile.Open(path);
            var spec = GgufSpecReader.FromGguf(f, name ?? DefaultName(path));
            return new ImportedModel("gguf", path, spec, [.. f.Metadata], [], null);
        }
        if (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            using var _ = GgufFile.Open(path); // throws the precise magic error
        }
        if (System.IO.Path.GetFileName(path) == "config.json" || path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            return HuggingFace.HfImporter.Import(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!, tokenizerPath, name);
        string tok = tokenizerPath ?? FindLlama2cTokenizer(path)
            ?? throw new FileNotFoundException($"{path}: a llama2.c checkpoint needs its vocabulary: pass --tokenizer tokenizer.bin");
        return Llama2cImporter.Import(path, tok, name ?? DefaultName(path));
    }

    /// <summary>A spec name from a file name: extension dropped, dots replaced by dashes ("llama-gqa.q8_0.gguf" → "llama-gqa-q8_0").</summary>
    public static string DefaultName(string path)
    {
        string n = Directory.Exists(path) ? new DirectoryInfo(path).Name : System.IO.Path.GetFileNameWithoutExtension(path);
        return n.Replace('.', '-');
    }

    private static bool HasGgufMagic(string path)
    {
        Span<byte> b = stackalloc byte[4];
        using var fs = File.OpenRead(path);
        return fs.Read(b) == 4 && System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(b) == GgufFile.Magic;
    }

    private static string? FindLlama2cTokenizer(string modelPath)
    {
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(modelPath))!;
        string p = System.IO.Path.Combine(dir, "tokenizer.bin");
        return File.Exists(p) ? p : null;
    }
}

/// <summary>An SPM vocabulary in GGUF terms (tokenizer.ggml.*).</summary>
public sealed record GgufVocab(string[] Tokens, float[] Scores, int[] TokenTypes, int Bos, int Eos, int Unk, int Pad, bool AddBos, bool AddEos)
{
    public const string SpaceMarker = "\u2581"; // ▁

    public void AddTo(GgufWriter w)
    {
        w.Set("tokenizer.ggml.model", "llama");
        w.Set("tokenizer.ggml.tokens", Tokens);
        w.Set("tokenizer.ggml.scores", Scores);
        w.Set("tokenizer.ggml.token_type", TokenTypes);
        if (Bos >= 0) w.Set("tokenizer.ggml.bos_token_id", (uint)Bos);
        if (Eos >= 0) w.Set("tokenizer.ggml.eos_token_id", (uint)Eos);
        if (Unk >= 0) w.Set("tokenizer.ggml.unknown_token_id", (uint)Unk);
        if (Pad >= 0) w.Set("tokenizer.ggml.padding_token_id", (uint)Pad);
        w.Set("tokenizer.ggml.add_bos_token", AddBos);
        w.Set("tokenizer.ggml.add_eos_token", AddEos);
    }

    public static GgufVocab FromSentencePiece(SentencePieceModel m, bool addBos = true, bool addEos = false) => new(
        [.. m.Pieces.Select(p => p.Piece)], [.. m.Pieces.Select(p => p.Score)], [.. m.Pieces.Select(p => (int)p.Type)],
        m.BosId, m.EosId, m.UnkId, m.PadId, addBos, addEos);

    /// <summary>
    /// llama2.c tokenizer.bin: i32 max_token_length, then per token f32 score, i32 length, bytes. The export wrote
    /// "▁" as a space and BOS/EOS as "\n&lt;s&gt;\n" / "\n&lt;/s&gt;\n"; both are undone here. Types: 0 UNKNOWN, 1–2 CONTROL,
    /// &lt;0xNN&gt; BYTE, else NORMAL; bos 1, eos 2, add_bos.
    /// </summary>
    public static GgufVocab FromLlama2cTokenizer(string path, int vocabSize)
    {
        byte[] b = File.ReadAllBytes(path);
        if (b.Length < 4) throw new InvalidModelFileException(path, "max_token_length", 0, "file too short");
        int maxLen = BitConverter.ToInt32(b, 0);
        if (maxLen <= 0) throw new InvalidModelFileException(path, "max_token_length", 0, $"invalid value {maxLen}");
        var tokens = new string[vocabSize];
        var scores = new float[vocabSize];
        var types = new int[vocabSize];
        long p = 4;
        for (int i = 0; i < vocabSize; i++)
        {
            if (b.Length - p < 8) throw new InvalidModelFileException(path, $"token[{i}]", p, $"file ends after {i} of {vocabSize} tokens");
            scores[i] = BitConverter.ToSingle(b, (int)p);
            int len = BitConverter.ToInt32(b, (int)p + 4);
            if (len < 0 || len > b.Length - p - 8) throw new InvalidModelFileException(path, $"token[{i}] length", p + 4, $"length {len} is invalid");
            string s = System.Text.Encoding.UTF8.GetString(b, (int)p + 8, len);
            p += 8 + len;
            if (i is 1 or 2) s = s.Trim('\n');
            s = s.Replace(" ", SpaceMarker, StringComparison.Ordinal);
            tokens[i] = s;
            types[i] = i == 0 ? 2 : i is 1 or 2 ? 3 : IsByteToken(s) ? 6 : 1;
        }
        if (p != b.Length)
            throw new InvalidModelFileException(path, $"token[{vocabSize}]", p, $"the file holds more tokens than the model's vocab_size {vocabSize} (wrong tokenizer? pass the matching --tokenizer)");
        return new GgufVocab(tokens, scores, types, 1, 2, 0, -1, true, false);
    }

    private static bool IsByteToken(string s) =>
        s.Length == 6 && s.StartsWith("<0x", StringComparison.Ordinal) && s[5] == '>' && Uri.IsHexDigit(s[3]) && Uri.IsHexDigit(s[4]);
}
