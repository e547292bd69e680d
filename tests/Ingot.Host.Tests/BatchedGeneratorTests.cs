using System.Text;
using Ingot.Host.Server;
using Ingot.Runtime;
using Ingot.Runtime.Chat;
using Ingot.Runtime.Generation;
using Ingot.Runtime.Sampling;
using Xunit;

namespace Ingot.Host.Tests;

/// <summary>
/// The continuous-batching scheduler on fakes and on stories260K: a batched stream is the lone stream, a cancelled
/// generation frees its slot for the queued one, a slot reuses the prompt prefix it holds, and the server answers a
/// disconnect by freeing the slot and a runaway chat template with 400.
/// </summary>
public sealed class BatchedGeneratorTests
{
    private static readonly GenerationOptions Greedy = new(24, SamplerOptions.Greedy);

    private static async Task<(string Text, GenerationResult Result)> Collect(BatchedGenerator.Generation g)
    {
        var sb = new StringBuilder();
        await foreach (string piece in g.Text.ReadAllAsync()) sb.Append(piece);
        return (sb.ToString(), await g.Completion);
    }

    [Fact]
    public async Task ManyStoriesAtOnceEachEqualTheTextGeneratorsStream()
    {
        using var file = Formats.GgufFile.Open(TestPaths.Stories260KGguf);
        var codec = TokenizerCodec.FromGguf(file);
        string[] prompts = ["Once upon a time", "The cat", "Lily wanted", "One day, a big dog", "Tom and Sue", "The sun was"];
        var expected = new List<string>();
        using (var single = new Stories260K())
        {
            single.Load(file, new InferenceOptions(ContextSize: 128, Threads: 1));
            var generator = new TextGenerator(single, codec);
            foreach (string p in prompts)
            {
                var sb = new StringBuilder();
                generator.Generate(p, Greedy, t => sb.Append(t));
                expected.Add(sb.ToString());
            }
        }
        using var model = new Stories260K();
        model.Load(file, new InferenceOptions(ContextSize: 128, Threads: 1, Sequences: 4));
        using var batched = new BatchedGenerator(model, codec, stepTokens: 8); // prompts prefill over several steps, beside decodes
        // encoded first, then submitted back to back: encoding between the submissions (a cold tokenizer on a loaded machine)
        // let the first requests finish alone before the next arrived (147 runs in 75 steps once in a full test run)
        var ids = prompts.Select(p => codec.EncodePrompt(p)).ToArray();
        var runs = ids.Select(i => batched.Submit(i, Greedy)).ToArray(); // 6 requests, 4 slots: 2 queue
        for (int i = 0; i < prompts.Length; i++)
        {
            var (text, result) = await Collect(runs[i]);
            Assert.Equal(expected[i], text);
            Assert.Equal(StopReason.MaxTokens, result.StopReason);
        }
        // 4 sequences at once, then the 2 queued ones: 3 runs a step at best, 1 if none shared a step; a first request that
        // runs a few steps alone before the next arrives (a loaded machine) leaves well above 1.5 (147 runs in 75 steps once)
        Assert.True(batched.Runs > batched.Steps * 3 / 2, $"{batched.Runs} runs in {batched.Steps} steps: the sequences did not share steps");
        Assert.Equal(0, batched.Active);
    }

    [Fact]
    public async Task ACancelledGenerationFreesItsSlotForTheQueuedOne()
    {
        var model = new BigramModel(vocab: 16) { Next = prev => 3 + prev % 10, StepDelay = TimeSpan.FromMilliseconds(1) }.WithContext(1 << 20);
        var codec = new ByteCodec(16);
        using var batched = new BatchedGenerator(model, codec); // one sequence: one slot
        using var cts = new CancellationTokenSource();
        var endless = batched.Submit(codec.EncodePrompt("abc"), new GenerationOptions(1 << 19, SamplerOptions.Greedy), cts.Token);
        var queued = batched.Submit(codec.EncodePrompt("d"), new GenerationOptions(5, SamplerOptions.Greedy));
        int pieces = 0;
        await foreach (string _ in endless.Text.ReadAllAsync())
            if (++pieces == 5) break;
        Assert.Equal(1, batched.Queued);
        cts.Cancel();
        var cancelled = await endless.Completion.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(StopReason.Cancelled, cancelled.StopReason);
        Assert.True(cancelled.GeneratedTokens < 1000, $"{cancelled.GeneratedTokens} tokens after the cancel");
        var (text, result) = await Collect(queued).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(5, result.GeneratedTokens);
        Assert.Equal(5, text.Length);
        Assert.Equal(0, batched.Active);
    }

    [Fact]
    public async Task ASlotRunsOnlyThePromptTokensItDoesNotHoldYet()
    {
        var model = new BigramModel(vocab: 16) { Next = prev => 3 + prev % 10 }.WithContext(256);
        var codec = new ByteCodec(16);
        using var batched = new BatchedGenerator(model, codec);
        var first = batched.Submit(codec.EncodePrompt("abc"), new GenerationOptions(4, SamplerOptions.Greedy));
        var (reply, _) = await Collect(first);
        // The next turn: the first prompt, the reply (all but its last token were fed back), more.
        var next = batched.Submit(codec.EncodePrompt("abc" + reply + "de"), new GenerationOptions(2, SamplerOptions.Greedy));
        await Collect(next);
        Assert.Equal(4 + 3, next.ReusedPromptTokens); // BOS, abc, and the 3 fed-back reply tokens
        var other = batched.Submit(codec.EncodePrompt("mlk"), new GenerationOptions(2, SamplerOptions.Greedy));
        await Collect(other);
        Assert.Equal(0, other.ReusedPromptTokens);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // a whole answer: the server waits for it without reading the text as it comes
    public async Task TheServerFreesTheSlotOfAClientThatHangsUp(bool stream)
    {
        var model = new BigramModel(vocab: 16) { Next = prev => 3 + prev % 10, StepDelay = TimeSpan.FromMilliseconds(2) }.WithContext(1 << 20);
        int port = ServerTests.FreePort();
        await using var server = new OpenAiServer(model, new ByteCodec(16), null, new OpenAiServer.Settings(Port: port));
        await server.StartAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        string url = $"http://127.0.0.1:{port}";
        var request = new HttpRequestMessage(HttpMethod.Post, url + "/v1/completions")
        {
            Content = new StringContent("{\"prompt\":\"abc\",\"max_tokens\":500000,\"temperature\":0,\"stream\":" + (stream ? "true" : "false") + "}", Encoding.UTF8, "application/json"),
        };
        if (stream)
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: {", await reader.ReadLineAsync());
        } // the client hangs up mid-stream
        else
        {
            // the client gives up while the answer is being generated
            using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => http.SendAsync(request, giveUp.Token));
        }

        // One slot: this request runs only once the first has let go of it.
        using var second = await http.PostAsync(url + "/v1/completions", new StringContent("{\"prompt\":\"d\",\"max_tokens\":3,\"temperature\":0}", Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.OK, second.StatusCode);
        string metrics = await http.GetStringAsync(url + "/metrics");
        Assert.Contains("ingot_cancelled_total 1\n", metrics);
        Assert.Contains("ingot_active_sequences 0\n", metrics);
    }

    [Fact]
    public async Task AChatTemplateThatNeverEndsIsStoppedWith400AndTheServerGoesOn()
    {
        var model = new BigramModel(vocab: 16).WithContext(256);
        int port = ServerTests.FreePort();
        var template = new ChatTemplate("{% for i in range(1000000) %}{% for j in range(1000000) %}{{ '' }}{% endfor %}{% endfor %}", "", "");
        await using var server = new OpenAiServer(model, new ByteCodec(16), template, new OpenAiServer.Settings(Port: port));
        await server.StartAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        string url = $"http://127.0.0.1:{port}";
        using var r = await http.PostAsync(url + "/v1/chat/completions", new StringContent("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("chat template: ", await r.Content.ReadAsStringAsync());
        using var health = await http.GetAsync(url + "/health");
        Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
    }
}
