using Ingot.Runtime;
using Ingot.Runtime.Chat;
using Ingot.Runtime.Generation;
using Ingot.Runtime.Sampling;
using Ingot.Formats;
using Xunit;

namespace Ingot.Host.Tests;

/// <summary>
/// `generate --chat` and `chat` on the real stories260K with a ChatML template from golden/chat (the model has no
/// template of its own; its vocabulary spells the markers as text, which is enough to check the plumbing): the reply
/// is exactly the greedy continuation of the rendered conversation, and later turns reuse the KV cache.
/// </summary>
public class ChatVerbTests
{
    private static string Gguf => TestPaths.Require(TestPaths.Stories260KGguf);
    private static string Template => TestPaths.Require(Path.Combine(TestPaths.Shared, "golden", "chat", "Qwen-Qwen2.5-7B-Instruct.jinja"));

    private static (int Code, string Out, string Err) Run(string stdin, params string[] args)
    {
        using var model = new Stories260K();
        var o = new StringWriter { NewLine = "\n" };
        var e = new StringWriter { NewLine = "\n" };
        int code = HostProgram.Run(model, args, o, e, default, new StringReader(stdin));
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>The greedy reply to a rendered prompt, computed without the verbs (fresh model, full prefill).</summary>
    private static string GreedyReply(string rendered, int maxNew)
    {
        using var file = GgufFile.Open(Gguf);
        using var model = new Stories260K();
        model.Load(file, new InferenceOptions(512, 1));
        var gen = new TextGenerator(model, TokenizerCodec.FromGguf(file));
        var sb = new System.Text.StringBuilder();
        gen.Generate(gen.Tokenize(rendered), new GenerationOptions(maxNew, new SamplerOptions(Temperature: 0)) { StopAtBos = false }, t => sb.Append(t));
        return sb.ToString();
    }

    private static string Render(params ChatMessage[] messages) => new ChatTemplate(File.ReadAllText(Template), "<s>", "</s>").Render(messages);

    [Fact]
    public void GenerateChat_PrintsOnlyTheReplyToTheRenderedPrompt()
    {
        var (code, o, e) = Run("", "generate", "--chat", "--chat-template", Template, "-p", "Tell me a story.", "--system", "Be brief.",
                               "--max-new", "24", "--temp", "0", "--model", Gguf, "-t", "1");
        Assert.True(code == 0, e);
        string rendered = Render(new("system", "Be brief."), new("user", "Tell me a story."));
        Assert.StartsWith("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nTell me a story.<|im_end|>\n<|im_start|>assistant\n", rendered);
        Assert.Equal(GreedyReply(rendered, 24) + "\n", o);
        Assert.DoesNotContain("Tell me a story", o);
    }

    [Fact]
    public void Chat_TwoTurns_SecondReusesTheCacheAndMatchesAFreshRun()
    {
        var (code, o, e) = Run("Hello!\nWhat next?\n/exit\n", "chat", "--chat-template", Template, "--max-new", "16", "--temp", "0",
                               "--model", Gguf, "-t", "1", "--ctx", "512");
        Assert.True(code == 0, e);
        // each reply is followed by a blank line
        string first = GreedyReply(Render(new ChatMessage("user", "Hello!")), 16);
        string second = GreedyReply(Render(new("user", "Hello!"), new("assistant", first), new("user", "What next?")), 16);
        Assert.Equal(first + "\n\n" + second + "\n\n", o);

        // stderr: two statistics lines; the second turn found the first turn's prompt in the cache
        var stats = e.Split('\n').Where(l => l.Contains("prompt tokens", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, stats.Length);
        Assert.Contains(", 0 from the cache", stats[0]);
        Assert.DoesNotContain(", 0 from the cache", stats[1]);
    }

    [Fact]
    public void Chat_ModelWithoutTemplate_IsOneClearLine()
    {
        var (code, _, e) = Run("hi\n", "chat", "--model", Gguf);
        Assert.Equal(2, code);
        Assert.Contains("has no tokenizer.chat_template; pass --chat-template FILE.jinja", e);
        Assert.Single(e.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void EndOfTurnTokensStopGeneration()
    {
        // A vocabulary-only GGUF: ChatML's <|im_end|> is a control token, so it ends a reply like EOS does.
        using var f = GgufFile.Open(TestPaths.Require(Path.Combine(TestPaths.Shared, "vocab", "ggml-vocab-gpt-2.gguf")));
        var codec = TokenizerCodec.FromGguf(f);
        var tokens = f.GetArray<string>("tokenizer.ggml.tokens");
        int endoftext = Array.IndexOf(tokens, "<|endoftext|>");
        Assert.True(endoftext >= 0);
        Assert.True(codec.IsEndOfGeneration(endoftext));
        Assert.False(codec.IsEndOfGeneration(Array.IndexOf(tokens, "Hello")));
    }

    /// <summary>chat --json-schema: every reply of a two-turn chat is JSON that validates (temperature 1).</summary>
    [Fact]
    public void Chat_JsonSchema_EveryReplyValidates()
    {
        string schema = Path.Combine(Path.GetTempPath(), $"ingot-chat-schema-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(schema, Ingot.TestSupport.TestSchemas.Person);
            var (code, o, e) = Run("Describe a person.\nAnother one.\n/exit\n", "chat", "--chat-template", Template, "--max-new", "480", "--temp", "1", "--seed", "3",
                "--json-schema", schema, "-q", "--ctx", "2048", "--model", Gguf, "-t", "1");
            Assert.True(code == 0, e);
            // Each reply ends with a blank line; a reply may span lines (the schema's whitespace allows one newline between
            // tokens, never two in a row).
            var replies = o.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, replies.Length);
            foreach (string reply in replies) Assert.Null(Ingot.TestSupport.SchemaValidator.Validate(Ingot.TestSupport.TestSchemas.Person, reply));
        }
        finally { File.Delete(schema); }
    }
}
