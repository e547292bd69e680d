using Ingot.Formats;
using Ingot.Runtime;
using Ingot.Runtime.Chat;
using Ingot.Runtime.Generation;
using Microsoft.Extensions.AI;
using Xunit;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Ingot.Host.Tests;

/// <summary>
/// <see cref="IChatClient"/> on the real stories260K, whose GGUF is given a ChatML chat template
/// (<see cref="TestPaths.StoriesWithChatTemplate"/>): greedy replies equal <c>generate --chat</c>'s, streaming concatenates to the same text, the options map
/// to the sampler, and a conversation's second turn prefills only its new tokens.
/// </summary>
public class ChatClientTests
{
    private static string ChatGguf => TestPaths.StoriesWithChatTemplate;

    private static readonly AiChatMessage[] Story = [new(ChatRole.System, "Be brief."), new(ChatRole.User, "Tell me a story.")];

    private static ChatOptions Greedy(int maxNew) => new() { Temperature = 0, MaxOutputTokens = maxNew };

    /// <summary>Counts the tokens the chat client makes the model prefill.</summary>
    private sealed class CountingModel(ICompiledModel inner) : ICompiledModel
    {
        public int Prefilled { get; private set; }
        public ModelDescription Description => inner.Description;
        public long WeightBytes => inner.WeightBytes;
        public void Load(GgufFile weights, InferenceOptions options) => inner.Load(weights, options);
        public int VocabSize => inner.VocabSize;
        public int ContextSize => inner.ContextSize;
        public int Position => inner.Position;
        public void Reset() => inner.Reset();
        public void Prefill(ReadOnlySpan<int> tokens, Span<float> logits) { Prefilled += tokens.Length; inner.Prefill(tokens, logits); }
        public void Decode(int token, Span<float> logits) => inner.Decode(token, logits);
        public void Dispose() => inner.Dispose();
    }

    [Fact]
    public async Task GreedyResponseIsGenerateChatsReplyAndStreamingConcatenatesToIt()
    {
        var (code, o, e) = HostProgramTests.Run(new Stories260K(), "generate", "--chat", "-p", "Tell me a story.", "--system", "Be brief.",
            "--max-new", "24", "--temp", "0", "--model", ChatGguf, "-t", "1");
        Assert.True(code == 0, e);

        using var model = Stories260K.Load(ChatGguf, new InferenceOptions { Threads = 1 });
        IChatClient chat = model.AsChatClient();
        var response = await chat.GetResponseAsync(Story, Greedy(24));
        Assert.Equal(o, response.Text + "\n");
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(24, response.Usage!.OutputTokenCount);
        var template = ChatTemplate.FromGguf(GgufFile.Open(ChatGguf));
        int promptTokens = model.Generator.Tokenize(template.Render([new("system", "Be brief."), new("user", "Tell me a story.")])).Count;
        Assert.Equal(promptTokens, response.Usage.InputTokenCount);
        Assert.Equal(promptTokens + 24, response.Usage.TotalTokenCount);
        Assert.StartsWith("ingot-", response.ConversationId);
        Assert.Equal("stories260K", response.ModelId);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in chat.GetStreamingResponseAsync(Story, Greedy(24))) updates.Add(u);
        Assert.True(updates.Count > 2);
        Assert.Equal(response.Text, string.Concat(updates.Select(u => u.Text)));
        var last = updates[^1];
        Assert.Equal(ChatFinishReason.Length, last.FinishReason);
        var usage = Assert.IsType<UsageContent>(Assert.Single(last.Contents));
        Assert.Equal(24, usage.Details.OutputTokenCount);
        Assert.All(updates, u => Assert.Equal(ChatRole.Assistant, u.Role));
    }

    [Fact]
    public async Task StopSequencesMaxOutputTokensAndSeedDoWhatTheySay()
    {
        using var model = Stories260K.Load(ChatGguf, new InferenceOptions { Threads = 1 });
        IChatClient chat = model.AsChatClient();
        string full = (await chat.GetResponseAsync(Story, Greedy(24))).Text;

        // A stop sequence from the middle of the reply: the text ends just before it, and the reason is Stop.
        int at = full.IndexOf(' ', full.Length / 2);
        string stop = full.Substring(at, 4);
        var stopped = await chat.GetResponseAsync(Story, new ChatOptions { Temperature = 0, MaxOutputTokens = 24, StopSequences = [stop] });
        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], stopped.Text);
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);
        // Streamed, the held-back text never leaks past the cut.
        var streamed = new System.Text.StringBuilder();
        await foreach (var u in chat.GetStreamingResponseAsync(Story, new ChatOptions { Temperature = 0, MaxOutputTokens = 24, StopSequences = [stop] })) streamed.Append(u.Text);
        Assert.Equal(stopped.Text, streamed.ToString());

        var five = await chat.GetResponseAsync(Story, Greedy(5));
        Assert.Equal(5, five.Usage!.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Length, five.FinishReason);
        Assert.StartsWith(five.Text, full);

        // A seed repeats a sampled reply; another seed gives another.
        ChatOptions Sampled(long seed) => new() { Temperature = 1.5f, TopK = 0, TopP = 1, Seed = seed, MaxOutputTokens = 24 };
        string a = (await chat.GetResponseAsync(Story, Sampled(7))).Text;
        string b = (await chat.GetResponseAsync(Story, Sampled(7))).Text;
        string c = (await chat.GetResponseAsync(Story, Sampled(8))).Text;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public async Task CancellationStopsTheReplyWithinOneToken()
    {
        using var model = Stories260K.Load(ChatGguf, new InferenceOptions { Threads = 1 });
        var counting = new CountingModel(model);
        var decodes = 0;
        using var chat = new ModelChatClient(counting, new TextGenerator(counting, TokenizerCodec.FromGguf(GgufFile.Open(ChatGguf))), ChatTemplate.FromGguf(GgufFile.Open(ChatGguf)));
        using var cts = new CancellationTokenSource();
        int afterCancel = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var u in chat.GetStreamingResponseAsync(Story, Greedy(200), cts.Token))
            {
                if (cts.IsCancellationRequested) afterCancel++;
                else
                {
                    decodes = counting.Position;
                    cts.Cancel();
                }
            }
        });
        Assert.True(afterCancel <= 1, $"{afterCancel} updates after the cancellation");
        Assert.True(counting.Position - decodes <= 1, $"{counting.Position - decodes} tokens decoded after the cancellation");
    }

    [Fact]
    public async Task ASecondTurnWithTheConversationIdPrefillsOnlyItsNewTokens()
    {
        using var model = Stories260K.Load(ChatGguf, new InferenceOptions { Threads = 1 });
        var counting = new CountingModel(model);
        var generator = new TextGenerator(counting, TokenizerCodec.FromGguf(GgufFile.Open(ChatGguf)));
        var template = ChatTemplate.FromGguf(GgufFile.Open(ChatGguf));
        using var chat = new ModelChatClient(counting, generator, template);

        var first = await chat.GetResponseAsync([new AiChatMessage(ChatRole.User, "Hello!")], Greedy(16));
        int firstPrefill = counting.Prefilled;
        Assert.Equal(first.Usage!.InputTokenCount, firstPrefill);
        int cached = generator.CachedTokens.Count;

        var second = await chat.GetResponseAsync([new AiChatMessage(ChatRole.User, "What next?")], new ChatOptions { Temperature = 0, MaxOutputTokens = 16, ConversationId = first.ConversationId });
        Assert.Equal(first.ConversationId, second.ConversationId);
        int secondPrefill = counting.Prefilled - firstPrefill;
        Assert.Equal(second.Usage!.InputTokenCount - cached, secondPrefill);
        Assert.True(secondPrefill < second.Usage.InputTokenCount / 2, $"prefilled {secondPrefill} of {second.Usage.InputTokenCount}");

        // The same conversation sent whole, without an id, to a fresh model gives the same reply.
        using var fresh = Stories260K.Load(ChatGguf, new InferenceOptions { Threads = 1 });
        var whole = await fresh.AsChatClient().GetResponseAsync(
            [new AiChatMessage(ChatRole.User, "Hello!"), new AiChatMessage(ChatRole.Assistant, first.Text), new AiChatMessage(ChatRole.User, "What next?")], Greedy(16));
        Assert.Equal(whole.Text, second.Text);
        Assert.Equal(whole.Usage!.InputTokenCount, second.Usage.InputTokenCount);
        Assert.Equal(4, chat.History(first.ConversationId!)!.Count);
    }

    [Fact]
    public async Task OptionsItCannotHonourAreClearErrorsAndGetServiceDescribesTheModel()
    {
        using var model = Stories260K.Load(ChatGguf, new InferenceOptions { Threads = 1 });
        IChatClient chat = model.AsChatClient();
        var tool = AIFunctionFactory.Create(() => 42, "answer");
        await Assert.ThrowsAsync<NotSupportedException>(() => chat.GetResponseAsync(Story, new ChatOptions { Tools = [tool] }));
        // A JSON response format is honoured (StructuredOutputTests); a schema keyword the converter lacks is named.
        using var schema = System.Text.Json.JsonDocument.Parse("""{ "type": "string", "format": "email" }""");
        var json = await Assert.ThrowsAsync<ArgumentException>(() => chat.GetResponseAsync(Story, new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema.RootElement) }));
        Assert.Contains("ResponseFormat schema: $.format: format 'email'", json.Message);
        var image = new AiChatMessage(ChatRole.User, [new DataContent(new byte[] { 1, 2, 3 }, "image/png")]);
        var content = await Assert.ThrowsAsync<NotSupportedException>(() => chat.GetResponseAsync([image]));
        Assert.Contains("DataContent", content.Message);

        var meta = Assert.IsType<ChatClientMetadata>(chat.GetService(typeof(ChatClientMetadata)));
        Assert.Equal("ingot", meta.ProviderName);
        Assert.Equal("stories260K", meta.DefaultModelId);
        var description = Assert.IsType<ModelDescription>(chat.GetService(typeof(ModelDescription)));
        Assert.Equal((model.Description.Name, model.Description.SpecJson), (description.Name, description.SpecJson));
        Assert.Null(chat.GetService(typeof(ChatClientMetadata), "key"));

        // A file without a template: one exception naming the key.
        using var plain = Stories260K.Load(TestPaths.Stories260KGguf);
        var e = Assert.Throws<InvalidModelFileException>(() => plain.AsChatClient());
        Assert.Contains("tokenizer.chat_template", e.Message);
    }
}
