using Ingot.Runtime.Generation;
using Ingot.Runtime.Tokenization;

namespace Ingot.Host.Tokenization;

/// <summary>Adapts the shared <see cref="Tokenizer"/> to the generation loop.</summary>
public sealed class TokenizerCodec(Tokenizer tokenizer) : ITokenCodec
{
    public Tokenizer Tokenizer { get; } = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));

    /// <summary>Loads the tokenizer a GGUF file describes.</summary>
    public static TokenizerCodec FromGguf(Formats.GgufFile weights) => new(Tokenizer.FromGguf(weights));

    /// <summary>Adds BOS (and EOS) exactly as the model's metadata says; special-token text in the prompt is parsed.</summary>
    public IReadOnlyList<int> EncodePrompt(string text) => Tokenizer.EncodeToIds(text, addSpecialTokens: true, parseSpecialTokens: true);

    public int? BosTokenId => Tokenizer.BosTokenId;

    public bool IsEndOfGeneration(int id) => Tokenizer.IsEndOfGeneration(id);

    public ITokenTextStream CreateStream() => new Stream(Tokenizer.CreateStreamDecoder());

    private sealed class Stream(TokenStreamDecoder decoder) : ITokenTextStream
    {
        public string Append(int id) => decoder.Append(id);
        public string Flush() => decoder.Flush();
    }
}
