namespace Ingot.Runtime.Evaluation;

/// <summary>
/// Perplexity by llama-perplexity's rules (its default, non-strided mode), so the figures compare with llama.cpp's:
/// <list type="bullet">
/// <item>the text is tokenized whole (with BOS when the model adds one) and cut into tokens / ctx chunks of ctx tokens,
/// the rest dropped; at least 2 · ctx tokens are needed;</item>
/// <item>each chunk runs from an empty cache with its first token replaced by BOS (when the model adds one);</item>
/// <item>only the second half is scored: the logits of positions ctx/2 .. ctx − 2 predict tokens ctx/2 + 1 .. ctx − 1;</item>
/// <item>a token's negative log-likelihood is max + log Σ exp(l − max) − l[token], the sum in double of float exps;
/// PPL = exp(mean), and its uncertainty PPL · sqrt(var / (count − 1)).</item>
/// </list>
/// </summary>
public static class Perplexity
{
    /// <summary>Chunks of <paramref name="ctx"/> tokens the text gives (at most <paramref name="maxChunks"/> when ≥ 0).</summary>
    public static int Chunks(int tokens, int ctx, int maxChunks = -1)
    {
        int n = tokens / ctx;
        return maxChunks < 0 ? n : Math.Min(n, maxChunks);
    }

    /// <summary>The first scored position of a chunk (ctx / 2): rows first .. ctx − 2 are scored.</summary>
    public static int First(int ctx) => ctx / 2;

    /// <summary>
    /// Runs chunk <paramref name="chunk"/> of <paramref name="tokens"/> and writes the logits of positions first .. ctx − 1
    /// ((ctx − first) × VocabSize) into <paramref name="logits"/>: the first half with the last row only, the second
    /// with every row. The caller scores rows 0 .. ctx − 2 − first.
    /// </summary>
    public static void RunChunk(ICompiledModel model, ReadOnlySpan<int> tokens, int chunk, int ctx, int? bos, float[] logits, float[] scratch)
    {
        int start = chunk * ctx, first = First(ctx);
        var ids = tokens.Slice(start, ctx).ToArray();
        if (bos is int b) ids[0] = b;
        model.Reset();
        model.Prefill(ids.AsSpan(0, first), scratch);
        model.Prefill(ids.AsSpan(first), logits.AsSpan(0, (ctx - first) * model.VocabSize));
    }

    /// <summary>−log p(token) from one row of logits, as llama-perplexity's scoring computes it.</summary>
    public static double NegativeLogLikelihood(ReadOnlySpan<float> logits, int token)
    {
        float max = logits[0];
        for (int i = 1; i < logits.Length; i++) max = Math.Max(max, logits[i]);
        double sum = 0;
        for (int i = 0; i < logits.Length; i++) sum += MathF.Exp(logits[i] - max);
        return -((logits[token] - max) - Math.Log(sum));
    }

    /// <summary>
    /// The whole run: per chunk, <paramref name="onChunk"/> gets the chunk number (from 1) and the PPL so far. With
    /// <paramref name="save"/>, the base model's log-probabilities of every scored row go to it (KL-divergence base).
    /// </summary>
    public static PerplexityResult Run(ICompiledModel model, IReadOnlyList<int> tokens, int ctx, int? bos, int maxChunks = -1,
        Action<int, double>? onChunk = null, KlDivergenceBase.Writer? save = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        if (ctx < 2) throw new ArgumentOutOfRangeException(nameof(ctx), ctx, "the context must hold at least 2 tokens");
        if (tokens.Count < 2 * ctx)
            throw new ArgumentException($"the text tokenizes to {tokens.Count} tokens; a context of {ctx} needs at least {2 * ctx}", nameof(tokens));
        if (model.ContextSize < ctx) throw new ContextOverflowException($"the model was loaded with a context of {model.ContextSize}; the chunks need {ctx}");
        int chunks = Chunks(tokens.Count, ctx, maxChunks), first = First(ctx), vocab = model.VocabSize, scored = ctx - 1 - first;
        var ids = tokens as int[] ?? tokens.ToArray();
        var logits = new float[(long)(ctx - first) * vocab];
        var scratch = new float[vocab];
        double nll = 0, nll2 = 0;
        int count = 0;
        for (int c = 0; c < chunks; c++)
        {
            ct.ThrowIfCancellationRequested();
            RunChunk(model, ids, c, ctx, bos, logits, scratch);
            for (int r = 0; r < scored; r++)
            {
                var row = logits.AsSpan(r * vocab, vocab);
                int next = ids[c * ctx + first + r + 1];
                double v = save is null ? NegativeLogLikelihood(row, next) : save.AddRow(row, next);
                nll += v;
                nll2 += v * v;
            }
            count += scored;
            onChunk?.Invoke(c + 1, Math.Exp(nll / count));
        }
        double mean = nll / count, var = nll2 / count - mean * mean;
        double ppl = Math.Exp(mean);
        return new PerplexityResult(ppl, var > 0 ? Math.Sqrt(var / (count - 1)) * ppl : double.NaN, chunks, count);
    }
}

/// <summary>PPL and its uncertainty (NaN when the variance came out negative), the chunks run and the tokens scored.</summary>
public sealed record PerplexityResult(double Ppl, double Uncertainty, int Chunks, int Scored);
