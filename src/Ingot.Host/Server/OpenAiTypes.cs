using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ingot.Host.Server;

// OpenAI's wire shapes, only the fields the server reads or writes. snake_case on the wire; nulls are left out.

/// <summary>What chat and plain completions share: the model name, the limits, the sampler and the stream.</summary>
public abstract class GenerationRequest
{
    public string? Model { get; set; }
    public int? MaxTokens { get; set; }
    public float? Temperature { get; set; }
    public float? TopP { get; set; }
    public int? TopK { get; set; }
    public float? MinP { get; set; }
    public long? Seed { get; set; }
    /// <summary>A string or an array of strings.</summary>
    public JsonElement? Stop { get; set; }
    public bool? Stream { get; set; }
    public StreamOptions? StreamOptions { get; set; }
    public float? FrequencyPenalty { get; set; }
    public float? PresencePenalty { get; set; }
    public int? N { get; set; }
}

public sealed class ChatCompletionRequest : GenerationRequest
{
    public List<WireMessage>? Messages { get; set; }
    public int? MaxCompletionTokens { get; set; }
    public JsonElement? ResponseFormat { get; set; }
    public JsonElement? Tools { get; set; }
}

public sealed class CompletionRequest : GenerationRequest
{
    /// <summary>A string (an array of one string is accepted too).</summary>
    public JsonElement? Prompt { get; set; }
}

public sealed class StreamOptions
{
    public bool? IncludeUsage { get; set; }
}

/// <summary>A chat message: role and content, which is a string or an array of {type: "text", text} parts.</summary>
public sealed class WireMessage
{
    public string? Role { get; set; }
    public JsonElement? Content { get; set; }
}

public sealed record ChatCompletion(string Id, string Object, long Created, string Model, List<ChatChoice> Choices, Usage Usage, Timings? Timings = null);

public sealed record ChatChoice(int Index, AssistantMessage Message, string FinishReason);

public sealed record AssistantMessage(string Role, string Content);

public sealed record ChatCompletionChunk(string Id, string Object, long Created, string Model, List<ChunkChoice> Choices, Usage? Usage = null, Timings? Timings = null);

public sealed record ChunkChoice(int Index, Delta Delta, string? FinishReason);

public sealed record Delta(string? Role = null, string? Content = null);

public sealed record Completion(string Id, string Object, long Created, string Model, List<CompletionChoice> Choices, Usage? Usage, Timings? Timings = null);

public sealed record CompletionChoice(int Index, string Text, string? FinishReason);

public sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens);

/// <summary>
/// llama-server's <c>timings</c> (not OpenAI's: its clients ignore it), on a whole answer and on the chunk that finishes a
/// stream: the prompt tokens this request ran (those its slot held already are not counted) and their time, then the
/// generated tokens and the decode time from the first of them to the end; so a client can tell decode speed from
/// prompt processing and its own overhead.
/// </summary>
public sealed record Timings(int PromptN, double PromptMs, double PromptPerTokenMs, double PromptPerSecond,
    int PredictedN, double PredictedMs, double PredictedPerTokenMs, double PredictedPerSecond)
{
    public static Timings Of(int promptN, double promptSeconds, int predictedN, double decodeSeconds) => new(
        promptN, promptSeconds * 1e3, PerToken(promptSeconds, promptN), PerSecond(promptN, promptSeconds),
        predictedN, decodeSeconds * 1e3, PerToken(decodeSeconds, predictedN), PerSecond(predictedN, decodeSeconds));

    private static double PerToken(double seconds, int n) => n > 0 ? seconds * 1e3 / n : 0;

    private static double PerSecond(int n, double seconds) => seconds > 0 ? n / seconds : 0;
}

public sealed record ModelList(string Object, List<ModelEntry> Data);

public sealed record ModelEntry(string Id, string Object, long Created, string OwnedBy);

public sealed record ErrorResponse(ErrorBody Error);

public sealed record ErrorBody(string Message, string Type, string? Param, string? Code);

public sealed record Health(string Status);

/// <summary>System.Text.Json source generation for every wire type: no reflection, so the server is NativeAOT-clean.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(CompletionRequest))]
[JsonSerializable(typeof(ChatCompletion))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(Completion))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(Health))]
public sealed partial class OpenAiJson : JsonSerializerContext;
