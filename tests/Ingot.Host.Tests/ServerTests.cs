using System.ClientModel;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using Xunit;

namespace Ingot.Host.Tests;

/// <summary>
/// The serve verb, started in-process on a free loopback port with stories260K (its chat template from
/// <see cref="TestPaths.StoriesWithChatTemplate"/>), called with the official OpenAI client, Microsoft.Extensions.AI's
/// adapter of it, and raw HTTP: replies equal the generate verb's, SSE framing is exact, and bad requests are 4xx
/// with OpenAI's error object.
/// </summary>
public sealed class ServerTests : IAsyncLifetime
{
    private const string Key = "test-key";
    private readonly CancellationTokenSource _stop = new();
    private Task<int>? _server;
    private readonly StringWriter _err = new();
    private string _url = "";
    private readonly HttpClient _http = new();

    internal static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public async Task InitializeAsync()
    {
        int port = FreePort();
        _url = $"http://127.0.0.1:{port}";
        var model = new Stories260K();
        string gguf = TestPaths.StoriesWithChatTemplate;
        _server = Task.Run(() => HostProgram.Run(model, ["serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--api-key", Key, "--model", gguf, "--ctx", "512", "-t", "1"], new StringWriter(), _err, _stop.Token));
        for (int i = 0; i < 200; i++)
        {
            if (_server.IsCompleted) throw new InvalidOperationException("serve exited: " + _err);
            try
            {
                using var r = await _http.GetAsync(_url + "/health");
                if (r.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(50);
        }
        throw new TimeoutException("serve did not start: " + _err);
    }

    public async Task DisposeAsync()
    {
        _stop.Cancel();
        Assert.Equal(0, await _server!);
        _http.Dispose();
    }

    private static (int Code, string Out) Generate(params string[] args)
    {
        var (code, o, e) = HostProgramTests.Run(new Stories260K(), [.. args, "--model", TestPaths.StoriesWithChatTemplate, "-t", "1"]);
        Assert.True(code == 0, e);
        return (code, o);
    }

    private ChatClient OpenAiChat() => new("stories260K", new ApiKeyCredential(Key), new OpenAIClientOptions { Endpoint = new Uri(_url + "/v1") });

    private async Task<HttpResponseMessage> Post(string path, string json, string? key = Key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _url + path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (key is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return await _http.SendAsync(request);
    }

    [Fact]
    public async Task TheOpenAiClientGetsGenerateChatsGreedyTextWholeAndStreamed()
    {
        var (_, expected) = Generate("generate", "--chat", "-p", "Tell me a story.", "--system", "Be brief.", "--max-new", "24", "--temp", "0");
        var chat = OpenAiChat();
        List<OpenAI.Chat.ChatMessage> messages = [new SystemChatMessage("Be brief."), new UserChatMessage("Tell me a story.")];
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 24 };
        OpenAI.Chat.ChatCompletion completion = await chat.CompleteChatAsync(messages, options);
        Assert.Equal(expected, completion.Content[0].Text + "\n");
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(24, completion.Usage.OutputTokenCount);

        var streamed = new StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, options))
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
        Assert.Equal(completion.Content[0].Text, streamed.ToString());

        // Microsoft.Extensions.AI's adapter of the same client.
        IChatClient meai = chat.AsIChatClient();
        var response = await meai.GetResponseAsync([new(ChatRole.System, "Be brief."), new(ChatRole.User, "Tell me a story.")], new ChatOptions { Temperature = 0, MaxOutputTokens = 24 });
        Assert.Equal(completion.Content[0].Text, response.Text);
    }

    [Fact]
    public async Task CompletionsEqualGenerate()
    {
        var (_, expected) = Generate("generate", "-p", "Once upon a time", "-n", "40", "--temp", "0");
        using var r = await Post("/v1/completions", """{"model":"stories260K","prompt":"Once upon a time","max_tokens":36,"temperature":0}""");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        var choice = doc.RootElement.GetProperty("choices")[0];
        Assert.Equal(expected, "Once upon a time" + choice.GetProperty("text").GetString() + "\n");
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(5, doc.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        AssertTimings(doc.RootElement.GetProperty("timings"), promptN: 5, predictedN: 36);

        // /metrics counts it: one completion request, its 5 prompt and 36 generated tokens, nothing queued or active.
        var metrics = new HttpRequestMessage(HttpMethod.Get, _url + "/metrics");
        metrics.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Key);
        using var m = await _http.SendAsync(metrics);
        string text = await m.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE ingot_generated_tokens_total counter\n", text);
        Assert.Contains("ingot_requests_total{endpoint=\"/v1/completions\"} 1\n", text);
        Assert.Contains("ingot_requests_total{endpoint=\"/v1/chat/completions\"} 0\n", text);
        Assert.Contains("ingot_prompt_tokens_total 5\n", text);
        Assert.Contains("ingot_generated_tokens_total 36\n", text);
        Assert.Contains("ingot_queue_depth 0\n", text);
        Assert.Contains("ingot_active_sequences 0\n", text);
    }

    /// <summary>llama-server's timings: the counts, positive times, and rates that are the counts over the times.</summary>
    private static void AssertTimings(JsonElement t, int promptN, int predictedN)
    {
        Assert.Equal(promptN, t.GetProperty("prompt_n").GetInt32());
        Assert.Equal(predictedN, t.GetProperty("predicted_n").GetInt32());
        double promptMs = t.GetProperty("prompt_ms").GetDouble(), predictedMs = t.GetProperty("predicted_ms").GetDouble();
        Assert.True(promptMs > 0 && predictedMs > 0, $"prompt {promptMs} ms, predicted {predictedMs} ms");
        Assert.Equal(predictedN / predictedMs * 1e3, t.GetProperty("predicted_per_second").GetDouble(), 6);
        Assert.Equal(predictedMs / predictedN, t.GetProperty("predicted_per_token_ms").GetDouble(), 6);
        Assert.Equal(promptN / promptMs * 1e3, t.GetProperty("prompt_per_second").GetDouble(), 6);
    }

    [Fact]
    public async Task StreamingIsExactSseWithTheUsageChunkAndDone()
    {
        using var r = await Post("/v1/chat/completions",
            """{"messages":[{"role":"user","content":[{"type":"text","text":"Hello!"}]}],"max_tokens":8,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}""");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("text/event-stream", r.Content.Headers.ContentType!.MediaType);
        string body = await r.Content.ReadAsStringAsync();
        Assert.EndsWith("\n\ndata: [DONE]\n\n", body);
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var usage = chunks[^1];
        Assert.Equal(0, usage.GetProperty("choices").GetArrayLength());
        Assert.Equal(8, usage.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal("length", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        AssertTimings(chunks[^2].GetProperty("timings"), promptN: usage.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), predictedN: 8);
        Assert.All(chunks.SkipLast(2), c => Assert.False(c.TryGetProperty("timings", out _))); // only the finishing chunk
        string text = string.Concat(chunks.Skip(1).SkipLast(2).Select(c => c.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString()));

        using var whole = await Post("/v1/chat/completions", """{"messages":[{"role":"user","content":"Hello!"}],"max_tokens":8,"temperature":0}""");
        using var doc = JsonDocument.Parse(await whole.Content.ReadAsStringAsync());
        Assert.Equal(doc.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), text);
    }

    [Theory]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}]""", 400, "body")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}],"max_tokens":"ten"}""", 400, "max_tokens")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"wizard","content":"hi"}]}""", 400, "messages[0].role")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"xml"}}""", 400, "response_format.type")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"string","format":"email"}}}}""", 400, "response_format.json_schema.schema")]
    [InlineData("/v1/completions", """{"prompt":42}""", 400, "prompt")]
    public async Task BadRequestsAre400WithAnErrorNamingTheField(string path, string json, int status, string field)
    {
        using var r = await Post(path, json);
        Assert.Equal(status, (int)r.StatusCode);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Contains(field, error.GetProperty("param").GetString() ?? error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task WithoutTheKeyItIs401ButHealthAnswersAndAnOverLongPromptIs400WithBothNumbers()
    {
        using (var r = await Post("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}]}""", key: null)) Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        using (var r = await Post("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}]}""", key: "wrong")) Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        using (var r = await _http.GetAsync(_url + "/health")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var models = new HttpRequestMessage(HttpMethod.Get, _url + "/v1/models");
        models.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Key);
        using (var r = await _http.SendAsync(models))
        {
            using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
            Assert.Equal("stories260K", doc.RootElement.GetProperty("data")[0].GetProperty("id").GetString());
        }
        string longPrompt = string.Join(' ', Enumerable.Repeat("once upon a time", 200));
        using var over = await Post("/v1/completions", JsonSerializer.Serialize(new Dictionary<string, object> { ["prompt"] = longPrompt, ["max_tokens"] = 4 }));
        Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
        string message = JsonDocument.Parse(await over.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Contains("512", message);
        Assert.Matches("[0-9]{3,} tokens", message);
    }

    /// <summary>curl, as a user types it: the raw bytes of the SSE stream and the status codes (curl -w %{http_code}).</summary>
    private async Task<(string Body, int Status)> Curl(string path, string json, string? key = Key)
    {
        var args = new List<string> { "-sS", "-N", "-X", "POST", _url + path, "-H", "Content-Type: application/json", "-d", json, "-w", "\n%{http_code}" };
        if (key is not null) args.AddRange(["-H", "Authorization: Bearer " + key]);
        var psi = new System.Diagnostics.ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        string output = await p.StandardOutput.ReadToEndAsync();
        string err = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, "curl: " + err);
        int nl = output.LastIndexOf('\n');
        return (output[..nl], int.Parse(output[(nl + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task CurlSeesExactSseFramingTheUsageChunkDoneAnd401And400s()
    {
        var (body, status) = await Curl("/v1/completions", """{"prompt":"Once upon a time","max_tokens":6,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}""");
        Assert.Equal(200, status);
        // Every event is exactly "data: " + one line of JSON + a blank line; the last is [DONE]; before it, the usage chunk
        // (no choices) and the finish chunk.
        Assert.Matches(@"^(data: \{[^\n]*\}\n\n)+data: \[DONE\]\n\n$", body);
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var usage = JsonDocument.Parse(events[^2]["data: ".Length..]).RootElement;
        Assert.Equal(0, usage.GetProperty("choices").GetArrayLength());
        Assert.Equal(6, usage.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal("length", JsonDocument.Parse(events[^3]["data: ".Length..]).RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());

        // Without include_usage there is no usage chunk: the finish chunk comes right before [DONE].
        (body, _) = await Curl("/v1/completions", """{"prompt":"Once upon a time","max_tokens":6,"temperature":0,"stream":true}""");
        events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("length", JsonDocument.Parse(events[^2]["data: ".Length..]).RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.DoesNotContain("\"usage\":{", body);

        (body, status) = await Curl("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}]}""", key: null);
        Assert.Equal(401, status);
        Assert.Contains("\"code\":\"invalid_api_key\"", body);
        (body, status) = await Curl("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}""");
        Assert.Equal(400, status);
        Assert.Contains("\"type\":\"invalid_request_error\"", body);
        string longPrompt = string.Join(' ', Enumerable.Repeat("once upon a time", 200));
        (body, status) = await Curl("/v1/completions", JsonSerializer.Serialize(new Dictionary<string, object> { ["prompt"] = longPrompt, ["max_tokens"] = 4 }));
        Assert.Equal(400, status);
        Assert.Contains("context_length_exceeded", body);
    }
}
