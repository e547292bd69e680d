using System.Runtime.CompilerServices;
using Ingot.Runtime.Generation;
using Ingot.Runtime.Sampling;
using Microsoft.Extensions.AI;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using TemplateMessage = Ingot.Runtime.Chat.ChatMessage;

namespace Ingot.Runtime.Chat;

/// <summary>
/// A compiled causal LM as Microsoft.Extensions.AI's <see cref="IChatClient"/>. Each request renders the conversation
/// through the model's own chat template (as <c>generate --chat</c> does) and streams the reply; the generator re-runs
/// only the tokens its KV cache does not already hold.
/// <list type="bullet">
/// <item><see cref="ChatOptions"/> map to the sampler: Temperature, TopP, TopK, Seed, FrequencyPenalty, PresencePenalty,
/// and AdditionalProperties["min_p"] (a float, as llama.cpp's server takes it);
/// MaxOutputTokens bounds the reply (default: until the context is full); StopSequences end it, the sequence not
/// included; Instructions is a system message first. Defaults are the sampler's (llama.cpp's).</item>
/// <item>ResponseFormat JSON constrains the reply to a grammar: the schema's (<see cref="Grammars.JsonSchemaGrammar"/>), or any
/// JSON object without one; so <c>GetResponseAsync&lt;T&gt;</c> gets JSON that deserializes to T. A schema keyword the
/// converter does not support is an <see cref="ArgumentException"/> naming it.</item>
/// <item>Tools and non-text content are refused with <see cref="NotSupportedException"/>; nothing
/// is silently dropped. ModelId and AdditionalProperties are ignored, as the abstractions allow.</item>
/// <item>ConversationId: every response carries one. Sent back, the request's messages are the new ones, appended to
/// the stored history; the cache then already holds the earlier turns, so only the new messages are prefilled. An id
/// the client does not know starts a conversation under that id. Without one, the messages are the whole history.</item>
/// <item>The final update carries a <see cref="UsageContent"/> (prompt and generated tokens) and the finish reason.</item>
/// </list>
/// One model, one KV cache: requests run one at a time.
/// </summary>
public sealed class ModelChatClient : IChatClient
{
    private const int MaxConversations = 64;

    private readonly ICompiledModel _model;
    private readonly TextGenerator _generator;
    private readonly ChatTemplate _template;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, List<TemplateMessage>> _conversations = new(StringComparer.Ordinal);
    private readonly Queue<string> _conversationOrder = new();

    public ModelChatClient(ICompiledModel model, TextGenerator generator, ChatTemplate template)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(template);
        if (!ReferenceEquals(generator.Model, model)) throw new ArgumentException("the generator must drive this model", nameof(generator));
        (_model, _generator, _template) = (model, generator, template);
    }

    public ChatTemplate Template => _template;

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken).ConfigureAwait(false);

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var request = Request.From(messages, options);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Task.Yield(); // the prefill's compute runs after the caller has the enumerator
            string conversationId = options?.ConversationId ?? "ingot-" + Guid.NewGuid().ToString("N");
            var history = new List<TemplateMessage>();
            if (options?.ConversationId is { } known && _conversations.TryGetValue(known, out var stored)) history.AddRange(stored);
            else if (request.Instructions is { } system) history.Add(new TemplateMessage("system", system));
            history.AddRange(request.Messages);

            var ids = _generator.Tokenize(_template.Render(history, addGenerationPrompt: true));
            int maxNew = request.MaxOutputTokens ?? Math.Max(0, _model.ContextSize - ids.Count);
            var run = _generator.Start(ids, new GenerationOptions(maxNew, request.Sampling) { StopAtBos = false, StopSequences = request.StopSequences, Grammar = request.Grammar });
            string responseId = "ingot-" + Guid.NewGuid().ToString("N"), modelId = _model.Description.Name;
            var created = DateTimeOffset.UtcNow;
            var reply = new System.Text.StringBuilder();
            ChatResponseUpdate Update(string text) => new(ChatRole.Assistant, text)
            {
                ResponseId = responseId, MessageId = responseId, ConversationId = conversationId, ModelId = modelId, CreatedAt = created,
            };

            while (run.MoveNext(cancellationToken, out string text))
            {
                if (text.Length == 0) continue;
                reply.Append(text);
                yield return Update(text);
            }
            var result = run.Result;
            if (result.StopReason == StopReason.Cancelled) throw new OperationCanceledException(cancellationToken);

            history.Add(new TemplateMessage("assistant", reply.ToString()));
            Remember(conversationId, history);
            var usage = new UsageDetails { InputTokenCount = result.PromptTokens, OutputTokenCount = result.GeneratedTokens, TotalTokenCount = result.PromptTokens + result.GeneratedTokens };
            var last = Update("");
            last.Contents = [new UsageContent(usage)];
            last.FinishReason = result.StopReason is StopReason.EndOfGeneration or StopReason.StopSequence ? ChatFinishReason.Stop : ChatFinishReason.Length;
            yield return last;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The history stored under <paramref name="conversationId"/> (null when the client holds none).</summary>
    public IReadOnlyList<TemplateMessage>? History(string conversationId) => _conversations.GetValueOrDefault(conversationId);

    private void Remember(string id, List<TemplateMessage> history)
    {
        if (!_conversations.ContainsKey(id))
        {
            _conversationOrder.Enqueue(id);
            while (_conversationOrder.Count > MaxConversations) _conversations.Remove(_conversationOrder.Dequeue());
        }
        _conversations[id] = history;
    }

    /// <summary>ChatClientMetadata ("ingot", the model's name), the model's <see cref="ModelDescription"/>, the model, or this client.</summary>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return new ChatClientMetadata("ingot", null, _model.Description.Name);
        if (serviceType == typeof(ModelDescription)) return _model.Description;
        if (serviceType.IsInstanceOfType(this)) return this;
        if (serviceType.IsInstanceOfType(_model)) return _model;
        return null;
    }

    /// <summary>The model stays its owner's.</summary>
    public void Dispose() => _gate.Dispose();

    /// <summary>A request checked and mapped before it waits for the model.</summary>
    private sealed record Request(List<TemplateMessage> Messages, SamplerOptions Sampling, int? MaxOutputTokens, IReadOnlyList<string> StopSequences, string? Instructions, Grammars.Grammar? Grammar)
    {
        public static Request From(IEnumerable<AiChatMessage> messages, ChatOptions? o)
        {
            if (o?.Tools is { Count: > 0 })
                throw new NotSupportedException("ChatOptions.Tools: this chat client does not call tools");
            Grammars.Grammar? grammar = null;
            if (o?.ResponseFormat is ChatResponseFormatJson json)
            {
                try { grammar = Grammars.JsonSchemaGrammar.FromSchema(json.Schema is { } schema ? schema.GetRawText() : Grammars.JsonSchemaGrammar.AnyObjectSchema); }
                catch (Grammars.GrammarException e) { throw new ArgumentException("ChatOptions.ResponseFormat schema: " + e.Message, nameof(o)); }
            }
            if (o?.MaxOutputTokens is < 0) throw new ArgumentOutOfRangeException(nameof(o), o.MaxOutputTokens, "MaxOutputTokens must be >= 0");
            var list = new List<TemplateMessage>();
            int i = 0;
            foreach (var m in messages)
            {
                foreach (var c in m.Contents)
                    if (c is not TextContent)
                        throw new NotSupportedException($"message {i} holds {c.GetType().Name}: this chat client takes text only");
                list.Add(new TemplateMessage(m.Role.Value, m.Text));
                i++;
            }
            var d = SamplerOptions.Default;
            var sampling = d with
            {
                Temperature = o?.Temperature ?? d.Temperature,
                TopP = o?.TopP ?? d.TopP,
                TopK = o?.TopK ?? d.TopK,
                MinP = o?.AdditionalProperties?.TryGetValue("min_p", out object? minP) == true && minP is float mp ? mp : d.MinP,
                Seed = o?.Seed is long seed ? unchecked((ulong)seed) : null,
                FrequencyPenalty = o?.FrequencyPenalty ?? 0f,
                PresencePenalty = o?.PresencePenalty ?? 0f,
            };
            IReadOnlyList<string> stops = o?.StopSequences is { Count: > 0 } s ? [.. s.Where(x => x.Length > 0)] : [];
            return new Request(list, sampling, o?.MaxOutputTokens, stops, o?.Instructions, grammar);
        }
    }
}
