namespace Ingot.Generators.Emit
{
    /// <summary>
    /// An encoder's public entry (IEncoder.Encode): the whole input as one chunk, since every query sees every token;
    /// the compiled MaxBatch is the trained context, so the buffer plan holds any input the positions allow. Several
    /// inputs share a chunk back to back; the Seq table gives each token its input's rows, which its attention and
    /// position follow.
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
            w.Line("int length = tokens.Length;");
            w.Line("Encode(tokens, new ReadOnlySpan<int>(in length), hidden, scores);");
            w.Close();
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Several inputs as one batch: <paramref name=\"tokens\"/> holds them back to back, <paramref name=\"lengths\"/>[i] tokens each; every");
            w.Line("/// input sees only its own tokens and its positions start at 0. hidden: tokens × HiddenSize; scores: inputs × HeadOutputs");
            w.Line("/// (each input's CLS row), or tokens × HeadOutputs for a token classifier; empty to skip the head.");
            w.Line("/// </summary>");
            w.Line(gc);
            w.Open("public void Encode(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, Span<float> hidden, Span<float> scores)");
            w.Line("if (_arena == null) throw new InvalidOperationException(\"Load must be called before Encode\");");
            w.Line("if (tokens.IsEmpty) throw new ArgumentException(\"no tokens\", nameof(tokens));");
            w.Line("if (tokens.Length > MaxTokens)");
            w.Line("    throw new ContextOverflowException((lengths.Length == 1 ? \"input too long: \" + tokens.Length + \" tokens\" : \"batch too long: \" + tokens.Length + \" tokens in \" + lengths.Length + \" inputs\") +");
            w.Line("        \", but this encoder takes at most \" + MaxTokens + \" (its trained context is \" + ContextLength + \")\");");
            w.Line("long total = 0;");
            w.Open("foreach (int length in lengths)");
            w.Line("if (length <= 0) throw new ArgumentException(\"every input needs at least one token, not \" + length, nameof(lengths));");
            w.Line("total += length;");
            w.Close();
            w.Line("if (total != tokens.Length) throw new ArgumentException(\"the lengths add up to \" + total + \", not to the \" + tokens.Length + \" tokens\", nameof(lengths));");
            w.Line("if (hidden.Length != (long)tokens.Length * Dim)");
            w.Line("    throw new ArgumentException(\"hidden must have length tokens × HiddenSize (\" + ((long)tokens.Length * Dim) + \"), not \" + hidden.Length, nameof(hidden));");
            w.Line("long scoreLength = (long)(TokenScores ? tokens.Length : lengths.Length) * HeadOutputs;");
            w.Line("if (!scores.IsEmpty && scores.Length != scoreLength)");
            w.Line("    throw new ArgumentException(HeadOutputs == 0 ? \"this encoder has no head: pass no scores\" : \"scores must have length \" + scoreLength + (TokenScores ? \" (tokens × HeadOutputs)\" : \" (inputs × HeadOutputs)\") + \", not \" + scores.Length, nameof(scores));");
            w.Open("foreach (int token in tokens)");
            w.Line("if ((uint)token >= VocabSize) throw new ArgumentOutOfRangeException(nameof(tokens), token, \"token id outside [0, \" + VocabSize + \")\");");
            w.Close();
            w.Line("int* seq = (int*)(_arena + OffSeq);");
            w.Open("for (int s = 0, start = 0; s < lengths.Length; start += lengths[s++])");
            w.Line("for (int t = start; t < start + lengths[s]; t++) { seq[2 * t] = start; seq[2 * t + 1] = start + lengths[s]; }");
            w.Close();
            w.Line("fixed (int* tp = tokens)");
            w.Line("fixed (float* hp = hidden)");
            w.Line("fixed (float* sp = scores)");
            w.Line("    RunChunk(tp, tokens.Length, lengths.Length, hp, scores.IsEmpty ? null : sp);");
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
            w.Line("_runs!.ResetAll();");
            w.Close();
            w.Line();
            w.Line("public int EncodedTokens => _encLength;");
            w.Line();
            w.Line("public int DecoderStartToken => _decoderStart;");
            w.Line();
        }
    }
}
