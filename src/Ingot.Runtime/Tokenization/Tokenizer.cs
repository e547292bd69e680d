using System.Text;
using Ingot.Formats;

namespace Ingot.Runtime.Tokenization;

/// <summary>
/// Text ↔ token ids, shaped like Microsoft.ML.Tokenizers (EncodeToIds, Decode, CountTokens) so either can be swapped in.
/// One factory per source; <see cref="FromGguf"/> reads llama.cpp's tokenizer.ggml.* metadata.
/// </summary>
public abstract class Tokenizer
{
    public abstract int VocabSize { get; }
    public abstract int? BosTokenId { get; }
    public abstract int? EosTokenId { get; }
    public abstract bool AddBosToken { get; }
    public abstract bool AddEosToken { get; }

    public abstract IReadOnlyList<int> EncodeToIds(string text, bool addSpecialTokens = false, bool parseSpecialTokens = true);

    public virtual int CountTokens(string text, bool addSpecialTokens = false, bool parseSpecialTokens = true) =>
        EncodeToIds(text, addSpecialTokens, parseSpecialTokens).Count;

    /// <summary>The bytes a token stands for (UTF-8 fragments for byte tokens), without special-token text unless asked.</summary>
    public abstract void AppendTokenBytes(int id, List<byte> bytes, bool includeSpecialTokens, bool afterBos);

    public virtual bool IsEndOfGeneration(int id) => id == EosTokenId;

    public string Decode(IEnumerable<int> ids, bool includeSpecialTokens = false)
    {
        var bytes = new List<byte>();
        int prev = -1;
        foreach (int id in ids)
        {
            AppendTokenBytes(id, bytes, includeSpecialTokens, prev == BosTokenId || prev == -1);
            prev = id;
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public TokenStreamDecoder CreateStreamDecoder() => new(this);

    /// <summary>A Hugging Face tokenizer.json, or a folder holding one (tokenizer_config.json beside it is read too).</summary>
    public static Tokenizer FromHuggingFace(string pathOrFolder) => HuggingFaceTokenizer.FromFile(pathOrFolder);

    public static Tokenizer FromGguf(GgufFile file)
    {
        string model = file.TryGetValue("tokenizer.ggml.model", out var m) ? (string)m.Value : "";
        return model switch
        {
            "llama" => SentencePieceBpeTokenizer.FromGgufMetadata(file),
            "gpt2" => ByteLevelBpeTokenizer.FromGgufMetadata(file),
            "bert" => WordPieceTokenizer.FromGgufMetadata(file),
            "t5" => UnigramTokenizer.FromGgufMetadata(file),
            _ => throw new NotSupportedException($"{file.Path}: tokenizer.ggml.model '{model}' is not supported yet"),
        };
    }
}

/// <summary>Turns ids into text incrementally, holding back bytes until they form whole UTF-8 characters.</summary>
public sealed class TokenStreamDecoder
{
    private readonly Tokenizer _tokenizer;
    private readonly List<byte> _pending = new(16);
    private readonly Decoder _utf8 = new UTF8Encoding(false, false).GetDecoder();
    private readonly char[] _chars = new char[64];
    private int _prev = -1;

    internal TokenStreamDecoder(Tokenizer tokenizer) => _tokenizer = tokenizer;

    /// <summary>Adds one token; returns the text completed by it (possibly empty).</summary>
    public string Append(int id)
    {
        _pending.Clear();
        _tokenizer.AppendTokenBytes(id, _pending, includeSpecialTokens: false, afterBos: _prev == _tokenizer.BosTokenId || _prev == -1);
        _prev = id;
        if (_pending.Count == 0) return "";
        var sb = new StringBuilder();
        foreach (byte b in _pending)
        {
            ReadOnlySpan<byte> one = [b];
            int n = _utf8.GetChars(one, _chars, flush: false);
            sb.Append(_chars, 0, n);
        }
        return sb.ToString();
    }

    /// <summary>Emits whatever incomplete character is left (as U+FFFD).</summary>
    public string Flush()
    {
        int n = _utf8.GetChars(ReadOnlySpan<byte>.Empty, _chars, flush: true);
        return new string(_chars, 0, n);
    }
}
