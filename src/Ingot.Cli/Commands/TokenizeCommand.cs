using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Ingot.Formats;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Tokenization;

namespace Ingot.Cli.Commands;

/// <summary>
/// <c>ingot tokenize FILE [TEXT] [--jsonl]</c>: token ids of a text under any tokenizer source, one line of
/// space-separated ids. With --jsonl, stdin holds one JSON string per line and stdout gets one line of ids per input
/// line (an empty line for an empty result) — for comparing against other tokenizers over thousands of cases.
/// </summary>
public sealed class TokenizeCommand : ICliCommand
{
    public string Name => "tokenize";
    public string Summary => "print the token ids of a text under a tokenizer file (GGUF, tokenizer.json, tokenizer.model, tokenizer.bin)";

    public string Usage =>
        "usage: ingot tokenize FILE [TEXT] [--jsonl] [--add-special] [--no-parse-special] [--vocab-size N]\n\n" +
        "  FILE                a GGUF file (vocabulary-only is fine), a Hugging Face tokenizer.json (or its folder),\n" +
        "                      a SentencePiece tokenizer.model, or a llama2.c tokenizer.bin\n" +
        "  TEXT                the text to tokenize ('-' reads all of stdin)\n" +
        "  --jsonl             read stdin: one JSON string per line; print one line of ids per line\n" +
        "  --add-special       add BOS/EOS as the tokenizer's metadata says (default: none)\n" +
        "  --no-parse-special  treat special-token text such as <s> as plain text (default: parse it)\n" +
        "  --vocab-size N      tokens in a llama2.c tokenizer.bin (default: read entries until the end of the file)\n";

    public int Run(string[] args) => Run(args, Console.In, Console.Out);

    public int Run(string[] args, TextReader input, TextWriter output)
    {
        var a = new ArgReader(args);
        bool jsonl = a.Flag("--jsonl");
        bool addSpecial = a.Flag("--add-special");
        bool parseSpecial = !a.Flag("--no-parse-special");
        int vocabSize = a.Int(0, "--vocab-size");
        string file = a.RequiredPositional("FILE");
        string? text = a.Positional();
        a.ThrowIfUnknown();
        if (jsonl && text is not null) throw new UsageException("give either TEXT or --jsonl, not both");
        if (!jsonl && text is null) throw new UsageException("missing TEXT (or --jsonl to read JSON lines from stdin)");
        if (vocabSize < 0) throw new UsageException($"option --vocab-size: {vocabSize} is not a positive count");

        var tokenizer = Load(file, vocabSize);
        var line = new StringBuilder(1 << 16);
        if (!jsonl)
        {
            if (text == "-") text = input.ReadToEnd();
            AppendIds(line, tokenizer.Tokenize(text!, addSpecial, parseSpecial));
            output.Write(line.Append('\n'));
            output.Flush();
            return 0;
        }

        // Output is gathered in ~64 KB chunks: one write per chunk, not per line (Console.Out flushes every write).
        int number = 0;
        while (input.ReadLine() is { } json)
        {
            number++;
            AppendIds(line, tokenizer.Tokenize(ParseJsonString(json, number), addSpecial, parseSpecial));
            line.Append('\n');
            if (line.Length >= 1 << 16)
            {
                output.Write(line);
                line.Clear();
            }
        }
        output.Write(line);
        output.Flush();
        return 0;
    }

    private static void AppendIds(StringBuilder sb, IReadOnlyList<int> ids)
    {
        for (int i = 0; i < ids.Count; i++)
        {
            if (i > 0) sb.Append(' ');
            sb.Append(ids[i].ToString(CultureInfo.InvariantCulture));
        }
    }

    private static string ParseJsonString(string line, int number)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.ValueKind == JsonValueKind.String) return doc.RootElement.GetString()!;
            throw new InvalidDataException($"stdin line {number}: expected a JSON string, found a JSON {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"stdin line {number}: not a JSON string ({FirstLine(e.Message)})");
        }
    }

    private static string FirstLine(string s) => s.Split('\n')[0].TrimEnd('\r');

    /// <summary>Picks the loader by what the file is: GGUF magic, a .model protobuf, a .json/folder (HF), else llama2.c.</summary>
    public static Tokenizer Load(string path, int llama2cVocabSize = 0)
    {
        if (Directory.Exists(path))
        {
            string json = Path.Combine(path, "tokenizer.json");
            if (File.Exists(json)) return Tokenizer.FromHuggingFace(json);
            string spm = Path.Combine(path, "tokenizer.model");
            if (File.Exists(spm)) return FromSentencePieceModel(spm);
            throw new FileNotFoundException($"{path}: a folder without tokenizer.model or tokenizer.json", path);
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"tokenizer file not found: {path}", path);
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return Tokenizer.FromHuggingFace(path);

        Span<byte> magic = stackalloc byte[4];
        int got;
        using (var s = File.OpenRead(path)) got = s.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got == 4 && BinaryPrimitives.ReadUInt32LittleEndian(magic) == GgufFile.Magic)
        {
            using var gguf = GgufFile.Open(path);
            return Tokenizer.FromGguf(gguf);
        }
        if (path.EndsWith(".model", StringComparison.OrdinalIgnoreCase)) return FromSentencePieceModel(path);
        return SentencePieceBpeTokenizer.FromLlama2cBin(path, llama2cVocabSize > 0 ? llama2cVocabSize : CountLlama2cTokens(path));
    }

    /// <summary>A SentencePiece model: unigram (model_type 1) or BPE (2).</summary>
    private static Tokenizer FromSentencePieceModel(string path) =>
        SentencePieceModelReader.Read(path).ModelType == 1
            ? UnigramTokenizer.FromSentencePieceModel(path)
            : SentencePieceBpeTokenizer.FromSentencePieceModel(path);

    /// <summary>
    /// The number of entries in a llama2.c tokenizer.bin (i32 max_token_length, then per token f32 score, i32 length,
    /// bytes), walking them until the end of the file. Anything that does not end exactly there is not such a file.
    /// </summary>
    public static int CountLlama2cTokens(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        if (b.Length < 4) throw new InvalidModelFileException(path, "max_token_length", 0, "file too short for a llama2.c tokenizer.bin");
        int maxLength = BinaryPrimitives.ReadInt32LittleEndian(b);
        if (maxLength is <= 0 or > 1 << 16)
            throw new InvalidModelFileException(path, "max_token_length", 0, $"{maxLength} is not a token length: not a llama2.c tokenizer.bin (GGUF, tokenizer.model and tokenizer.bin are understood)");
        long p = 4;
        int count = 0;
        while (p < b.Length)
        {
            if (b.Length - p < 8) throw new InvalidModelFileException(path, $"token[{count}]", p, "file ends inside a token header");
            int length = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan((int)p + 4));
            if (length < 0 || length > maxLength || length > b.Length - p - 8)
                throw new InvalidModelFileException(path, $"token[{count}] length", p + 4, $"length {length} is invalid (max_token_length {maxLength})");
            p += 8 + length;
            count++;
        }
        if (count == 0) throw new InvalidModelFileException(path, "token[0]", 4, "no tokens");
        return count;
    }
}
