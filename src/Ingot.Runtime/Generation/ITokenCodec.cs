namespace Ingot.Runtime.Generation;

/// <summary>
/// The part of a tokenizer the generation loop needs. <c>TokenizerCodec</c> adapts
/// <c>Ingot.Runtime.Tokenization.Tokenizer</c>; tests plug in tiny fakes.
/// </summary>
public interface ITokenCodec
{
    /// <summary>Prompt ids as the model expects them: BOS (if the model adds one) then the text's ids.</summary>
    IReadOnlyList<int> EncodePrompt(string text);

    int? BosTokenId { get; }

    /// <summary>EOS, EOT, &lt;|im_end|&gt; …: tokens that end a turn.</summary>
    bool IsEndOfGeneration(int id);

    /// <summary>A fresh incremental decoder.</summary>
    ITokenTextStream CreateStream();

    /// <summary>A grammar constraint over this vocabulary's token bytes (<see cref="GenerationOptions.Grammar"/>); null when the codec cannot give token bytes.</summary>
    Grammars.GrammarConstraint? CreateConstraint(Grammars.Grammar grammar) => null;
}

/// <summary>Incremental detokenization: text is released only when it is complete UTF-8.</summary>
public interface ITokenTextStream
{
    /// <summary>Feeds one id; returns the text it completes (possibly empty).</summary>
    string Append(int id);

    /// <summary>Whatever is still held back (an incomplete UTF-8 tail becomes U+FFFD).</summary>
    string Flush();
}
