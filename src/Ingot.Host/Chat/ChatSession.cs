using Ingot.Formats;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Chat;
using Ingot.Runtime.Generation;

namespace Ingot.Host.Chat;

/// <summary>
/// A conversation rendered through the model's own chat template. Each turn re-renders the whole history (as
/// llama.cpp does) and the generator re-runs only the tokens the KV cache does not already hold.
/// </summary>
public sealed class ChatSession(ChatTemplate template, TextGenerator generator, DateTime? now = null)
{
    private readonly List<ChatMessage> _messages = new();

    public ChatTemplate Template { get; } = template;
    public IReadOnlyList<ChatMessage> Messages => _messages;

    public void AddSystem(string text) => _messages.Add(new ChatMessage("system", text));

    /// <summary>The prompt text the next reply is generated from (the template's generation prompt appended).</summary>
    public string PromptFor(string userText)
    {
        var list = new List<ChatMessage>(_messages) { new("user", userText) };
        return Template.Render(list, addGenerationPrompt: true, now);
    }

    /// <summary>Adds the user's message, streams the assistant's reply through <paramref name="onText"/>, records it.</summary>
    public GenerationResult Reply(string userText, GenerationOptions options, Action<string> onText, CancellationToken ct)
    {
        string prompt = PromptFor(userText);
        var ids = generator.Tokenize(prompt);
        var reply = new System.Text.StringBuilder();
        var result = generator.Generate(ids, options, text => { reply.Append(text); onText(text); }, ct);
        _messages.Add(new ChatMessage("user", userText));
        _messages.Add(new ChatMessage("assistant", reply.ToString()));
        return result;
    }

    /// <summary>
    /// The template to use: <paramref name="templatePath"/> (a .jinja file, rendered with the model's BOS/EOS texts) if
    /// given, else the weights' <c>tokenizer.chat_template</c>. A model without one is a clear error.
    /// </summary>
    public static ChatTemplate LoadTemplate(GgufFile weights, string? templatePath)
    {
        if (templatePath is null)
        {
            if (!weights.TryGetValue("tokenizer.chat_template", out _))
                throw new UsageException($"{Path.GetFileName(weights.Path)} has no tokenizer.chat_template; pass --chat-template FILE.jinja");
            return ChatTemplate.FromGguf(weights);
        }
        string source = File.ReadAllText(templatePath);
        return new ChatTemplate(source, TokenText(weights, "tokenizer.ggml.bos_token_id"), TokenText(weights, "tokenizer.ggml.eos_token_id"));
    }

    private static string TokenText(GgufFile weights, string key) =>
        weights.TryGetInt(key, out long id) && weights.TryGetArray<string>("tokenizer.ggml.tokens", out var tokens) && id >= 0 && id < tokens.Length
            ? tokens[id] : "";
}
