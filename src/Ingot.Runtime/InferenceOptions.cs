namespace Ingot;

/// <summary>Options fixed when weights are bound: KV capacity, worker threads, and whether sliding windows apply.</summary>
/// <param name="ContextSize">KV cache capacity in tokens; 0 = the spec's context length.</param>
/// <param name="Threads">Worker threads for matrix rows; 0 = all cores.</param>
/// <param name="NoSlidingWindow">Full causal attention on every layer even where the spec has a sliding window: what
/// llama.cpp computes for a llama-architecture (Mistral) file, whose window it ignores (the host's --no-swa).</param>
/// <param name="Sequences">Sequences a causal model's KV cache holds, each with ContextSize cells (the server's
/// --parallel): several can run in one batch (<see cref="Ingot.Runtime.ICompiledModel.Prefill(System.ReadOnlySpan{int}, System.ReadOnlySpan{int}, System.ReadOnlySpan{int}, System.Span{float})"/>).</param>
public sealed record InferenceOptions(int ContextSize = 0, int Threads = 0, bool NoSlidingWindow = false, int Sequences = 1);
