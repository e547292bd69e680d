using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.Host.Tests;

/// <summary>
/// The serve verb under load, alone in its collection so the process's RSS is the server's and the test client's:
/// 64 concurrent streaming requests × 5 rounds on stories260K with --parallel 8, chat and completions mixed. Every
/// request completes with 200, every greedy stream equals the text the same request gets alone (batching changes no
/// tokens), and RSS after the rounds is within 10 % of RSS after the first.
/// </summary>
[Collection(nameof(ServerLoadCollection))]
public sealed class ServerLoadTests(ITestOutputHelper output)
{
    private static readonly string[] Prompts =
    [
        "Once upon a time", "The little cat", "Lily wanted to play", "One day, a big dog", "Tom and Sue went",
        "The sun was hot", "A bird sang", "Mom said no",
    ];

    private static string Body(int i) => i % 2 == 0
        ? JsonSerializer.Serialize(new Dictionary<string, object> { ["prompt"] = Prompts[i / 2 % Prompts.Length], ["max_tokens"] = 48, ["temperature"] = 0, ["stream"] = true })
        : JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["messages"] = new[] { new Dictionary<string, string> { ["role"] = "user", ["content"] = Prompts[i / 2 % Prompts.Length] } },
            ["max_tokens"] = 48, ["temperature"] = 0, ["stream"] = true, ["stream_options"] = new Dictionary<string, bool> { ["include_usage"] = true },
        });

    private static string PathOf(int i) => i % 2 == 0 ? "/v1/completions" : "/v1/chat/completions";

    /// <summary>One streamed request: the status and the concatenated text of its events (checked to end with [DONE]).</summary>
    private static async Task<(HttpStatusCode Status, string Text)> Stream(HttpClient http, string url, int i)
    {
        using var r = await http.PostAsync(url + PathOf(i), new StringContent(Body(i), Encoding.UTF8, "application/json"));
        string body = await r.Content.ReadAsStringAsync();
        if (r.StatusCode != HttpStatusCode.OK) return (r.StatusCode, body);
        Assert.EndsWith("\n\ndata: [DONE]\n\n", body);
        var text = new StringBuilder();
        foreach (var e in body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[..^1])
        {
            var root = JsonDocument.Parse(e["data: ".Length..]).RootElement;
            foreach (var c in root.GetProperty("choices").EnumerateArray())
            {
                if (c.TryGetProperty("text", out var t)) text.Append(t.GetString());
                if (c.TryGetProperty("delta", out var d) && d.TryGetProperty("content", out var content)) text.Append(content.GetString());
            }
        }
        return (r.StatusCode, text.ToString());
    }

    private static long Rss()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var p = Process.GetCurrentProcess();
        p.Refresh();
        return p.WorkingSet64;
    }

    [Fact]
    public async Task SixtyFourConcurrentStreamsFiveRoundsAllEqualTheirLoneTextAndRssHolds()
    {
        int port = ServerTests.FreePort();
        string url = $"http://127.0.0.1:{port}";
        using var stop = new CancellationTokenSource();
        var err = new StringWriter();
        var server = Task.Run(() => HostProgram.Run(new Stories260K(),
            ["serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--parallel", "8", "--model", TestPaths.StoriesWithChatTemplate, "--ctx", "256", "-t", "1"],
            new StringWriter(), err, stop.Token));
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        for (int i = 0; ; i++)
        {
            if (server.IsCompleted) throw new InvalidOperationException("serve exited: " + err);
            try { using var h = await http.GetAsync(url + "/health"); if (h.IsSuccessStatusCode) break; }
            catch (HttpRequestException) when (i < 200) { await Task.Delay(50); }
        }
        try
        {
            // Alone: each of the 16 distinct requests (8 prompts × completion or chat), one at a time.
            var alone = new Dictionary<int, string>();
            for (int i = 0; i < 2 * Prompts.Length; i++)
            {
                var (status, text) = await Stream(http, url, i);
                Assert.True(status == HttpStatusCode.OK, text);
                alone[i] = text;
            }
            long afterFirst = 0;
            var watch = Stopwatch.StartNew();
            for (int round = 0; round < 5; round++)
            {
                var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Stream(http, url, i)));
                for (int i = 0; i < 64; i++)
                {
                    Assert.True(results[i].Status == HttpStatusCode.OK, $"round {round}, request {i}: {(int)results[i].Status} {results[i].Text}");
                    Assert.True(alone[i % 16] == results[i].Text, $"round {round}, request {i}: batched text differs from its lone text\n  alone:   {alone[i % 16]}\n  batched: {results[i].Text}");
                }
                long rss = Rss();
                if (round == 0) afterFirst = rss;
                output.WriteLine($"round {round + 1}: 64 streams in {watch.Elapsed.TotalSeconds:F2} s total, RSS {rss / 1048576.0:F1} MB");
            }
            long last = Rss();
            Assert.True(last <= afterFirst * 1.10, $"RSS grew from {afterFirst / 1048576.0:F1} MB after the first round to {last / 1048576.0:F1} MB after the fifth (> 10 %)");
            string metrics = await http.GetStringAsync(url + "/metrics");
            output.WriteLine(string.Join('\n', metrics.Split('\n').Where(l => l.StartsWith("ingot_batch", StringComparison.Ordinal) || l.StartsWith("ingot_generat", StringComparison.Ordinal))));
            Assert.Contains("ingot_active_sequences 0\n", metrics);
            Assert.Contains("ingot_queue_depth 0\n", metrics);
        }
        finally
        {
            stop.Cancel();
            Assert.Equal(0, await server);
        }
    }
}

/// <summary>Runs the load test after the parallel collections, alone in the process.</summary>
[CollectionDefinition(nameof(ServerLoadCollection), DisableParallelization = true)]
public sealed class ServerLoadCollection;
