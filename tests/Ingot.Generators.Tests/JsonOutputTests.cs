using System.Reflection;
using Ingot.Runtime.Grammars;
using Microsoft.CodeAnalysis;
using Xunit;

namespace Ingot.Generators.Tests;

/// <summary>
/// [JsonOutput(typeof(T))]: the generator turns a C# record into a JSON Schema and a GBNF grammar at build time. The
/// generated file is snapshot-tested; the grammar it carries accepts T's JSON and refuses JSON that breaks T's rules;
/// its schema, converted at run time, gives the very same GBNF; unsupported members are ING0012 and a class that cannot
/// take the members is ING0013.
/// </summary>
public class JsonOutputTests
{
    public const string SnapshotFolder = "JsonOutput";

    private const string Source = """
        using System;
        using System.Collections.Generic;
        using System.ComponentModel.DataAnnotations;
        using System.Text.Json.Serialization;
        using Ingot;

        namespace Ingot.Tests.Output;

        public enum Pet { Cat, Dog, Bird }

        public sealed record Home([property: MaxLength(10)] string City, [Range(1000, 99999)] int? Zip);

        public sealed record Person(
            [property: MinLength(1), MaxLength(12)] string Name,
            [property: Range(0, 120)] int Age,
            Pet Pet,
            DateOnly Born,
            [property: RegularExpression("^[A-Z]{2}-[0-9]{3}$")] string Code,
            [property: MaxLength(3)] List<string> Tags,
            Home Home,
            [property: JsonPropertyName("note")] string? Remark,
            [property: JsonIgnore] int Ignored);

        /// <summary>A tree: a type met inside itself becomes a $ref.</summary>
        public sealed record Node(string Label, Node[] Children);

        [JsonOutput(typeof(Person))]
        [JsonOutput(typeof(Node))]
        public static partial class Grammars { }
        """;

    private static (GeneratorDriverRunResult Result, Compilation Output) Generate(string source) => GeneratorHarness.Run(source);

    [Fact]
    public void ARecordCompilesToAGrammarAtBuildTime()
    {
        var (result, output) = Generate(Source);
        Assert.Empty(result.Diagnostics);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
        var source = Assert.Single(result.Results.Single().GeneratedSources);
        Assert.Null(Snapshot.Check(SnapshotFolder, source.HintName, source.SourceText.ToString()));
    }

    [Fact]
    public void TheGeneratedGrammarAcceptsTheTypesJsonAndRefusesWhatBreaksItsRules()
    {
        var grammars = Load(Generate(Source).Output).GetType("Ingot.Tests.Output.Grammars")!;
        string Const(string name) => (string)grammars.GetField(name)!.GetRawConstantValue()!;
        var person = (Grammar)grammars.GetProperty("PersonGrammar")!.GetValue(null)!;
        var matcher = new GrammarMatcher(person);
        const string Good = """{"Name": "Lily", "Age": 31, "Pet": "Dog", "Born": "1993-04-12", "Code": "AB-123", "Tags": ["kind"], "Home": {"City": "Paris", "Zip": 75001}, "note": null}""";
        Assert.True(matcher.Matches(Good));
        Assert.True(matcher.Matches(Good.Replace(", \"note\": null", "")));                     // nullable: optional
        Assert.True(matcher.Matches(Good.Replace("\"Zip\": 75001", "\"Zip\": null")));
        Assert.False(matcher.Matches(Good.Replace("\"Age\": 31", "\"Age\": 121")));              // [Range(0, 120)]
        Assert.False(matcher.Matches(Good.Replace("\"Dog\"", "\"Cow\"")));                      // enum by name
        Assert.False(matcher.Matches(Good.Replace("1993-04-12", "1993-13-12")));                 // DateOnly
        Assert.False(matcher.Matches(Good.Replace("AB-123", "ab-123")));                         // [RegularExpression]
        Assert.False(matcher.Matches(Good.Replace("\"Lily\"", "\"\"")));                          // [MinLength(1)]
        Assert.False(matcher.Matches(Good.Replace("[\"kind\"]", "[\"a\", \"b\", \"c\", \"d\"]"))); // [MaxLength(3)] on a list
        Assert.False(matcher.Matches(Good.Replace("\"Zip\": 75001", "\"Zip\": 999")));           // [Range] on a record parameter
        Assert.False(matcher.Matches(Good.Replace("\"Name\": \"Lily\", ", "")));                 // required
        Assert.False(matcher.Matches(Good.Replace("\"note\"", "\"Remark\"")));                   // [JsonPropertyName]
        Assert.False(matcher.Matches(Good.Replace("}, \"note\"", ", \"Ignored\": 1}, \"note\""))); // [JsonIgnore], no extras

        var tree = new GrammarMatcher((Grammar)grammars.GetProperty("NodeGrammar")!.GetValue(null)!);
        Assert.True(tree.Matches("""{"Label": "a", "Children": [{"Label": "b", "Children": []}, {"Label": "c", "Children": [{"Label": "d", "Children": []}]}]}"""));
        Assert.False(tree.Matches("""{"Label": "a", "Children": [{"Label": "b"}]}"""));

        // Lengths count UTF-16 code units, as DataAnnotations do: 12 units, or 11 with one character past U+FFFF.
        Assert.True(matcher.Matches(Good.Replace("\"Lily\"", "\"abcdefghijkl\"")));
        Assert.False(matcher.Matches(Good.Replace("\"Lily\"", "\"abcdefghijk😀\"")));
        Assert.True(matcher.Matches(Good.Replace("\"Lily\"", "\"abcdefghij\\ud83d\\ude00\"")));
        Assert.False(matcher.Matches(Good.Replace("\"Lily\"", "\"abcdefghijk\\ud83d\\ude00\"")));

        // One converter: the schema it carries, converted as the runtime converts request schemas (lengths in UTF-16
        // units), is the same grammar.
        Assert.Equal(Const("PersonGbnf"), Ingot.Specs.Grammars.JsonSchemaGbnf.Convert(Ingot.Specs.JsonReader.Parse(Const("PersonSchema"), out _)!, utf16Lengths: true));
        Assert.Equal(Const("NodeGbnf"), JsonSchemaGrammar.ToGbnf(Const("NodeSchema")));
    }

    [Theory]
    [InlineData("public sealed record Bag(System.Collections.Generic.Dictionary<string, int> Counts);", "ING0012", "Bag.Counts: type 'System.Collections.Generic.Dictionary<string, int>' has no JSON form")]
    [InlineData("public sealed record Any(object Value);", "ING0012", "Any.Value: type 'object' has no fixed JSON shape")]
    [InlineData("public sealed record Price([property: System.ComponentModel.DataAnnotations.Range(0.5, 9.5)] double Value);", "ING0012", "Price.Value: [Range] on a non-integer member")]
    [InlineData("public sealed record Code([property: System.ComponentModel.DataAnnotations.RegularExpression(\"(?=a)b\")] string Value);", "ING0012", "pattern at 1: lookarounds and named groups are not supported")]
    public void AMemberTheGrammarCannotExpressIsADiagnostic(string type, string id, string message)
    {
        string name = type.Split(' ')[3].Split('(')[0];
        var (result, _) = Generate("using Ingot;\n" + type + "\n[JsonOutput(typeof(" + name + "))]\npublic static partial class G { }\n");
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(id, d.Id);
        Assert.Contains(message, d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(result.Results.Single().GeneratedSources);
    }

    [Fact]
    public void AClassThatIsNotPartialIsADiagnostic()
    {
        var (result, _) = Generate("using Ingot;\npublic sealed record P(string Name);\n[JsonOutput(typeof(P))]\npublic static class G { }\n");
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("ING0013", d.Id);
        Assert.Contains("it is not partial", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static Assembly Load(Compilation output)
    {
        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        return Assembly.Load(image.ToArray());
    }
}
