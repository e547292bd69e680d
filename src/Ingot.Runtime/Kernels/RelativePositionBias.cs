namespace Ingot.Runtime.Kernels;

/// <summary>
/// T5's relative position bias as llama.cpp c392e50 computes it (llama-context.cpp, llama_relative_position_bucket):
/// the distance key − query goes to one of n buckets — exact below max_exact = n/2 (per direction when bidirectional,
/// where the upper half is for keys after the query), log-spaced above it up to max_distance 128 — and each (bucket,
/// head) has a learned bias (attn_rel_b, ne = [heads, buckets]: a row of heads per bucket) added to the raw score.
/// </summary>
public static unsafe class RelativePositionBias
{
    public const int MaxDistance = 128;

    /// <summary>The bucket of key position <paramref name="key"/> for query position <paramref name="query"/>.</summary>
    public static int Bucket(int key, int query, int buckets, bool bidirectional)
    {
        long n = buckets;
        if (bidirectional) n >>= 1;
        long maxExact = n >> 1;
        int relative = key - query;
        int bucket = 0;
        if (bidirectional)
        {
            bucket += relative > 0 ? (int)n : 0;
            relative = Math.Abs(relative);
        }
        else
        {
            relative = -Math.Min(relative, 0);
        }
        if (relative < maxExact) return bucket + relative;
        // logf of a float ratio, times (float)(n − max_exact), over a double log, plus max_exact in double, then floorf.
        float lg = MathF.Log((float)(1.0 * relative / maxExact)) * (float)(n - maxExact);
        double large = maxExact + lg / Math.Log(1.0 * MaxDistance / maxExact);
        int ifLarge = (int)MathF.Floor((float)large);
        return bucket + (int)Math.Min(ifLarge, n - 1);
    }

    /// <summary>
    /// The bias of every (head, key − query) for positions 0 .. <paramref name="context"/> − 1: a table of heads rows of
    /// 2·context − 1 values, row h at h·(2·context − 1), distance d at column d + context − 1. The array is pinned.
    /// </summary>
    public static float[] Table(float* relB, int heads, int buckets, int context, bool bidirectional)
    {
        int width = 2 * context - 1;
        var table = GC.AllocateUninitializedArray<float>(heads * width, pinned: true); // generated code keeps a pointer to it
        for (int d = -(context - 1); d <= context - 1; d++)
        {
            int b = Bucket(d, 0, buckets, bidirectional);
            for (int h = 0; h < heads; h++) table[(long)h * width + d + context - 1] = relB[(long)b * heads + h];
        }
        return table;
    }
}
