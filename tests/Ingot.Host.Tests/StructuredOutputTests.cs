using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ingot.Formats;
using Ingot.Runtime.Chat;
using Ingot.Runtime.Generation;
using Ingot.TestSupport;
using Microsoft.Extensions.AI;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.Host.Tests;

/// <summary>
/// Structured output through the surfaces: Microsoft.Extensions.AI's <c>GetResponseAsync&lt;T&gt;</c> on
/// <see cref="ModelChatClient"/> (the schema of a C# record, deserialized with System.Text.Json), and the server's
/// response_format json_schema; stories260K at temperature 1, 50 seeds each, every reply valid.
/// </summary>
public sealed class StructuredOutputTests(ITestOutputHelper log)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() }, TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };

    [Fact]
    public async Task GetResponseAsyncOfARecordDeserializesFiftyTimes()
    {
        using var file = GgufFile.Open(TestPaths.StoriesWithChatTemplate);
        using var model = new Stories260K();
        model.Load(file, new InferenceOptions(ContextSize: 1024, Threads: 1));
        using var chat = new ModelChatClient(model, new TextGenerator(model, TokenizerCodec.FromGguf(file)), ChatTemplate.FromGguf(file));
        IChatClient client = chat;
        var names = new HashSet<string>();
        for (int seed = 1; seed <= 50; seed++)
        {
            var response = await client.GetResponseAsync<Person>("Describe a person.", Json, new ChatOptions { Temperature = 1, Seed = seed, MaxOutputTokens = 800 });
            Assert.True(response.TryGetResult(out var person), $"seed {seed}: '{response.Text}' does not deserialize");
            Assert.InRange(person!.Age, 0, 120);
            Assert.InRange(person.Name.Length, 1, 12);
            Assert.Matches("^[A-Z]{2}-[0-9]{3}$", person.Code);
            Assert.True(person.Friends.Length <= 3);
            names.Add(person.Name);
            if (seed == 1) log.WriteLine(response.Text);
        }
        Assert.True(names.Count > 10, $"{names.Count} distinct names");
    }

    [Fact]
    public async Task TheServersResponseFormatJsonSchemaValidatesFiftyTimes()
    {
        int port = ServerTests.FreePort();
        using var stop = new CancellationTokenSource();
        var err = new StringWriter();
        var server = Task.Run(() => HostProgram.Run(new Stories260K(), ["serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--model", TestPaths.StoriesWithChatTemplate, "--ctx", "1024", "-t", "1"], new StringWriter(), err, stop.Token));
        using var http = new HttpClient();
        string url = $"http://127.0.0.1:{port}";
        for (int i = 0; ; i++)
        {
            if (server.IsCompleted) throw new InvalidOperationException("serve exited: " + err);
            try { using var h = await http.GetAsync(url + "/health"); if (h.IsSuccessStatusCode) break; }
            catch (HttpRequestException) when (i < 200) { await Task.Delay(50); }
        }
        try
        {
            using var schema = JsonDocument.Parse(JsonSchemaGrammarTests.PersonSchema);
            var requests = Enumerable.Range(1, 50).Select(async seed =>
            {
                string body = JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["messages"] = new[] { new Dictionary<string, string> { ["role"] = "user", ["content"] = "Describe a person." } },
                    ["temperature"] = 1, ["seed"] = seed, ["max_tokens"] = 800,
                    ["response_format"] = new Dictionary<string, object> { ["type"] = "json_schema", ["json_schema"] = new Dictionary<string, object> { ["name"] = "person", ["schema"] = schema.RootElement } },
                });
                using var r = await http.PostAsync(url + "/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
                string text = await r.Content.ReadAsStringAsync();
                Assert.True(r.StatusCode == HttpStatusCode.OK, text);
                using var doc = JsonDocument.Parse(text);
                var choice = doc.RootElement.GetProperty("choices")[0];
                string content = choice.GetProperty("message").GetProperty("content").GetString()!;
                Assert.True(SchemaValidator.Validate(JsonSchemaGrammarTests.PersonSchema, content) is null, $"seed {seed}: {SchemaValidator.Validate(JsonSchemaGrammarTests.PersonSchema, content)} in {content}");
                Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
                return content;
            });
            var contents = await Task.WhenAll(requests);
            Assert.True(contents.Distinct().Count() > 40);
        }
        finally
        {
            stop.Cancel();
            Assert.Equal(0, await server);
        }
    }
}
