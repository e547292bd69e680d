using System.Text;
using System.Text.Json;
using Ingot.Runtime.Generation;
using Ingot.Runtime.Grammars;
using Ingot.Runtime.Sampling;
using Ingot.TestSupport;
using Xunit;

namespace Ingot.Host.Tests;

/// <summary>
/// JSON Schema → grammar: exact integer ranges, enums, $ref, patterns, formats; unsupported keywords named with their
/// path; and, on stories260K at temperature 1 with 50 seeds, every output of a schema with nested objects, an array, an
/// enum, an integer range, a date and a pattern parses as JSON and validates (<see cref="SchemaValidator"/>).
/// </summary>
public sealed class JsonSchemaGrammarTests
{
    public const string PersonSchema = TestSchemas.Person;

    private static GrammarMatcher Matcher(string schema) => new(JsonSchemaGrammar.FromSchema(schema));

    [Theory]
    [InlineData(0, 120)]
    [InlineData(7, 7)]
    [InlineData(-15, 23)]
    [InlineData(1000, 99999)]
    [InlineData(-250, -3)]
    [InlineData(95, 1005)]
    public void AnIntegerRangeAcceptsExactlyItsIntegers(int lo, int hi)
    {
        var m = Matcher($$"""{ "type": "integer", "minimum": {{lo}}, "maximum": {{hi}} }""");
        for (int v = lo - 30; v <= hi + 30; v++)
            if (v >= lo - 30 && (v <= lo + 40 || v >= hi - 40 || v % 97 == 0))
                Assert.True(m.Matches(v.ToString(System.Globalization.CultureInfo.InvariantCulture)) == (v >= lo && v <= hi), $"{v} in [{lo}, {hi}]");
        Assert.False(m.Matches("0" + hi.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void EnumsConstsAnyOfRefsPatternsAndFormats()
    {
        Assert.True(Matcher("""{ "enum": ["a b", 3, null, true] }""").Matches("\"a b\""));
        Assert.False(Matcher("""{ "enum": ["a b", 3, null, true] }""").Matches("\"a\""));
        Assert.True(Matcher("""{ "const": {"k": [1, "x"]} }""").Matches("""{"k":[1,"x"]}"""));
        var any = Matcher("""{ "anyOf": [ { "type": "integer" }, { "type": "string", "maxLength": 2 } ] }""");
        Assert.True(any.Matches("-12"));
        Assert.True(any.Matches("\"ab\""));
        Assert.False(any.Matches("\"abc\""));
        var tree = Matcher("""{ "$ref": "#/$defs/node", "$defs": { "node": { "type": "object", "properties": { "kids": { "type": "array", "items": { "$ref": "#/$defs/node" } } }, "additionalProperties": false } } }""");
        Assert.True(tree.Matches("""{"kids": [{"kids": []}, {}]}"""));
        Assert.False(tree.Matches("""{"kids": [{"other": 1}]}"""));
        var code = Matcher("""{ "type": "string", "pattern": "^(ab|c+)[0-9]{2}\\.x?$" }""");
        Assert.True(code.Matches("\"ab12.\""));
        Assert.True(code.Matches("\"ccc07.x\""));
        Assert.False(code.Matches("\"abc12.\""));
        var date = Matcher("""{ "type": "string", "format": "date" }""");
        Assert.True(date.Matches("\"2024-02-28\""));
        Assert.True(date.Matches("\"0001-12-31\""));
        Assert.False(date.Matches("\"0000-01-01\""));
        Assert.False(date.Matches("\"2024-04-31\""));
        Assert.False(date.Matches("\"2023-02-29\""));
        Assert.False(date.Matches("\"2024-13-01\""));
        Assert.True(Matcher("""{ "type": "string", "format": "uuid" }""").Matches("\"123e4567-e89b-12d3-a456-426614174000\""));
        Assert.True(Matcher("""{ "type": "string", "format": "date-time" }""").Matches("\"2024-05-01T13:45:00.123+02:00\""));
        var obj = Matcher("""{ "type": "object", "properties": { "a": { "type": "integer" }, "b": { "type": "boolean" } }, "required": ["b"], "additionalProperties": false }""");
        Assert.True(obj.Matches("""{"a": 1, "b": true}"""));
        Assert.True(obj.Matches("""{ "b": false }"""));
        Assert.False(obj.Matches("""{"a": 1}"""));
        Assert.False(obj.Matches("""{"b": true, "a": 1}""")); // the schema's order
        Assert.False(obj.Matches("""{"a": 1, "b": true, "c": 2}"""));
        Assert.False(Matcher("""{ "type": "object", "properties": { "a": { "type": "integer" } } }""").Matches("""{"a": 1, "b": 2}""")); // as llama.cpp: no extras unless allowed
        var open = Matcher("""{ "type": "object", "properties": { "a": { "type": "integer" } }, "additionalProperties": true }""");
        Assert.True(open.Matches("""{"a": 1, "extra": [null, {"x": "y"}]}"""));
    }

    [Theory]
    [InlineData("""{ "type": "object", "properties": { "a": { "type": "string", "contentEncoding": "base64" } } }""", "$.properties.a.contentEncoding: keyword 'contentEncoding' is not supported")]
    [InlineData("""{ "type": "string", "format": "email" }""", "$.format: format 'email' is not one of date, time, date-time, uuid")]
    [InlineData("""{ "type": "string", "pattern": "(?=a)b" }""", "$.pattern: pattern at 1: lookarounds and named groups are not supported")]
    [InlineData("""{ "$ref": "#/components/x" }""", "$.$ref: '#/components/x' is not a #/$defs/NAME or #/definitions/NAME of this schema")]
    [InlineData("""{ "type": "decimal" }""", "$.type: type 'decimal' is not one of object, array, string, number, integer, boolean, null")]
    [InlineData("""{ "type": "object", "properties": {}, "required": ["x"] }""", "$.required: 'x' is required but not among the properties")]
    public void UnsupportedSchemasAreOneLineNamingTheKeywordAndPath(string schema, string message)
    {
        var e = Assert.Throws<GrammarException>(() => JsonSchemaGrammar.ToGbnf(schema));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void FiftySeedsAtTemperatureOneAllValidate()
    {
        using var file = Formats.GgufFile.Open(TestPaths.Stories260KGguf);
        var codec = TokenizerCodec.FromGguf(file);
        using var model = new Stories260K();
        model.Load(file, new InferenceOptions(ContextSize: 512, Threads: 1));
        var generator = new TextGenerator(model, codec);
        var grammar = JsonSchemaGrammar.FromSchema(PersonSchema);
        var distinct = new HashSet<string>();
        for (int seed = 1; seed <= 50; seed++)
        {
            var text = new StringBuilder();
            var options = new GenerationOptions(480, SamplerOptions.Default with { Temperature = 1, Seed = (ulong)seed }) { Grammar = grammar };
            var result = generator.Generate("Once upon a time", options, t => text.Append(t));
            Assert.True(result.StopReason == StopReason.EndOfGeneration, $"seed {seed}: stopped by {result.StopReason} after {result.GeneratedTokens} tokens: {text}");
            Assert.Null(SchemaValidator.Validate(PersonSchema, text.ToString()));
            distinct.Add(text.ToString());
        }
        Assert.True(distinct.Count > 40, $"{distinct.Count} distinct outputs of 50");
    }
}
