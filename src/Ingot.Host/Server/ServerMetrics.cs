using System.Globalization;
using System.Text;

namespace Ingot.Host.Server;

/// <summary>
/// The server's counters and gauges, as <c>GET /metrics</c> serves them in Prometheus' text format: requests per
/// endpoint, prompt and generated tokens, generation seconds (tokens/s is generated ÷ seconds), cancelled generations,
/// and the queue depth and active sequences right now. Updated with Interlocked; read without a lock.
/// </summary>
public sealed class ServerMetrics(Func<int> queueDepth, Func<int> activeSequences, Func<long> steps, Func<long> runs)
{
    private long _chatRequests, _completionRequests, _promptTokens, _generatedTokens, _cancelled, _generationMicros;

    public void Request(bool chat) => Interlocked.Increment(ref chat ? ref _chatRequests : ref _completionRequests);

    /// <summary>A generation that ran to its end (or was cut by the client: <paramref name="cancelled"/>).</summary>
    public void Generated(int promptTokens, int generatedTokens, double seconds, bool cancelled)
    {
        Interlocked.Add(ref _promptTokens, promptTokens);
        Interlocked.Add(ref _generatedTokens, generatedTokens);
        Interlocked.Add(ref _generationMicros, (long)(seconds * 1e6));
        if (cancelled) Interlocked.Increment(ref _cancelled);
    }

    public string Text()
    {
        var sb = new StringBuilder();
        void Header(string name, string type, string help) =>
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        void Value(string name, string value, string labels = "") => sb.Append(name).Append(labels).Append(' ').Append(value).Append('\n');
        void Metric(string name, string type, string help, string value)
        {
            Header(name, type, help);
            Value(name, value);
        }
        string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        Header("ingot_requests_total", "counter", "Generation requests received, by endpoint.");
        Value("ingot_requests_total", I(Interlocked.Read(ref _chatRequests)), "{endpoint=\"/v1/chat/completions\"}");
        Value("ingot_requests_total", I(Interlocked.Read(ref _completionRequests)), "{endpoint=\"/v1/completions\"}");
        Metric("ingot_prompt_tokens_total", "counter", "Prompt tokens of finished generations.", I(Interlocked.Read(ref _promptTokens)));
        Metric("ingot_generated_tokens_total", "counter", "Tokens generated.", I(Interlocked.Read(ref _generatedTokens)));
        Metric("ingot_generation_seconds_total", "counter", "Seconds generations ran, summed over concurrent ones (per-stream tokens/s = generated tokens / these seconds).",
            (Interlocked.Read(ref _generationMicros) / 1e6).ToString("R", CultureInfo.InvariantCulture));
        Metric("ingot_cancelled_total", "counter", "Generations stopped because the client went away.", I(Interlocked.Read(ref _cancelled)));
        Metric("ingot_queue_depth", "gauge", "Requests waiting for the model.", I(queueDepth()));
        Metric("ingot_active_sequences", "gauge", "Sequences being generated.", I(activeSequences()));
        Metric("ingot_batch_steps_total", "counter", "Batched model steps run (each reads every weight row once).", I(steps()));
        Metric("ingot_batch_runs_total", "counter", "Sequence runs in those steps (runs / steps = the mean batch).", I(runs()));
        return sb.ToString();
    }
}
