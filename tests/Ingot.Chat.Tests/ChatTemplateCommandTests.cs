using System.Text;
using Ingot.Cli.Commands;
using Ingot.Formats;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Chat;
using Xunit;

namespace Ingot.Chat.Tests;

/// <summary>
/// `ingot chat-template`, run in process with Console.Out captured, and the model loaders behind it.
/// (One class: the tests swap the process-wide Console.Out, so they must not run in parallel with each other.)
/// </summary>
public sealed class ChatTemplateCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingot-chat-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string ConversationJson = """
        [
          {"role": "system", "content": "You are a helpful assistant."},
          {"role": "user", "content": "Hello!"},
          {"role": "assistant", "content": "Hi there! How can I help?"},
          {"role": "user", "content": "What is 2+2?"}
        ]
        """;

    private string WriteConversation(string json = ConversationJson)
    {
        string path = Path.Combine(_dir, "conv.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var oldOut = Console.Out;
        var oldErr = Console.Error;
        var o = new StringWriter();
        var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        try
        {
            int code = new ChatTemplateCommand().Run(args);
            return (code, o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    private static string Golden(string name) => Path.Combine(Shared.GoldenChat, name);

    [Theory]
    [InlineData("meta-llama-Llama-3.2-3B-Instruct")]
    [InlineData("google-gemma-2-2b-it")]
    [InlineData("CohereForAI-c4ai-command-r7b-12-2024-tool_use")]
    public void JinjaFileWithBosEosAndDatePrintsTheGoldenPromptExactly(string name)
    {
        var c = GoldenTemplateTests.Get(name);
        var (code, stdout, stderr) = Run(Golden(name + ".jinja"), "--messages", WriteConversation(), "--bos", c.Bos, "--eos", c.Eos, "--now", "2025-02-20");
        Assert.Equal("", stderr);
        Assert.Equal(0, code);
        Assert.Equal(GoldenTemplateTests.Expected(name, withSystem: true), stdout);
    }

    [Fact]
    public void NoGenerationPromptAndNoBosGiven()
    {
        // Without --bos the template prints no BOS text (bos_token is ""), and without a generation prompt the
        // Phi-3.5 template ends with eos_token, which is stripped when it is the given --eos.
        string phi = Golden("microsoft-Phi-3.5-mini-instruct.jinja");
        var (code, stdout, _) = Run(phi, "--messages", WriteConversation(), "--no-generation-prompt", "--eos", "<|endoftext|>");
        Assert.Equal(0, code);
        Assert.Equal("<|system|>\nYou are a helpful assistant.<|end|>\n<|user|>\nHello!<|end|>\n<|assistant|>\nHi there! How can I help?<|end|>\n<|user|>\nWhat is 2+2?<|end|>\n", stdout);
        (code, stdout, _) = Run(phi, "--messages", WriteConversation(), "--no-generation-prompt");
        Assert.Equal(0, code);
        Assert.EndsWith("<|end|>\n", stdout, StringComparison.Ordinal);   // eos_token is "" here
    }

    [Fact]
    public void GgufModelSuppliesTemplateAndTokenTexts()
    {
        var c = GoldenTemplateTests.Get("meta-llama-Llama-3.1-8B-Instruct");
        string gguf = Path.Combine(_dir, "model.gguf");
        var w = new GgufWriter();
        w.Set("general.architecture", "llama");
        w.Set("tokenizer.ggml.model", "gpt2");
        w.Set("tokenizer.ggml.tokens", new[] { "a", "<|begin_of_text|>", "<|eot_id|>", "b" });
        w.Set("tokenizer.ggml.bos_token_id", 1u);
        w.Set("tokenizer.ggml.eos_token_id", 2u);
        w.Set("tokenizer.chat_template", c.Source);
        w.Write(gguf);

        using (var f = GgufFile.Open(gguf))
        {
            var t = ChatTemplate.FromGguf(f);
            Assert.Equal("<|begin_of_text|>", t.BosToken);
            Assert.Equal("<|eot_id|>", t.EosToken);
            Assert.Equal(GoldenTemplateTests.Expected("meta-llama-Llama-3.1-8B-Instruct", true), t.Render(GoldenTemplateTests.Conversation, true, GoldenTemplateTests.Clock));
        }

        var (code, stdout, _) = Run(gguf, "--messages", WriteConversation());
        Assert.Equal(0, code);
        Assert.Equal(GoldenTemplateTests.Expected("meta-llama-Llama-3.1-8B-Instruct", true), stdout);

        // --bos/--eos replace the model's texts
        w.Set("tokenizer.chat_template", "[{{ bos_token }}|{{ eos_token }}]");
        w.Write(gguf);
        Assert.Equal((0, "[<|begin_of_text|>|<|eot_id|>]"), (Run(gguf, "--messages", WriteConversation()) is var r1 ? (r1.Code, r1.Out) : default));
        Assert.Equal((0, "[<B>|<E>]"), (Run(gguf, "--messages", WriteConversation(), "--bos", "<B>", "--eos", "<E>") is var r2 ? (r2.Code, r2.Out) : default));
    }

    [Fact]
    public void GgufWithoutTemplateIsAOneLineModelFileError()
    {
        string gguf = Path.Combine(_dir, "plain.gguf");
        new GgufWriter().Set("general.architecture", "llama").Write(gguf);
        using var f = GgufFile.Open(gguf);
        var e = Assert.Throws<InvalidModelFileException>(() => ChatTemplate.FromGguf(f));
        Assert.Equal("tokenizer.chat_template", e.Field);
    }

    [Fact]
    public void TokenizerConfigWithTemplateListAndObjectTokens()
    {
        var c = GoldenTemplateTests.Get("mistralai-Mistral-Nemo-Instruct-2407");
        string folder = Path.Combine(_dir, "hf");
        Directory.CreateDirectory(folder);
        string config = Path.Combine(folder, "tokenizer_config.json");
        using (var s = File.Create(config))
        using (var j = new System.Text.Json.Utf8JsonWriter(s))
        {
            j.WriteStartObject();
            j.WriteStartObject("bos_token"); j.WriteString("content", "<s>"); j.WriteBoolean("special", true); j.WriteEndObject();
            j.WriteString("eos_token", "</s>");
            j.WriteStartArray("chat_template");
            j.WriteStartObject(); j.WriteString("name", "tool_use"); j.WriteString("template", "{{ 'wrong' }}"); j.WriteEndObject();
            j.WriteStartObject(); j.WriteString("name", "default"); j.WriteString("template", c.Source); j.WriteEndObject();
            j.WriteEndArray();
            j.WriteEndObject();
        }
        var t = ChatTemplate.FromTokenizerConfig(config);
        Assert.Equal(("<s>", "</s>"), (t.BosToken, t.EosToken));
        string expected = GoldenTemplateTests.Expected("mistralai-Mistral-Nemo-Instruct-2407", true);
        Assert.Equal(expected, t.Render(GoldenTemplateTests.Conversation, true, GoldenTemplateTests.Clock));

        foreach (string target in new[] { config, folder })
        {
            var (code, stdout, _) = Run(target, "--messages", WriteConversation());
            Assert.Equal(0, code);
            Assert.Equal(expected, stdout);
        }
    }

    [Fact]
    public void TokenizerConfigWithStringTemplateAndNoneTokens()
    {
        string config = Path.Combine(_dir, "tokenizer_config.json");
        File.WriteAllText(config, """{"chat_template": "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}{{ eos_token }}", "bos_token": null, "eos_token": {"content": "<e>"}}""");
        var t = ChatTemplate.FromTokenizerConfig(config);
        Assert.Equal(("", "<e>"), (t.BosToken, t.EosToken));
        Assert.Equal("[user]hi", t.Render([new("user", "hi")]));

        File.WriteAllText(config, """{"bos_token": "<s>"}""");
        Assert.Equal("chat_template", Assert.Throws<InvalidModelFileException>(() => ChatTemplate.FromTokenizerConfig(config)).Field);
    }

    [Fact]
    public void BadInputs()
    {
        string jinja = Golden("google-gemma-2-2b-it.jinja");
        Assert.Throws<UsageException>(() => Run(jinja));                                              // no --messages
        Assert.Throws<UsageException>(() => Run(jinja, "--messages", WriteConversation(), "--now", "20/02/2025"));
        Assert.Throws<InvalidDataException>(() => Run(jinja, "--messages", WriteConversation("""{"role": "user"}""")));
        Assert.Throws<InvalidDataException>(() => Run(jinja, "--messages", WriteConversation("""[{"role": "user", "content": 3}]""")));
        Assert.Throws<FileNotFoundException>(() => Run(Path.Combine(_dir, "nope.jinja"), "--messages", WriteConversation()));

        // The template rejecting the conversation is one line on stderr and exit code 1.
        var (code, stdout, stderr) = Run(jinja, "--messages", WriteConversation("""[{"role": "assistant", "content": "x"}]"""));
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains("Conversation roles must alternate", stderr, StringComparison.Ordinal);

        string broken = Path.Combine(_dir, "broken.jinja");
        File.WriteAllText(broken, "line 1\n{% include 'x.jinja' %}\n");
        (code, _, stderr) = Run(broken, "--messages", WriteConversation());
        Assert.Equal(1, code);
        Assert.Contains("'{% include %}'", stderr, StringComparison.Ordinal);
        Assert.Contains("line 2", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyContentIsNoneLikeLlamaCpp()
    {
        // llama.cpp turns an empty content into null; minja prints None for `'x' + none`.
        var t = new ChatTemplate("{% for m in messages %}{{ m.role + ':' + m.content + ';' }}{{ m.content is none }}|{% endfor %}", "", "");
        Assert.Equal("user:None;True|", t.Render([new("user", "")]));
        var (code, stdout, _) = Run(WriteTemplate("{{ messages|length }}"), "--messages", WriteConversation("""[{"role": "user", "content": null}]"""));
        Assert.Equal((0, "1"), (code, stdout));
    }

    private string WriteTemplate(string source)
    {
        string path = Path.Combine(_dir, "t.jinja");
        File.WriteAllText(path, source, new UTF8Encoding(false));
        return path;
    }
}
