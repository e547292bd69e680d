using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ingot.Runtime.Chat;
using Xunit;

namespace Ingot.Chat.Tests;

/// <summary>
/// The 17 chat templates shipped with llama.cpp, rendered by llama.cpp's Jinja path (minja) for one fixed
/// conversation (../shared/golden/chat). Our renders must equal them byte for byte, with and without the system message.
/// </summary>
public class GoldenTemplateTests
{
    internal static readonly DateTime Clock = new(2025, 2, 20, 0, 0, 0, DateTimeKind.Utc);

    internal sealed record Case(string Name, string Source, string Bos, string Eos, string ChatFormat, bool DependsOnDate);

    private static readonly Lazy<(Dictionary<string, Case> Cases, List<ChatMessage> Conversation, bool AddGenerationPrompt)> Manifest = new(Load);

    private static (Dictionary<string, Case>, List<ChatMessage>, bool) Load()
    {
        string path = Path.Combine(Shared.GoldenChat, "manifest.json");
        if (!File.Exists(path)) throw new InvalidOperationException("missing " + path);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        var conversation = root.GetProperty("conversation").EnumerateArray()
            .Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)).ToList();
        bool agp = root.GetProperty("add_generation_prompt").GetBoolean();
        var cases = new Dictionary<string, Case>(StringComparer.Ordinal);
        foreach (var t in root.GetProperty("templates").EnumerateObject())
        {
            var v = t.Value;
            string file = Path.Combine(Shared.GoldenChat, v.GetProperty("template_file").GetString()!);
            byte[] bytes = File.ReadAllBytes(file);
            Assert.Equal(v.GetProperty("template_sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(bytes)));
            var jinja = v.GetProperty("jinja");
            Assert.True(jinja.GetProperty("ok").GetBoolean(), t.Name);
            cases[t.Name] = new Case(t.Name, Encoding.UTF8.GetString(bytes), v.GetProperty("bos_token").GetString()!, v.GetProperty("eos_token").GetString()!,
                string.Join(",", jinja.GetProperty("chat_format").EnumerateArray().Select(x => x.GetString())),
                jinja.GetProperty("depends_on_current_date").GetBoolean());
        }
        return (cases, conversation, agp);
    }

    internal static Case Get(string name) => Manifest.Value.Cases[name];

    internal static List<ChatMessage> Conversation => Manifest.Value.Conversation;

    internal static string Expected(string name, bool withSystem) =>
        File.ReadAllText(Path.Combine(Shared.GoldenChat, name + (withSystem ? ".rendered.txt" : ".nosys.rendered.txt")), new UTF8Encoding(false, true));

    public static TheoryData<string> ContentOnly()
    {
        var data = new TheoryData<string>();
        foreach (var c in Manifest.Value.Cases.Values.Where(c => c.ChatFormat == "Content-only")) data.Add(c.Name);
        return data;
    }

    public static TheoryData<string> WithLlamaCppHandler()
    {
        var data = new TheoryData<string>();
        foreach (var c in Manifest.Value.Cases.Values.Where(c => c.ChatFormat != "Content-only")) data.Add(c.Name);
        return data;
    }

    private static (string WithSystem, string NoSystem) RenderBoth(string name)
    {
        var c = Get(name);
        var t = new ChatTemplate(c.Source, c.Bos, c.Eos);
        return (t.Render(Conversation, Manifest.Value.AddGenerationPrompt, Clock),
                t.Render(Conversation.Skip(1).ToList(), Manifest.Value.AddGenerationPrompt, Clock));
    }

    [Fact]
    public void ManifestHasAll17TemplatesAndTheExpectedFormats()
    {
        Assert.Equal(17, Manifest.Value.Cases.Count);
        Assert.Equal(12, ContentOnly().Count); // firefunction-v2 too: its handler reports Content-only without tools
        Assert.Equal("system", Conversation[0].Role);
        Assert.Equal(4, Conversation.Count);
    }

    [Theory]
    [MemberData(nameof(ContentOnly))]
    public void ContentOnlyTemplateMatchesLlamaCppByteForByte(string name)
    {
        var (sys, nosys) = RenderBoth(name);
        Assert.Equal(Expected(name, true), sys);
        Assert.Equal(Expected(name, false), nosys);
    }

    /// <summary>
    /// DeepSeek R1 (×3), Command R7B and Functionary v3.2 use llama.cpp handlers; without tools none of them changes the
    /// text (R1's trailing "&lt;think&gt;\n" and Functionary's "&gt;&gt;&gt;" come from the templates themselves), so a faithful render equals theirs.
    /// </summary>
    [Theory]
    [MemberData(nameof(WithLlamaCppHandler))]
    public void HandlerTemplateMatchesLlamaCppByteForByte(string name)
    {
        var (sys, nosys) = RenderBoth(name);
        Assert.Equal(Expected(name, true), sys);
        Assert.Equal(Expected(name, false), nosys);
    }

    [Theory]
    [InlineData("deepseek-ai-DeepSeek-R1-Distill-Llama-8B")]
    [InlineData("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B")]
    [InlineData("llama-cpp-deepseek-r1")]
    public void DeepSeekR1EndsWithAnOpenThinkBlockAndDropsBos(string name)
    {
        var (sys, nosys) = RenderBoth(name);
        Assert.EndsWith("<｜Assistant｜><think>\n", sys, StringComparison.Ordinal);
        Assert.EndsWith("<｜Assistant｜><think>\n", nosys, StringComparison.Ordinal);
        Assert.StartsWith("You are a helpful assistant.<｜User｜>Hello!", sys, StringComparison.Ordinal);
        Assert.DoesNotContain(Get(name).Bos, sys, StringComparison.Ordinal);
        // Without the generation prompt the template stops after the last user turn; llama.cpp's own R1 template
        // closes user turns with EOS, which the trailing-EOS strip then removes.
        var c = Get(name);
        var t = new ChatTemplate(c.Source, c.Bos, c.Eos);
        string noGen = t.Render(Conversation, addGenerationPrompt: false, Clock);
        Assert.EndsWith("What is 2+2?", noGen, StringComparison.Ordinal);
        Assert.Equal(sys, noGen + (name == "llama-cpp-deepseek-r1" ? c.Eos : "") + "<｜Assistant｜><think>\n");
    }

    [Fact]
    public void FirefunctionGetsLlamaCppsDatetimeAndEmptyFunctions()
    {
        var (sys, nosys) = RenderBoth("fireworks-ai-llama-3-firefunction-v2");
        Assert.Contains("Available functions as JSON spec:\n\nToday is Jan 29 2025 13:00:00 GMT.<|eot_id|>", sys, StringComparison.Ordinal);
        Assert.StartsWith("<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant with access to functions.\n", nosys, StringComparison.Ordinal);
    }

    [Fact]
    public void GemmaMergesTheSystemMessageIntoTheFirstUserTurn()
    {
        var c = Get("google-gemma-2-2b-it");
        var t = new ChatTemplate(c.Source, c.Bos, c.Eos);
        Assert.False(t.SupportsSystemRole);
        Assert.StartsWith("<start_of_turn>user\nYou are a helpful assistant.\nHello!<end_of_turn>\n", t.Render(Conversation, true, Clock), StringComparison.Ordinal);
        // A second system message before an assistant turn becomes its own user turn (minja's polyfill).
        var msgs = new List<ChatMessage> { new("system", "S1"), new("system", "S2"), new("user", "U") };
        Assert.Equal("<start_of_turn>user\nS1\nS2\nU<end_of_turn>\n<start_of_turn>model\n", t.Render(msgs, true, Clock));
    }

    [Fact]
    public void TemplatesThatShowSystemMessagesAreDetectedAsSuchAndNoneNeedTypedContent()
    {
        foreach (var c in Manifest.Value.Cases.Values)
        {
            var t = new ChatTemplate(c.Source, c.Bos, c.Eos);
            Assert.Equal(c.Name != "google-gemma-2-2b-it", t.SupportsSystemRole);
            Assert.False(t.RequiresTypedContent, c.Name);
        }
    }

    [Fact]
    public void Llama32PrintsTheGivenDate()
    {
        var c = Get("meta-llama-Llama-3.2-3B-Instruct");
        Assert.True(c.DependsOnDate);
        var t = new ChatTemplate(c.Source, c.Bos, c.Eos);
        Assert.Contains("Today Date: 20 Feb 2025\n", t.Render(Conversation, true, Clock), StringComparison.Ordinal);
        Assert.Contains("Today Date: 03 Jan 2031\n", t.Render(Conversation, true, new DateTime(2031, 1, 3)), StringComparison.Ordinal);
    }

    [Fact]
    public void MistralNemoRejectsNonAlternatingRolesWithTheTemplatesMessage()
    {
        var c = Get("mistralai-Mistral-Nemo-Instruct-2407");
        var t = new ChatTemplate(c.Source, c.Bos, c.Eos);
        var e = Assert.Throws<ChatTemplateException>(() => t.Render([new("user", "a"), new("user", "b")], true, Clock));
        Assert.True(e.RaisedByTemplate);
        Assert.Contains("conversation roles must alternate", e.Message, StringComparison.Ordinal);
    }
}

/// <summary>
/// The templates' tool branches (macros, recursion, typescript/python signature generators), probed as minja does for
/// its supports_tools capability: render one user message with one tool and look for the tool's name.
/// </summary>
public class TemplateToolBranchTests
{
    private static Dictionary<string, object?> Tool() => new()
    {
        ["name"] = "some_tool",
        ["type"] = "function",
        ["function"] = new Dictionary<string, object?>
        {
            ["name"] = "some_tool",
            ["description"] = "Some tool.",
            ["parameters"] = new Dictionary<string, object?>
            {
                ["type"] = "object",
                ["properties"] = new Dictionary<string, object?>
                {
                    ["arg"] = new Dictionary<string, object?> { ["type"] = "string", ["description"] = "Some argument." },
                    ["n"] = new Dictionary<string, object?> { ["type"] = "array", ["items"] = new Dictionary<string, object?> { ["type"] = "integer" } },
                },
                ["required"] = new List<object?> { "arg" },
            },
        },
    };

    [Theory]
    [InlineData("CohereForAI-c4ai-command-r-plus-tool_use", true)]
    [InlineData("CohereForAI-c4ai-command-r7b-12-2024-tool_use", true)]
    [InlineData("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use", true)]
    [InlineData("NousResearch-Hermes-3-Llama-3.1-8B-tool_use", true)]
    [InlineData("Qwen-Qwen2.5-7B-Instruct", true)]
    [InlineData("llama-cpp-deepseek-r1", true)]
    [InlineData("meetkai-functionary-medium-v3.1", true)]
    [InlineData("meetkai-functionary-medium-v3.2", true)]
    [InlineData("meta-llama-Llama-3.1-8B-Instruct", true)]
    [InlineData("meta-llama-Llama-3.2-3B-Instruct", true)]
    [InlineData("meta-llama-Llama-3.3-70B-Instruct", true)]
    [InlineData("mistralai-Mistral-Nemo-Instruct-2407", true)]
    [InlineData("deepseek-ai-DeepSeek-R1-Distill-Llama-8B", false)]
    [InlineData("google-gemma-2-2b-it", false)]
    [InlineData("microsoft-Phi-3.5-mini-instruct", false)]
    public void ToolsAreDescribedByTemplatesThatSupportThem(string name, bool describesTools)
    {
        var c = GoldenTemplateTests.Get(name);
        var t = JinjaTemplate.Parse(c.Source);
        string outText = t.Render(new Dictionary<string, object?>
        {
            ["messages"] = new List<object?> { new Dictionary<string, object?> { ["role"] = "user", ["content"] = "<User Needle>" } },
            ["tools"] = new List<object?> { Tool() },
            ["add_generation_prompt"] = false,
            ["bos_token"] = c.Bos,
            ["eos_token"] = c.Eos,
        });
        Assert.Contains("<User Needle>", outText, StringComparison.Ordinal);
        Assert.Equal(describesTools, outText.Contains("some_tool", StringComparison.Ordinal));
        if (name == "meetkai-functionary-medium-v3.2")
            Assert.Contains("// Some tool.\ntype some_tool = (_: {\n// Some argument.\narg: string,\nn?: number[],\n}) => any;", outText, StringComparison.Ordinal);
        if (name.StartsWith("NousResearch", StringComparison.Ordinal))
            Assert.Contains("some_tool(arg: str, n: list[Any]) - Some tool.", outText, StringComparison.Ordinal);
        if (name == "CohereForAI-c4ai-command-r-plus-tool_use")
            Assert.Contains("def some_tool(arg: str, n: Optional[List[int]] = None) -> List[Dict]:", outText, StringComparison.Ordinal);
    }
}
