using Ingot.Specs;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// An encoder's hidden states (tokens × dim, row-major) pooled to one vector per input, as llama.cpp pools them:
/// mean = Σ_t x[t] · (1/n) (its matmul with a 1/n column), cls = row 0 ([CLS]), last = row n − 1. And the L2
/// normalisation embedding users apply (llama.cpp's --embd-normalize 2).
/// </summary>
public static class Pooling
{
    /// <summary>Writes the pooled vector of <paramref name="hidden"/> (<paramref name="tokens"/> rows of <paramref name="dim"/>) into <paramref name="pooled"/> (dim).</summary>
    public static void Pool(PoolingKind kind, ReadOnlySpan<float> hidden, int tokens, int dim, Span<float> pooled)
    {
        if (tokens <= 0) throw new ArgumentOutOfRangeException(nameof(tokens), tokens, "pooling needs at least one token");
        if (dim <= 0 || hidden.Length != (long)tokens * dim) throw new ArgumentException($"hidden has {hidden.Length} values, not {tokens} × {dim}", nameof(hidden));
        if (pooled.Length != dim) throw new ArgumentException($"pooled must have length {dim}, not {pooled.Length}", nameof(pooled));
        switch (kind)
        {
            case PoolingKind.Mean:
                float inv = 1f / tokens;
                pooled.Clear();
                for (int t = 0; t < tokens; t++)
                {
                    var row = hidden.Slice(t * dim, dim);
                    for (int d = 0; d < dim; d++) pooled[d] = MathF.FusedMultiplyAdd(row[d], inv, pooled[d]);
                }
                break;
            case PoolingKind.Cls:
                hidden[..dim].CopyTo(pooled);
                break;
            case PoolingKind.Last:
                hidden.Slice((tokens - 1) * dim, dim).CopyTo(pooled);
                break;
            default:
                throw new ArgumentException($"pooling '{SpecNames.Of(kind)}' gives no single vector (mean, cls or last do)", nameof(kind));
        }
    }

    /// <summary>Scales <paramref name="v"/> to unit Euclidean length (a zero vector stays zero).</summary>
    public static void Normalize(Span<float> v)
    {
        double sum = 0;
        foreach (float x in v) sum += (double)x * x;
        if (sum == 0) return;
        float scale = (float)(1.0 / Math.Sqrt(sum));
        for (int i = 0; i < v.Length; i++) v[i] *= scale;
    }
}
