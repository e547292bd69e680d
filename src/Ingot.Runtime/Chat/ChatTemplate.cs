using System.Text.Json;
using System.Text.RegularExpressions;
using Ingot.Formats;

namespace Ingot.Runtime.Chat;

/// <summary>One chat turn. Role is "system", "user", "assistant" or "tool" (any string reaches the template).</summary>
public sealed record ChatMessage(string Role, string Content);

/// <summary>
/// A model's chat template, rendered the way llama.cpp's Jinja path does (<c>llama-server --jinja</c>,
/// <c>common_chat_templates_apply</c>, no tools):
/// <list type="bullet">
/// <item>messages are passed as {role, content}, an empty content becoming None (llama.cpp's OpenAI-style conversion);</item>
/// <item>globals: messages, add_generation_prompt, bos_token, eos_token, strftime_now (from <c>now</c>); tools undefined;</item>
/// <item>if the template cannot show a system message (it raises, or drops the text — tested once with a needle, as
///   minja does), system messages are merged into the next user turn as <c>system + "\n" + user</c>;</item>
/// <item>templates that only render list-of-parts content ("typed content") get [{type: text, text}] content;</item>
/// <item>llama.cpp's per-format handlers that change the prompt without tools: firefunction-v2 gets
///   <c>datetime</c>/<c>functions</c> globals; the official DeepSeek-R1 template gets its dangling-tool-output fix;</item>
/// <item>the result loses a leading BOS text and a trailing EOS text (llama.cpp adds BOS as a token instead).</item>
/// </list>
/// </summary>
public sealed partial class ChatTemplate
{
    private readonly JinjaTemplate _template;

    // DeepSeek-R1 markers llama.cpp keys its handler on (common/chat.cpp)
    private const string R1ToolCallsBegin = "<｜tool▁calls▁begin｜>";
    private const string R1OfficialToolOutputsEnd = "{% if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}";
    private const string FirefunctionMarker = " functools[";

    public ChatTemplate(string source, string bosToken, string eosToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        Source = source;
        BosToken = bosToken ?? "";
        EosToken = eosToken ?? "";
        _template = JinjaTemplate.Parse(source);
        DetectCapabilities();
    }

    public string Source { get; }
    public string BosToken { get; }
    public string EosToken { get; }

    /// <summary>Whether a system message's text appears when rendered as a system turn (else it is merged into the first user turn).</summary>
    public bool SupportsSystemRole { get; private set; }

    /// <summary>Whether the template only shows content given as a list of {type: "text", text} parts.</summary>
    public bool RequiresTypedContent { get; private set; }

    /// <summary>The underlying parsed template (for rendering with other globals).</summary>
    public JinjaTemplate Template => _template;

    /// <summary>A copy with other BOS/EOS texts (the CLI's --bos/--eos).</summary>
    public ChatTemplate WithTokens(string? bosToken, string? eosToken) => new(Source, bosToken ?? BosToken, eosToken ?? EosToken);

    /// <summary>
    /// The prompt text for <paramref name="messages"/>. <paramref name="now"/> is what strftime_now formats (default:
    /// the local clock). Throws <see cref="ChatTemplateException"/> if the template rejects the conversation.
    /// </summary>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true, DateTime? now = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = new List<(string Role, object? Content)>();
        foreach (var m in messages)
            list.Add((m.Role, string.IsNullOrEmpty(m.Content) ? null : m.Content));
        if (!SupportsSystemRole) list = MergeSystemIntoUser(list);

        var extra = new List<KeyValuePair<string, object?>>();
        if (Source.Contains(FirefunctionMarker, StringComparison.Ordinal))
        {
            // llama.cpp's firefunction-v2 handler always passes these (functions = the tools as JSON; none here)
            extra.Add(new("datetime", "Jan 29 2025 13:00:00 GMT"));
            extra.Add(new("functions", ""));
        }

        string prompt = RenderRaw(list, addGenerationPrompt, now ?? DateTime.Now, extra);
        if (BosToken.Length > 0 && prompt.StartsWith(BosToken, StringComparison.Ordinal)) prompt = prompt[BosToken.Length..];
        if (EosToken.Length > 0 && prompt.EndsWith(EosToken, StringComparison.Ordinal)) prompt = prompt[..^EosToken.Length];

        if (Source.Contains(R1ToolCallsBegin, StringComparison.Ordinal) && Source.Contains(R1OfficialToolOutputsEnd, StringComparison.Ordinal))
        {
            // llama.cpp's fixes for the official DeepSeek-R1 template: don't leave the chat dangling after tool results,
            // and close tool-call blocks before the next turn.
            if (prompt.EndsWith("<｜tool▁outputs▁end｜>", StringComparison.Ordinal))
            {
                prompt += "<｜end▁of▁sentence｜>";
                if (addGenerationPrompt) prompt += "<｜Assistant｜>";
            }
            prompt = R1ToolCallFix().Replace(prompt, "$1<｜tool▁calls▁end｜><｜end▁of▁sentence｜>$2");
        }
        return prompt;
    }

    [GeneratedRegex("(<｜tool▁call▁end｜>)[\\s\\r\\n]*(<｜tool▁outputs▁begin｜>|<｜User｜>)")]
    private static partial Regex R1ToolCallFix();

    private string RenderRaw(List<(string Role, object? Content)> messages, bool addGenerationPrompt, DateTime now,
        List<KeyValuePair<string, object?>>? extra = null)
    {
        var msgs = new JinjaList();
        foreach (var (role, content) in messages)
        {
            var d = new JinjaDict { ["role"] = role };
            d["content"] = RequiresTypedContent && content is string s
                ? new JinjaList { new JinjaDict { ["type"] = "text", ["text"] = s } }
                : content;
            msgs.Add(d);
        }
        var globals = new List<KeyValuePair<string, object?>>
        {
            new("messages", msgs),
            new("add_generation_prompt", addGenerationPrompt),
            new("bos_token", BosToken),
            new("eos_token", EosToken),
            new("strftime_now", new JinjaCallable("strftime_now", a =>
            {
                a.Expect("strftime_now", 1, 1);
                return Strftime.Format(now, a.Positional[0] as string ?? throw new JinjaError("strftime_now expects a format string"));
            })),
        };
        if (extra is not null) globals.AddRange(extra);
        return _template.Render(globals);
    }

    /// <summary>minja's system-role polyfill: system texts accumulate and are prepended (with "\n") to the next user turn.</summary>
    private static List<(string Role, object? Content)> MergeSystemIntoUser(List<(string Role, object? Content)> messages)
    {
        var result = new List<(string, object?)>();
        string pending = "";
        void Flush()
        {
            if (pending.Length == 0) return;
            result.Add(("user", pending));
            pending = "";
        }
        foreach (var (role, content) in messages)
        {
            if (content is string text)
            {
                if (role == "system")
                {
                    pending = pending.Length == 0 ? text : pending + "\n" + text;
                    continue;
                }
                if (role == "user")
                {
                    if (pending.Length > 0)
                    {
                        result.Add((role, pending + (text.Length == 0 ? "" : "\n" + text)));
                        pending = "";
                        continue;
                    }
                }
                else Flush();
            }
            result.Add((role, content));
        }
        Flush();
        return result;
    }

    /// <summary>
    /// Probes the template the way minja's chat_template constructor does: render tiny conversations with needles and
    /// see whether they show up (a template that raises counts as not showing them).
    /// </summary>
    private void DetectCapabilities()
    {
        const string userNeedle = "<User Needle>";
        const string sysNeedle = "<System Needle>";
        var epoch = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        string TryRender(List<(string, object?)> msgs)
        {
            try { return RenderRaw(msgs, false, epoch); }
            catch (ChatTemplateException) { return ""; }
        }

        RequiresTypedContent = false;
        bool plainShows = TryRender([("user", userNeedle)]).Contains(userNeedle, StringComparison.Ordinal);
        if (!plainShows)
        {
            RequiresTypedContent = true;
            bool typedShows = TryRender([("user", userNeedle)]).Contains(userNeedle, StringComparison.Ordinal);
            RequiresTypedContent = typedShows;
        }
        SupportsSystemRole = TryRender([("system", sysNeedle), ("user", userNeedle)]).Contains(sysNeedle, StringComparison.Ordinal);
    }

    /// <summary>From a GGUF: <c>tokenizer.chat_template</c>, BOS/EOS texts from tokenizer.ggml.tokens[bos/eos_token_id].</summary>
    public static ChatTemplate FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (!file.TryGetValue("tokenizer.chat_template", out var v) || v.Value is not string source)
            throw new InvalidModelFileException(file.Path, "tokenizer.chat_template", file.GetMetadataOffset("tokenizer.chat_template"), "the model has no chat template");
        string TokenText(string idKey)
        {
            if (!file.TryGetInt(idKey, out long id)) return "";
            if (!file.TryGetArray<string>("tokenizer.ggml.tokens", out var tokens))
                throw new InvalidModelFileException(file.Path, "tokenizer.ggml.tokens", file.GetMetadataOffset("tokenizer.ggml.tokens"), "missing or not a string array");
            if (id < 0 || id >= tokens.Length)
                throw new InvalidModelFileException(file.Path, idKey, file.GetMetadataOffset(idKey), $"token id {id} is outside the vocabulary of {tokens.Length}");
            return tokens[id];
        }
        return Create(source, TokenText("tokenizer.ggml.bos_token_id"), TokenText("tokenizer.ggml.eos_token_id"), file.Path);
    }

    /// <summary>
    /// From a Hugging Face tokenizer_config.json: <c>chat_template</c> (a string, or a list of {name, template} of
    /// which "default" is used); bos_token/eos_token as a string or {content: …}.
    /// </summary>
    public static ChatTemplate FromTokenizerConfig(string tokenizerConfigJsonPath)
    {
        using var doc = ParseJson(tokenizerConfigJsonPath);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new InvalidModelFileException(tokenizerConfigJsonPath, "(root)", null, "expected a JSON object");
        string? source = null;
        if (root.TryGetProperty("chat_template", out var ct))
        {
            if (ct.ValueKind == JsonValueKind.String) source = ct.GetString();
            else if (ct.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in ct.EnumerateArray())
                    if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                        && n.GetString() == "default" && item.TryGetProperty("template", out var t) && t.ValueKind == JsonValueKind.String)
                        source = t.GetString();
                if (source is null)
                    throw new InvalidModelFileException(tokenizerConfigJsonPath, "chat_template", null, "a list of templates without one named \"default\"");
            }
            else if (ct.ValueKind != JsonValueKind.Null)
                throw new InvalidModelFileException(tokenizerConfigJsonPath, "chat_template", null, $"expected a string or a list, found {ct.ValueKind}");
        }
        if (source is null)
        {
            // newer Hugging Face exports keep the template beside the config
            string side = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerConfigJsonPath)) ?? ".", "chat_template.jinja");
            if (File.Exists(side)) source = File.ReadAllText(side);
            else throw new InvalidModelFileException(tokenizerConfigJsonPath, "chat_template", null, "the tokenizer config has no chat template");
        }
        return Create(source, SpecialToken(root, "bos_token", tokenizerConfigJsonPath), SpecialToken(root, "eos_token", tokenizerConfigJsonPath), tokenizerConfigJsonPath);
    }

    private static JsonDocument ParseJson(string path)
    {
        try { return JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip }); }
        catch (JsonException e) { throw new InvalidModelFileException(path, "(json)", null, "not valid JSON: " + e.Message.Split('\n')[0]); }
    }

    private static string SpecialToken(JsonElement root, string key, string path)
    {
        if (!root.TryGetProperty(key, out var v)) return "";
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString() ?? "",
            JsonValueKind.Null => "",
            JsonValueKind.Object when v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString() ?? "",
            _ => throw new InvalidModelFileException(path, key, null, "expected a string or an object with \"content\""),
        };
    }

    private static ChatTemplate Create(string source, string bos, string eos, string path)
    {
        try { return new ChatTemplate(source, bos, eos); }
        catch (ChatTemplateException e) { throw new InvalidModelFileException(path, "chat_template", null, e.Message); }
    }
}
