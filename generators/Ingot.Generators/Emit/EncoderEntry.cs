namespace Ingot.Generators.Emit
{
    /// <summary>
    /// An encoder's public entry (IEncoder.Encode): the whole input as one chunk, since every query sees every token;
    /// the compiled MaxBatch is the trained context, so the buffer plan holds any input the positions allow.
    /// </summary>
    internal static class EncoderEntry
    {
        public static void Encode(SourceWriter w)
        {
            string gc = ModelEmitter.GeneratedCodeAttribute;
            w.Line("/// <summary>Runs the tokens as one input (positions 0 ..); hidden receives the last layer's hidden states (tokens × HiddenSize).</summary>");
            w.Line(gc);
            w.Line("public void Encode(ReadOnlySpan<int> tokens, Span<float> hidden) => Encode(tokens, hidden, Span<float>.Empty);");
            w.Line();
            w.Line("/// <summary>Also the head's scores into <paramref name=\"scores\"/>: HeadOutputs for the CLS row, or tokens × HeadOutputs for a token classifier; empty to skip the head.</summary>");
            w.Line(gc);
            w.Open("public void Encode(ReadOnlySpan<int> tokens, Span<float> hidden, Span<float> scores)");
            w.Line("if (_arena == null) throw new InvalidOperationException(\"Load must be called before Encode\");");
            w.Line("if (tokens.IsEmpty) throw new ArgumentException(\"no tokens\", nameof(tokens));");
            w.Line("if (tokens.Length > MaxTokens)");
            w.Line("    throw new ContextOverflowException(\"input too long: \" + tokens.Length + \" tokens, but this encoder takes at most \" + MaxTokens + \" (its trained context is \" + ContextLength + \")\");");
            w.Line("if (hidden.Length != (long)tokens.Length * Dim)");
            w.Line("    throw new ArgumentException(\"hidden must have length tokens × HiddenSize (\" + ((long)tokens.Length * Dim) + \"), not \" + hidden.Length, nameof(hidden));");
            w.Line("long scoreLength = TokenScores ? (long)tokens.Length * HeadOutputs : HeadOutputs;");
            w.Line("if (!scores.IsEmpty && scores.Length != scoreLength)");
            w.Line("    throw new ArgumentException(HeadOutputs == 0 ? \"this encoder has no head: pass no scores\" : \"scores must have length \" + scoreLength + (TokenScores ? \" (tokens × HeadOutputs)\" : \" (HeadOutputs)\") + \", not \" + scores.Length, nameof(scores));");
            w.Open("foreach (int token in tokens)");
            w.Line("if ((uint)token >= VocabSize) throw new ArgumentOutOfRangeException(nameof(tokens), token, \"token id outside [0, \" + VocabSize + \")\");");
            w.Close();
            w.Line("_position = 0;");
            w.Line("fixed (int* tp = tokens)");
            w.Line("fixed (float* hp = hidden)");
            w.Line("fixed (float* sp = scores)");
            w.Line("    RunChunk(tp, tokens.Length, hp, scores.IsEmpty ? null : sp);");
            w.Line("_position = 0;");
            w.Close();
            w.Line();
        }

        /// <summary>
        /// An encoder–decoder's Encode: the nested encoder stack over the input into _encoded (n, Dim); each decoder layer
        /// computes its cross keys and values from it on the next chunk; the decoder's cache starts empty.
        /// </summary>
        public static void EncodeForDecoder(SourceWriter w)
        {
            string gc = ModelEmitter.GeneratedCodeAttribute;
            w.Line("/// <summary>Encodes the input (at most the trained context) for the decoder's cross-attention and empties the decoder's KV cache.</summary>");
            w.Line(gc);
            w.Open("public void Encode(ReadOnlySpan<int> tokens)");
            w.Line("if (_arena == null || _encoder == null) throw new InvalidOperationException(\"Load must be called before Encode\");");
            w.Line("_encoder.Encode(tokens, new Span<float>(_encoded, tokens.Length * Dim));");
            w.Line("_encLength = tokens.Length;");
            w.Line("Array.Fill(_crossPending, true);");
            w.Line("_position = 0;");
            w.Close();
            w.Line();
            w.Line("public int EncodedTokens => _encLength;");
            w.Line();
            w.Line("public int DecoderStartToken => _decoderStart;");
            w.Line();
        }
    }
}
