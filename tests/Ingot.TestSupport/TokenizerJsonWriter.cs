using System.Text.Json;
using Ingot.Formats;
using Ingot.Formats.HuggingFace;

namespace Ingot.TestSupport;

/// <summary>
/// Writes Hugging Face tokenizer.json files the way the tokenizers library stores them, from a vocabulary given as
/// GGUF tokens and token types: "added_tokens" (control tokens special, user-defined ones not), then whatever the
/// caller's body writes (normalizer, pre_tokenizer, decoder, model). No real tokenizer.json ships in ../shared, so
/// the tests make theirs with this, following convert_hf_to_gguf in reverse.
/// </summary>
public static class TokenizerJsonWriter
{
    private const int Control = 3, UserDefined = 4, Unused = 5;

    public static void Write(string path, IReadOnlyList<string> tokens, IReadOnlyList<int> types, Action<Utf8JsonWriter> body)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteStartArray("added_tokens");
        for (int i = 0; i < tokens.Count; i++)
        {
            if (types[i] is not (Control or UserDefined)) continue;
            w.WriteStartObject();
            w.WriteNumber("id", i);
            w.WriteString("content", tokens[i]);
            w.WriteBoolean("special", types[i] == Control);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        body(w);
        w.WriteEndObject();
    }

    /// <summary>
    /// "model": {"type": "BPE", …extra, "vocab": {token: id}, "merges": […]}; with <paramref name="types"/>, unused
    /// "[PADn]" holes are left out of the vocab (the importer pads them back); merges are "a b" strings unless
    /// <paramref name="writeMerge"/> writes them otherwise.
    /// </summary>
    public static void WriteBpeModel(Utf8JsonWriter w, IReadOnlyList<string> tokens, IReadOnlyList<int>? types, IEnumerable<string> merges,
                                     Action<Utf8JsonWriter>? extra = null, Action<Utf8JsonWriter, string>? writeMerge = null)
    {
        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        extra?.Invoke(w);
        w.WriteStartObject("vocab");
        for (int i = 0; i < tokens.Count; i++)
            if (types is null || types[i] != Unused) w.WriteNumber(tokens[i], i);
        w.WriteEndObject();
        w.WriteStartArray("merges");
        foreach (string m in merges)
        {
            if (writeMerge is null) w.WriteStringValue(m);
            else writeMerge(w, m);
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>
    /// A GGUF byte-level BPE vocabulary (tokenizer.ggml.model "gpt2") as tokenizer.json: added tokens, the
    /// pre_tokenizer <see cref="HfPreTokenizers"/> lists for tokenizer.ggml.pre (GPT-2's when the key is absent), a
    /// ByteLevel decoder, and the BPE model with the GGUF's merges.
    /// </summary>
    public static void WriteByteLevel(string path, GgufFile f)
    {
        string[] tokens = f.GetArray<string>("tokenizer.ggml.tokens");
        int[] types = f.GetArray<int>("tokenizer.ggml.token_type");
        string pre = f.GetString("tokenizer.ggml.pre", null) ?? "gpt-2";
        string preJson = HfPreTokenizers.JsonFor(pre) ?? throw new NotSupportedException($"{f.Path}: no tokenizer.json form known for pre-tokenizer '{pre}'");
        Write(path, tokens, types, w =>
        {
            w.WritePropertyName("pre_tokenizer");
            using (var doc = JsonDocument.Parse(preJson)) doc.RootElement.WriteTo(w);
            w.WriteStartObject("decoder");
            w.WriteString("type", "ByteLevel");
            w.WriteEndObject();
            WriteBpeModel(w, tokens, types, f.GetArray<string>("tokenizer.ggml.merges"));
        });
    }

    /// <summary>
    /// A WordPiece tokenizer.json (BERT) from llama.cpp's phantom-space vocabulary, reversed: "▁x" → "x", a bracketed
    /// token stays, any other token continues a word ("##x"). Every id is in the vocab (a real BERT vocabulary has no
    /// holes; its [unusedN] entries are ordinary tokens to the converter).
    /// </summary>
    public static void WriteWordPiece(string path, GgufFile f)
    {
        string[] tokens = f.GetArray<string>("tokenizer.ggml.tokens");
        int[] types = f.GetArray<int>("tokenizer.ggml.token_type");
        string[] hf = [.. tokens.Select(t => t.StartsWith('[') && t.EndsWith(']') ? t : t.StartsWith('\u2581') ? t[1..] : "##" + t)];
        Write(path, hf, types, w =>
        {
            w.WriteStartObject("model");
            w.WriteString("type", "WordPiece");
            w.WriteString("unk_token", "[UNK]");
            w.WriteString("continuing_subword_prefix", "##");
            w.WriteNumber("max_input_chars_per_word", 100);
            w.WriteStartObject("vocab");
            for (int i = 0; i < hf.Length; i++)
                if (types[i] is not (Control or UserDefined)) w.WriteNumber(hf[i], i);
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }
}
