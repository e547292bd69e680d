using System.Buffers;
using System.Text;
using Ingot.Formats;
using Microsoft.ML.Tokenizers;

namespace Ingot.Runtime.Tokenization;

/// <summary>
/// Text ↔ token ids, exactly as llama.cpp tokenizes, and a <c>Microsoft.ML.Tokenizers.Tokenizer</c>: code that takes
/// ML.NET's tokenizer takes ours.
/// <list type="bullet">
/// <item><see cref="Tokenize"/> is llama.cpp's <c>llama_tokenize(text, add_special, parse_special)</c>.</item>
/// <item>ML.NET's API (EncodeToIds, EncodeToTokens with offsets, CountTokens, Decode) encodes with
/// <see cref="AddSpecialTokens"/> and <see cref="ParseSpecialTokens"/>. By default no BOS/EOS is added and special-token
/// text is parsed, as llama.cpp's tokenizer suites run; <see cref="WithEncodeDefaults"/> gives a tokenizer with other
/// defaults (ML.NET's LlamaTokenizer and BertTokenizer add theirs). ML.NET's switches to skip normalization or
/// pre-tokenization have no llama.cpp equivalent and throw.</item>
/// </list>
/// One factory per source; <see cref="FromGguf"/> reads llama.cpp's tokenizer.ggml.* metadata.
/// </summary>
public abstract class Tokenizer : Microsoft.ML.Tokenizers.Tokenizer
{
    public abstract int VocabSize { get; }
    public abstract int? BosTokenId { get; }
    public abstract int? EosTokenId { get; }
    public abstract bool AddBosToken { get; }
    public abstract bool AddEosToken { get; }

    /// <summary>llama.cpp's llama_tokenize: BOS/EOS as the model adds them when <paramref name="addSpecialTokens"/>; special-token text becomes its token when <paramref name="parseSpecialTokens"/>.</summary>
    public abstract IReadOnlyList<int> Tokenize(string text, bool addSpecialTokens = false, bool parseSpecialTokens = true);

    /// <summary>The bytes a token stands for (UTF-8 fragments for byte tokens), without special-token text unless asked.</summary>
    public abstract void AppendTokenBytes(int id, List<byte> bytes, bool includeSpecialTokens, bool afterBos);

    public virtual bool IsEndOfGeneration(int id) => id == EosTokenId;

    /// <summary>Whether ML.NET's encode methods add BOS/EOS as the model does (false unless set by <see cref="WithEncodeDefaults"/>).</summary>
    public bool AddSpecialTokens { get; private set; }

    /// <summary>Whether ML.NET's encode methods turn special-token text into its token (true unless set by <see cref="WithEncodeDefaults"/>).</summary>
    public bool ParseSpecialTokens { get; private set; } = true;

    /// <summary>This tokenizer (sharing its tables) with other defaults for ML.NET's encode methods.</summary>
    public Tokenizer WithEncodeDefaults(bool addSpecialTokens, bool parseSpecialTokens = true)
    {
        var t = (Tokenizer)MemberwiseClone();
        t.AddSpecialTokens = addSpecialTokens;
        t.ParseSpecialTokens = parseSpecialTokens;
        return t;
    }

    /// <summary>
    /// Each id's span in <paramref name="text"/> ((start, end) in UTF-16 units, end exclusive) for
    /// <c>Tokenize(text, addSpecialTokens, …)</c>'s ids. By default from decoding, exact when the ids decode back to
    /// the text (see <see cref="TokenOffsets"/>); WordPiece maps its matches.
    /// </summary>
    public virtual IReadOnlyList<(int Start, int End)> Offsets(string text, IReadOnlyList<int> ids, bool addSpecialTokens) =>
        TokenOffsets.ByDecoding(this, text, ids, addSpecialTokens);

    /// <summary>ML.NET's encoding: <see cref="Tokenize"/> with this tokenizer's defaults, cut to MaxTokenCount.</summary>
    protected override EncodeResults<int> EncodeToIds(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        string s = Input(text, textSpan, settings);
        var ids = Tokenize(s, AddSpecialTokens, ParseSpecialTokens);
        if (settings.MaxTokenCount >= ids.Count) return new EncodeResults<int> { Tokens = ids, CharsConsumed = s.Length };
        int n = settings.MaxTokenCount;
        var offsets = Offsets(s, ids, AddSpecialTokens);
        return new EncodeResults<int> { Tokens = ids.Take(n).ToArray(), CharsConsumed = n == 0 ? 0 : offsets[n - 1].End };
    }

    /// <summary>ML.NET's tokens: id, the vocabulary's piece, and its span in the input.</summary>
    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        string s = Input(text, textSpan, settings);
        var ids = Tokenize(s, AddSpecialTokens, ParseSpecialTokens);
        var offsets = Offsets(s, ids, AddSpecialTokens);
        int n = Math.Min(ids.Count, settings.MaxTokenCount);
        var tokens = new EncodedToken[n];
        for (int i = 0; i < n; i++) tokens[i] = new EncodedToken(ids[i], PieceText(ids[i]), new Range(offsets[i].Start, offsets[i].End));
        return new EncodeResults<EncodedToken> { Tokens = tokens, CharsConsumed = n == ids.Count ? s.Length : n == 0 ? 0 : offsets[n - 1].End };
    }

    protected override int CountTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings) =>
        EncodeToIds(text, textSpan, settings).Tokens.Count;

    /// <summary>The text of a token as its vocabulary spells it (byte-level BPE's Ġ form, SentencePiece's ▁, WordPiece's ##).</summary>
    public abstract string PieceText(int id);

    private static string Input(string? text, ReadOnlySpan<char> span, EncodeSettings settings)
    {
        if (!settings.ConsiderNormalization || !settings.ConsiderPreTokenization)
            throw new NotSupportedException("llama.cpp's tokenizers always normalize and pre-tokenize: considerNormalization and considerPreTokenization must be true");
        if (settings.MaxTokenCount < 0) throw new ArgumentOutOfRangeException(nameof(settings), settings.MaxTokenCount, "MaxTokenCount must be >= 0");
        return text ?? span.ToString();
    }

    /// <summary>ML.NET's Decode: the text of the ids, special tokens left out (as <see cref="Decode(IEnumerable{int}, bool)"/> with false).</summary>
    public override string Decode(IEnumerable<int> ids) => Decode(ids, includeSpecialTokens: false);

    /// <summary>ML.NET's Decode into a buffer: whole tokens' text while it fits.</summary>
    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        ArgumentNullException.ThrowIfNull(ids);
        idsConsumed = 0;
        charsWritten = 0;
        var decoder = CreateStreamDecoder();
        foreach (int id in ids)
        {
            string piece = decoder.Append(id);
            if (piece.Length > destination.Length - charsWritten) return OperationStatus.DestinationTooSmall;
            piece.AsSpan().CopyTo(destination[charsWritten..]);
            charsWritten += piece.Length;
            idsConsumed++;
        }
        string tail = decoder.Flush();
        if (tail.Length > destination.Length - charsWritten) return OperationStatus.DestinationTooSmall;
        tail.AsSpan().CopyTo(destination[charsWritten..]);
        charsWritten += tail.Length;
        return OperationStatus.Done;
    }

    public string Decode(IEnumerable<int> ids, bool includeSpecialTokens)
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
        const string Key = "tokenizer.ggml.model";
        object? value = file.TryGetValue(Key, out var m) ? m.Value : null;
        // A file's content, so a bad value is the file's error (found by fuzzing: it was NotSupportedException, or an
        // InvalidCastException for a value that is not a string).
        if (value is not string model)
            throw new InvalidModelFileException(file.Path, Key, file.GetMetadataOffset(Key), value is null ? "missing: the file has no tokenizer" : "not a string");
        return model switch
        {
            "llama" => SentencePieceBpeTokenizer.FromGgufMetadata(file),
            "gpt2" => ByteLevelBpeTokenizer.FromGgufMetadata(file),
            "bert" => WordPieceTokenizer.FromGgufMetadata(file),
            "t5" => UnigramTokenizer.FromGgufMetadata(file),
            _ => throw new InvalidModelFileException(file.Path, Key, file.GetMetadataOffset(Key), $"'{model}' is not a tokenizer this runtime reads (llama, gpt2, bert, t5)"),
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
