using System.Globalization;
using System.Text;
using System.Text.Json;
using Ingot.Formats;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Chat;

namespace Ingot.Cli.Commands;

/// <summary>
/// `ingot chat-template TEMPLATE_OR_MODEL --messages CONV.json`: renders a conversation with a model's chat template
/// exactly as llama.cpp's Jinja path would, and prints the prompt with nothing added (no trailing newline).
/// </summary>
public sealed class ChatTemplateCommand : ICliCommand
{
    public string Name => "chat-template";
    public string Summary => "render a conversation with a model's chat template (as llama.cpp --jinja does)";
    public string Usage =>
        "usage: ingot chat-template TEMPLATE_OR_MODEL --messages CONV.json [--bos S] [--eos S] [--no-generation-prompt] [--now YYYY-MM-DD]\n" +
        "  TEMPLATE_OR_MODEL: a .jinja file, a .gguf (tokenizer.chat_template), a tokenizer_config.json, or a folder holding one\n" +
        "  CONV.json: [{\"role\": \"user\", \"content\": \"…\"}, …]\n" +
        "  --bos/--eos override the model's BOS/EOS text (a .jinja file has none unless given); --now fixes strftime_now's date";

    public int Run(string[] args)
    {
        var r = new ArgReader(args);
        string? messagesPath = r.OptionOrNull("--messages", "-m");
        string? bos = r.OptionOrNull("--bos");
        string? eos = r.OptionOrNull("--eos");
        string? nowText = r.OptionOrNull("--now");
        bool noGenerationPrompt = r.Flag("--no-generation-prompt");
        string source = r.RequiredPositional("TEMPLATE_OR_MODEL");
        r.ThrowIfUnknown();
        if (messagesPath is null) throw new UsageException("missing --messages CONV.json");

        DateTime? now = null;
        if (nowText is not null)
        {
            if (!DateTime.TryParseExact(nowText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
                throw new UsageException($"--now: '{nowText}' is not a date in YYYY-MM-DD form");
            now = d;
        }

        var messages = ReadMessages(messagesPath);
        ChatTemplate template;
        string prompt;
        try
        {
            template = Load(source, bos, eos);
            prompt = template.Render(messages, !noGenerationPrompt, now);
        }
        catch (ChatTemplateException e)
        {
            Console.Error.WriteLine($"ingot {Name}: {source}: {e.Message}");
            return 1;
        }

        // The prompt exactly, as UTF-8, with nothing appended.
        if (Console.OutputEncoding.CodePage != Encoding.UTF8.CodePage) Console.OutputEncoding = new UTF8Encoding(false);
        Console.Out.Write(prompt);
        Console.Out.Flush();
        return 0;
    }

    /// <summary>Resolves TEMPLATE_OR_MODEL to a template; --bos/--eos replace the model's texts.</summary>
    internal static ChatTemplate Load(string source, string? bos, string? eos)
    {
        if (Directory.Exists(source))
        {
            string config = Path.Combine(source, "tokenizer_config.json");
            string jinja = Path.Combine(source, "chat_template.jinja");
            if (File.Exists(config)) return FromConfig(config, bos, eos);
            if (File.Exists(jinja)) return new ChatTemplate(File.ReadAllText(jinja), bos ?? "", eos ?? "");
            throw new FileNotFoundException($"{source}: no tokenizer_config.json or chat_template.jinja in this folder");
        }
        if (!File.Exists(source)) throw new FileNotFoundException($"{source}: no such file or folder");
        if (IsGguf(source))
        {
            using var file = GgufFile.Open(source);
            return ChatTemplate.FromGguf(file).WithTokens(bos, eos);
        }
        if (source.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return FromConfig(source, bos, eos);
        return new ChatTemplate(File.ReadAllText(source), bos ?? "", eos ?? "");
    }

    private static ChatTemplate FromConfig(string path, string? bos, string? eos)
    {
        var t = ChatTemplate.FromTokenizerConfig(path);
        return bos is null && eos is null ? t : t.WithTokens(bos, eos);
    }

    private static bool IsGguf(string path)
    {
        using var f = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[4];
        return f.Read(magic) == 4 && magic.SequenceEqual("GGUF"u8);
    }

    internal static List<ChatMessage> ReadMessages(string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON: {e.Message.Split('\n')[0]}"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{path}: expected a JSON array of {{\"role\", \"content\"}} objects");
            var list = new List<ChatMessage>();
            int i = 0;
            foreach (var m in root.EnumerateArray())
            {
                if (m.ValueKind != JsonValueKind.Object
                    || !m.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String
                    || !m.TryGetProperty("content", out var content) || content.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                    throw new InvalidDataException($"{path}: message {i} needs a string \"role\" and a string \"content\"");
                list.Add(new ChatMessage(role.GetString()!, content.GetString() ?? ""));
                i++;
            }
            return list;
        }
    }
}
