namespace Ingot.Runtime.Generation;

/// <summary>
/// Runs an encoder's inputs in batches (the host's embed, classify, ner and rerank verbs; the embedding generator): consecutive inputs share one <see cref="IEncoder.Encode(ReadOnlySpan{int},
/// ReadOnlySpan{int}, Span{float}, Span{float})"/> call while their tokens fit in MaxTokens, so each weight row is read
/// once per batch rather than once per input. Each input still sees only its own tokens, so its rows and scores are
/// what it gives alone. The buffers are allocated once per call, for MaxTokens tokens.
/// </summary>
public static class EncoderBatches
{
    /// <summary>Input <paramref name="index"/>'s hidden rows (its tokens × HiddenSize) and head scores (empty without the head).</summary>
    public delegate void InputDone(int index, ReadOnlySpan<float> hidden, ReadOnlySpan<float> scores);

    /// <summary>Cuts each input to <paramref name="maxTokens"/> with <paramref name="truncate"/>, otherwise refuses a longer one naming both lengths; refuses an empty one.</summary>
    public static void Fit(List<int[]> inputs, int maxTokens, bool truncate)
    {
        for (int i = 0; i < inputs.Count; i++)
        {
            if (inputs[i].Length == 0) throw new ArgumentException($"input {i} has no tokens");
            if (inputs[i].Length <= maxTokens) continue;
            if (!truncate) throw new ContextOverflowException($"input {i} has {inputs[i].Length} tokens but the model takes at most {maxTokens} (--truncate cuts it)");
            inputs[i] = inputs[i][..maxTokens];
        }
    }

    /// <summary>Encodes <paramref name="inputs"/> (each within MaxTokens, see <see cref="Fit"/>) in order; <paramref name="withScores"/> runs the head.</summary>
    public static void Run(IEncoder model, IReadOnlyList<int[]> inputs, bool withScores, InputDone done)
    {
        int dim = model.HiddenSize, k = model.ScoreCount, max = model.MaxTokens;
        var tokens = new int[max];
        var lengths = new int[max];
        var hidden = new float[checked(max * dim)];
        var scores = withScores ? new float[checked(max * k)] : [];
        int i = 0;
        while (i < inputs.Count)
        {
            int first = i, used = 0;
            while (i < inputs.Count && used + inputs[i].Length <= max)
            {
                inputs[i].CopyTo(tokens, used);
                lengths[i - first] = inputs[i].Length;
                used += inputs[i].Length;
                i++;
            }
            if (i == first) throw new ContextOverflowException($"input {i} has {inputs[i].Length} tokens but the model takes at most {max}");
            int count = i - first;
            int scoreRows = model.TokenScores ? used : count;
            model.Encode(tokens.AsSpan(0, used), lengths.AsSpan(0, count), hidden.AsSpan(0, used * dim), withScores ? scores.AsSpan(0, scoreRows * k) : []);
            for (int j = 0, start = 0; j < count; start += lengths[j++])
            {
                var s = !withScores ? [] : model.TokenScores ? scores.AsSpan(start * k, lengths[j] * k) : scores.AsSpan(j * k, k);
                done(first + j, hidden.AsSpan(start * dim, lengths[j] * dim), s);
            }
        }
    }
}
