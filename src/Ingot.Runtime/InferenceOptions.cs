namespace Ingot;

/// <summary>Options fixed when weights are bound: KV capacity, worker threads, and whether sliding windows apply.</summary>
/// <param name="ContextSize">KV cache capacity in tokens; 0 = the spec's context length.</param>
/// <param name="Threads">Worker threads for matrix rows; 0 = all cores.</param>
/// <param name="NoSlidingWindow">Full causal attention on every layer even where the spec has a sliding window: what
/// llama.cpp computes for a llama-architecture (Mistral) file, whose window it ignores (the host's --no-swa).</param>
/// <param name="Sequences">Sequences a causal model's KV cache holds, each with ContextSize cells (the server's
/// --parallel): several can run in one batch (<see cref="Ingot.Runtime.ICompiledModel.Prefill(System.ReadOnlySpan{int}, System.ReadOnlySpan{int}, System.ReadOnlySpan{int}, System.Span{float})"/>).</param>
/// <param name="KvType">Element type of a decoder's self-attention KV cache: F32 (the default), or F16 as llama.cpp's default
/// cache (half the bytes attention reads per position; keys, values, queries and attention weights rounded to F16 as
/// llama.cpp's F16 cache rounds them). Encoder and cross-attention caches stay F32.</param>
public sealed record InferenceOptions(int ContextSize = 0, int Threads = 0, bool NoSlidingWindow = false, int Sequences = 1, KvCacheType KvType = KvCacheType.F32);

/// <summary>Element type of a KV cache (llama.cpp's --cache-type-k / --cache-type-v, the two the same).</summary>
public enum KvCacheType
{
    /// <summary>32-bit floats: the keys and values as computed.</summary>
    F32,

    /// <summary>IEEE half floats, rounded to nearest even (llama.cpp's default cache).</summary>
    F16,
}
