using System.Text.Json;
using Ingot.Runtime;
using Ingot.Runtime.Chat;
using Ingot.Runtime.Generation;
using Ingot.Runtime.Grammars;
using Ingot.Runtime.Sampling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TemplateMessage = Ingot.Runtime.Chat.ChatMessage;

namespace Ingot.Host.Server;

/// <summary>
/// The OpenAI-compatible HTTP API of a compiled causal LM, on Kestrel (the slim builder; System.Text.Json source
/// generation, request delegates, no reflection: NativeAOT-clean).
/// <list type="bullet">
/// <item><c>GET /health</c>, <c>GET /v1/models</c>, <c>GET /metrics</c> (Prometheus text, <see cref="ServerMetrics"/>).</item>
/// <item><c>POST /v1/chat/completions</c>: the messages through the model's chat template (as <c>generate --chat</c>
/// renders them), whole or streamed as SSE (<c>data: {chunk}</c> lines, then <c>data: [DONE]</c>; a usage chunk when
/// <c>stream_options.include_usage</c>).</item>
/// <item><c>POST /v1/completions</c>: a plain prompt, as <c>generate</c> continues it.</item>
/// </list>
/// Requests share the model through continuous batching (<see cref="BatchedGenerator"/>): up to the model's
/// Sequences (<c>--parallel</c>) generate at once, one batch per step; the rest queue. A client that disconnects
/// cancels its generation within a step and frees its slot. With an API key every endpoint but /health needs
/// <c>Authorization: Bearer KEY</c>. Bad requests get 400 with an OpenAI error object naming the field.
/// </summary>
public sealed class OpenAiServer : IAsyncDisposable
{
    /// <summary>Where and how the server listens.</summary>
    public sealed record Settings(string Host = "127.0.0.1", int Port = 8080, string? ApiKey = null, long MaxBodyBytes = 8 << 20);

    private readonly ICompiledModel _model;
    private readonly ITokenCodec _codec;
    private readonly BatchedGenerator _generator;
    private readonly ChatTemplate? _template;
    private readonly ServerMetrics _metrics;
    private readonly string _modelId;
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private readonly WebApplication _app;

    /// <param name="model">Loaded with InferenceOptions.Sequences = the slots to serve at once.</param>
    public OpenAiServer(ICompiledModel model, ITokenCodec codec, ChatTemplate? template, Settings settings)
    {
        (_model, _codec, _template, _modelId) = (model, codec, template, model.Description.Name);
        _generator = new BatchedGenerator(model, codec);
        _metrics = new ServerMetrics(() => _generator.Queued, () => _generator.Active, () => _generator.Steps, () => _generator.Runs);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = settings.MaxBodyBytes);
        builder.WebHost.UseUrls($"http://{settings.Host}:{settings.Port}");
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, OpenAiJson.Default));
        _app = builder.Build();
        if (settings.ApiKey is { } key) _app.Use(async (HttpContext c, RequestDelegate next) =>
        {
            if (c.Request.Path != "/health" && c.Request.Headers.Authorization.ToString() != "Bearer " + key)
            {
                await Error(c, 401, "missing or wrong API key (Authorization: Bearer KEY)", "invalid_request_error", null, "invalid_api_key");
                return;
            }
            await next(c);
        });
        _app.MapGet("/health", (RequestDelegate)(c => Json(c, 200, new Health("ok"), OpenAiJson.Default.Health)));
        _app.MapGet("/v1/models", (RequestDelegate)(c => Json(c, 200, new ModelList("list", [new ModelEntry(_modelId, "model", _created, "ingot")]), OpenAiJson.Default.ModelList)));
        _app.MapGet("/metrics", (RequestDelegate)(async c =>
        {
            c.Response.ContentType = "text/plain; version=0.0.4";
            await c.Response.WriteAsync(_metrics.Text(), c.RequestAborted);
        }));
        _app.MapPost("/v1/chat/completions", (RequestDelegate)ChatAsync);
        _app.MapPost("/v1/completions", (RequestDelegate)CompleteAsync);
    }

    /// <summary>The scheduler the requests share.</summary>
    public BatchedGenerator Generator => _generator;

    /// <summary>What /metrics serves.</summary>
    public ServerMetrics Metrics => _metrics;

    /// <summary>The address it listens on, once started.</summary>
    public string Url => _app.Urls.FirstOrDefault() ?? "";

    public Task StartAsync(CancellationToken ct = default) => _app.StartAsync(ct);

    public Task StopAsync() => _app.StopAsync();

    /// <summary>Cancelled when the host begins to stop on its own: SIGTERM (the host's console lifetime) or a stop request.</summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _generator.Dispose();
    }

    private async Task ChatAsync(HttpContext c)
    {
        var req = await Read(c, OpenAiJson.Default.ChatCompletionRequest);
        if (req is null) return;
        if (_template is null) { await Error(c, 400, $"{_modelId} has no chat template (tokenizer.chat_template); start the server with --chat-template FILE.jinja, or use /v1/completions", "messages"); return; }
        if (req.Messages is not { Count: > 0 }) { await Error(c, 400, "messages: at least one message is required", "messages"); return; }
        if (await CheckCommon(c, req) is not { } stops) return;
        if (req.MaxCompletionTokens is < 0) { await Error(c, 400, "max_completion_tokens must be >= 0", "max_completion_tokens"); return; }
        var (ok, grammar) = await ResponseFormat(c, req.ResponseFormat);
        if (!ok) return;
        if (req.Tools is { ValueKind: JsonValueKind.Array } tools && tools.GetArrayLength() > 0) { await Error(c, 400, "tools: tool calls are not supported", "tools"); return; }
        var messages = new List<TemplateMessage>();
        for (int i = 0; i < req.Messages.Count; i++)
        {
            var m = req.Messages[i];
            if (m.Role is not ("system" or "developer" or "user" or "assistant" or "tool")) { await Error(c, 400, $"messages[{i}].role: '{m.Role}' is not system, developer, user, assistant or tool", $"messages[{i}].role"); return; }
            string? text = ContentText(m.Content);
            if (text is null) { await Error(c, 400, $"messages[{i}].content: a string or an array of text parts", $"messages[{i}].content"); return; }
            messages.Add(new TemplateMessage(m.Role == "developer" ? "system" : m.Role, text));
        }
        string prompt;
        // The template refused the conversation (raise_exception: roles must alternate …) or hit its bounds.
        try { prompt = _template.Render(messages, addGenerationPrompt: true); }
        catch (ChatTemplateException e) { await Error(c, 400, "chat template: " + e.Message, "messages"); return; }
        _metrics.Request(chat: true);
        // As generate --chat: the rendered turn holds its own special tokens, and a BOS sampled mid-reply is text.
        var options = Options(req, stops, req.MaxCompletionTokens ?? req.MaxTokens) with { StopAtBos = false, Grammar = grammar };
        await Generate(c, "chatcmpl-", _codec.EncodePrompt(prompt), options, "messages", req.Stream == true, req.StreamOptions?.IncludeUsage == true, chat: true);
    }

    private async Task CompleteAsync(HttpContext c)
    {
        var req = await Read(c, OpenAiJson.Default.CompletionRequest);
        if (req is null) return;
        string? prompt = req.Prompt switch
        {
            { ValueKind: JsonValueKind.String } s => s.GetString(),
            { ValueKind: JsonValueKind.Array } a when a.GetArrayLength() == 1 && a[0].ValueKind == JsonValueKind.String => a[0].GetString(),
            _ => null,
        };
        if (prompt is null) { await Error(c, 400, "prompt: a string is required", "prompt"); return; }
        if (await CheckCommon(c, req) is not { } stops) return;
        _metrics.Request(chat: false);
        await Generate(c, "cmpl-", _codec.EncodePrompt(prompt), Options(req, stops, req.MaxTokens), "prompt", req.Stream == true, req.StreamOptions?.IncludeUsage == true, chat: false);
    }

    /// <summary>
    /// response_format: text (or absent) is free text; json_object any JSON object; json_schema the schema's grammar
    /// (<see cref="JsonSchemaGrammar"/>). (false, null) after answering 400 naming the field.
    /// </summary>
    private static async Task<(bool Ok, Runtime.Grammars.Grammar? Grammar)> ResponseFormat(HttpContext c, JsonElement? format)
    {
        if (format is not { ValueKind: not JsonValueKind.Null } rf) return (true, null);
        string? type = rf.ValueKind == JsonValueKind.Object && rf.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        string schema;
        switch (type)
        {
            case "text": return (true, null);
            case "json_object": schema = JsonSchemaGrammar.AnyObjectSchema; break;
            case "json_schema":
                if (!rf.TryGetProperty("json_schema", out var js) || js.ValueKind != JsonValueKind.Object || !js.TryGetProperty("schema", out var s))
                {
                    await Error(c, 400, "response_format.json_schema.schema: a JSON Schema object is required", "response_format.json_schema.schema");
                    return (false, null);
                }
                schema = s.GetRawText();
                break;
            default:
                await Error(c, 400, "response_format.type: one of text, json_object, json_schema", "response_format.type");
                return (false, null);
        }
        try { return (true, JsonSchemaGrammar.FromSchema(schema)); }
        catch (GrammarException e)
        {
            await Error(c, 400, "response_format.json_schema.schema: " + e.Message, "response_format.json_schema.schema");
            return (false, null);
        }
    }

    /// <summary>The request's sampling and limits; max_tokens absent: until the sequence's context is full.</summary>
    private GenerationOptions Options(GenerationRequest req, List<string> stops, int? maxTokens)
    {
        var d = SamplerOptions.Default;
        var sampling = d with
        {
            Temperature = req.Temperature ?? d.Temperature, TopP = req.TopP ?? d.TopP, TopK = req.TopK ?? d.TopK, MinP = req.MinP ?? d.MinP,
            Seed = req.Seed is long seed ? unchecked((ulong)seed) : null,
            FrequencyPenalty = req.FrequencyPenalty ?? 0f, PresencePenalty = req.PresencePenalty ?? 0f,
        };
        return new GenerationOptions(maxTokens ?? _model.ContextSize, sampling) { StopSequences = stops };
    }

    /// <summary>
    /// Queues the generation and answers: one JSON object, or SSE events as the text comes (chat: a role chunk first;
    /// then content chunks, a finish chunk, the usage chunk when asked, [DONE]). A prompt longer than the context is
    /// 400 naming <paramref name="field"/>; a client that goes away cancels the generation, which frees its slot.
    /// </summary>
    private async Task Generate(HttpContext c, string idPrefix, IReadOnlyList<int> ids, GenerationOptions options, string field, bool stream, bool includeUsage, bool chat)
    {
        BatchedGenerator.Generation g;
        try { g = _generator.Submit(ids, options, c.RequestAborted); }
        catch (ContextOverflowException e) { await Error(c, 400, e.Message, field, "context_length_exceeded"); return; }
        string id = idPrefix + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var text = new System.Text.StringBuilder();
        try
        {
            if (stream)
            {
                StartEvents(c);
                if (chat) await Event(c, new ChatCompletionChunk(id, "chat.completion.chunk", created, _modelId, [new ChunkChoice(0, new Delta(Role: "assistant", Content: ""), null)]), OpenAiJson.Default.ChatCompletionChunk);
            }
            if (stream)
                await foreach (string piece in g.Text.ReadAllAsync(c.RequestAborted))
                {
                    if (chat) await Event(c, new ChatCompletionChunk(id, "chat.completion.chunk", created, _modelId, [new ChunkChoice(0, new Delta(Content: piece), null)]), OpenAiJson.Default.ChatCompletionChunk);
                    else await Event(c, new Completion(id, "text_completion", created, _modelId, [new CompletionChoice(0, piece, null)], null), OpenAiJson.Default.Completion);
                }
            var r = await g.Completion;
            // A whole answer is read once it is done: a reader waiting on the channel would be woken for every token, a
            // thread-pool wake-up per sequence and step that takes a core from the model's threads on a small machine.
            // (The generator sees a client that goes away through the token it was given.)
            while (!stream && g.Text.TryRead(out string? piece)) text.Append(piece);
            _metrics.Generated(r.PromptTokens, r.GeneratedTokens, r.PrefillSeconds + r.DecodeSeconds, r.StopReason == StopReason.Cancelled);
            if (r.StopReason == StopReason.Cancelled) return; // the client went away
            string finish = r.StopReason is StopReason.EndOfGeneration or StopReason.StopSequence ? "stop" : "length";
            var usage = new Usage(r.PromptTokens, r.GeneratedTokens, r.PromptTokens + r.GeneratedTokens);
            var timings = Timings.Of(r.PromptTokens - g.ReusedPromptTokens, r.PrefillSeconds, r.GeneratedTokens, r.DecodeSeconds);
            if (!stream)
            {
                if (chat) await Json(c, 200, new ChatCompletion(id, "chat.completion", created, _modelId, [new ChatChoice(0, new AssistantMessage("assistant", text.ToString()), finish)], usage, timings), OpenAiJson.Default.ChatCompletion);
                else await Json(c, 200, new Completion(id, "text_completion", created, _modelId, [new CompletionChoice(0, text.ToString(), finish)], usage, timings), OpenAiJson.Default.Completion);
                return;
            }
            if (chat)
            {
                await Event(c, new ChatCompletionChunk(id, "chat.completion.chunk", created, _modelId, [new ChunkChoice(0, new Delta(), finish)], Timings: timings), OpenAiJson.Default.ChatCompletionChunk);
                if (includeUsage) await Event(c, new ChatCompletionChunk(id, "chat.completion.chunk", created, _modelId, [], usage), OpenAiJson.Default.ChatCompletionChunk);
            }
            else
            {
                await Event(c, new Completion(id, "text_completion", created, _modelId, [new CompletionChoice(0, "", finish)], null, timings), OpenAiJson.Default.Completion);
                if (includeUsage) await Event(c, new Completion(id, "text_completion", created, _modelId, [], usage), OpenAiJson.Default.Completion);
            }
            await Done(c);
        }
        catch (OperationCanceledException) when (c.RequestAborted.IsCancellationRequested)
        {
            // The client went away: the generator sees the same token, stops the generation within a step and frees its slot.
            var r = await g.Completion;
            _metrics.Generated(r.PromptTokens, r.GeneratedTokens, r.PrefillSeconds + r.DecodeSeconds, cancelled: true);
        }
    }

    /// <summary>The request body as <typeparamref name="T"/>; null after answering 400 (malformed JSON or a wrong type, naming the field).</summary>
    private static async Task<T?> Read<T>(HttpContext c, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) where T : class
    {
        try
        {
            var value = await JsonSerializer.DeserializeAsync(c.Request.Body, type, c.RequestAborted);
            if (value is null) await Error(c, 400, "the body must be a JSON object", null);
            return value;
        }
        catch (JsonException e)
        {
            string field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "body" : e.Path.TrimStart('$', '.');
            await Error(c, 400, $"invalid JSON at {field}: {e.Message}", field);
            return null;
        }
        catch (BadHttpRequestException e)
        {
            await Error(c, e.StatusCode, e.Message, null);
            return null;
        }
    }

    /// <summary>The checks both endpoints make (n, stop, max_tokens); the stop sequences, or null after answering 400.</summary>
    private static async Task<List<string>?> CheckCommon(HttpContext c, GenerationRequest req)
    {
        if (req.N is not (null or 1)) { await Error(c, 400, "n: only 1 is supported", "n"); return null; }
        if (req.MaxTokens is < 0) { await Error(c, 400, "max_tokens must be >= 0", "max_tokens"); return null; }
        var stops = Stops(req.Stop);
        if (stops is null) await Error(c, 400, "stop: a string or an array of strings", "stop");
        return stops;
    }

    /// <summary>A message's text: a string, or the concatenated text parts of an array; null for anything else.</summary>
    private static string? ContentText(JsonElement? content)
    {
        if (content is not { } e || e.ValueKind == JsonValueKind.Null) return "";
        if (e.ValueKind == JsonValueKind.String) return e.GetString();
        if (e.ValueKind != JsonValueKind.Array) return null;
        var sb = new System.Text.StringBuilder();
        foreach (var part in e.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.GetString() != "text" ||
                !part.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String) return null;
            sb.Append(t.GetString());
        }
        return sb.ToString();
    }

    /// <summary>stop: absent, a string, or an array of strings; null when it is something else.</summary>
    private static List<string>? Stops(JsonElement? stop)
    {
        if (stop is not { } e || e.ValueKind == JsonValueKind.Null) return [];
        if (e.ValueKind == JsonValueKind.String) return e.GetString() is { Length: > 0 } one ? [one] : [];
        if (e.ValueKind != JsonValueKind.Array) return null;
        var list = new List<string>();
        foreach (var s in e.EnumerateArray())
        {
            if (s.ValueKind != JsonValueKind.String) return null;
            if (s.GetString() is { Length: > 0 } one) list.Add(one);
        }
        return list;
    }

    private static async Task Json<T>(HttpContext c, int status, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        c.Response.StatusCode = status;
        c.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(c.Response.Body, value, type, c.RequestAborted);
    }

    private static Task Error(HttpContext c, int status, string message, string? param, string? code = null) =>
        Error(c, status, message, "invalid_request_error", param, code);

    private static Task Error(HttpContext c, int status, string message, string type, string? param, string? code) =>
        Json(c, status, new ErrorResponse(new ErrorBody(message, type, param, code)), OpenAiJson.Default.ErrorResponse);

    private static void StartEvents(HttpContext c)
    {
        c.Response.StatusCode = 200;
        c.Response.ContentType = "text/event-stream";
        c.Response.Headers.CacheControl = "no-cache";
    }

    // The SSE framing bytes, made once rather than per streamed token.
    private static readonly ReadOnlyMemory<byte> DataPrefix = "data: "u8.ToArray(), EventEnd = "\n\n"u8.ToArray(), DoneEvent = "data: [DONE]\n\n"u8.ToArray();

    /// <summary>One SSE event: <c>data: {json}</c> and a blank line, flushed.</summary>
    private static async Task Event<T>(HttpContext c, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        var body = c.Response.Body;
        await body.WriteAsync(DataPrefix, c.RequestAborted);
        await JsonSerializer.SerializeAsync(body, value, type, c.RequestAborted);
        await body.WriteAsync(EventEnd, c.RequestAborted);
        await body.FlushAsync(c.RequestAborted);
    }

    private static async Task Done(HttpContext c)
    {
        await c.Response.Body.WriteAsync(DoneEvent, c.RequestAborted);
        await c.Response.Body.FlushAsync(c.RequestAborted);
    }
}
