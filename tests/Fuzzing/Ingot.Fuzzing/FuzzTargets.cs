using System.Buffers.Binary;
using System.Text;
using Ingot.Formats;
using Ingot.Runtime.Chat;
using Ingot.Runtime.Tokenization;
using Ingot.Specs;

namespace Ingot.Fuzzing;

/// <summary>
/// One fuzz target per reader of untrusted input: each takes the bytes AFL++ made and drives the reader as the product
/// does. A documented error (<see cref="InvalidModelFileException"/>, <see cref="ChatTemplateException"/>, a spec
/// diagnostic) is the reader doing its job; any other exception escapes and is a crash. Readers that take a path get
/// the bytes in a per-process scratch file.
/// </summary>
public static class FuzzTargets
{
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>
    {
        ["gguf"] = Gguf,
        ["safetensors"] = Safetensors,
        ["llama2c"] = Llama2c,
        ["spm-model"] = SentencePieceModel,
        ["tokenizer-json"] = TokenizerJson,
        ["spec-json"] = SpecJson,
        ["jinja"] = Jinja,
    };

    // One directory per process; those of ended processes (AFL kills its targets, test hosts end without exit
    // handlers) are removed when the next one starts.
    private static readonly string Scratch = Ingot.TestSupport.TestTemp.Directory("ingot-fuzz");

    private static string File_(string name, ReadOnlySpan<byte> data)
    {
        string path = Path.Combine(Scratch, name);
        File.WriteAllBytes(path, data);
        return path;
    }

    /// <summary>GGUF: the header, the spec it describes, its tokenizer (encode and decode a little) and its chat template.</summary>
    private static void Gguf(byte[] data)
    {
        try
        {
            using var f = GgufFile.Open(File_("model.gguf", data));
            try { GgufSpecReader.FromGguf(f); } catch (InvalidModelFileException) { }
            try
            {
                var t = Tokenizer.FromGguf(f);
                t.Decode(t.Tokenize("Hello, world! ünïcode 日本", addSpecialTokens: true));
            }
            catch (InvalidModelFileException) { }
            try { ChatTemplate.FromGguf(f).Render([new ChatMessage("user", "hi")]); }
            catch (ChatTemplateException) { }
            catch (InvalidModelFileException) { }
        }
        catch (InvalidModelFileException) { }
    }

    private static void Safetensors(byte[] data)
    {
        try
        {
            using var f = SafetensorsFile.Open(File_("model.safetensors", data));
        }
        catch (InvalidModelFileException) { }
    }

    /// <summary>llama2c: [u32 n][n bytes checkpoint][tokenizer.bin], imported as `ingot build model.bin --tokenizer tok.bin` does.</summary>
    private static void Llama2c(byte[] data)
    {
        if (data.Length < 4) return;
        int n = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(data), (uint)(data.Length - 4));
        string model = File_("model.bin", data.AsSpan(4, n)), tok = File_("tok.bin", data.AsSpan(4 + n));
        try { Llama2cImporter.Import(model, tok, "fuzz").Dispose(); }
        catch (InvalidModelFileException) { }
    }

    private static void SentencePieceModel(byte[] data)
    {
        try { SentencePieceModelReader.Parse(data); }
        catch (InvalidModelFileException) { }
    }

    /// <summary>tokenizer.json: read, then encode and decode a little.</summary>
    private static void TokenizerJson(byte[] data)
    {
        try
        {
            var t = HuggingFaceTokenizer.FromFile(File_("tokenizer.json", data));
            t.Decode(t.Tokenize("Hello, world! ünïcode 日本", addSpecialTokens: true));
        }
        catch (InvalidModelFileException) { }
    }

    /// <summary>A model spec: the generator's parser (diagnostics, never exceptions) and the runtime's reader.</summary>
    private static void SpecJson(byte[] data)
    {
        string text = Encoding.UTF8.GetString(data);
        SpecParser.Parse(text);
        try { ModelSpecJson.Parse(text); }
        catch (InvalidModelFileException) { }
    }

    /// <summary>A chat template (they arrive inside downloaded GGUF files): parsed, then rendered on a short conversation.</summary>
    private static void Jinja(byte[] data)
    {
        try
        {
            new ChatTemplate(Encoding.UTF8.GetString(data), "<s>", "</s>")
                .Render([new ChatMessage("system", "Be brief."), new ChatMessage("user", "hi"), new ChatMessage("assistant", "hello"), new ChatMessage("user", "bye")]);
        }
        catch (ChatTemplateException) { }
    }
}
