using Ingot.Specs;
using Xunit;

namespace Ingot.Generators.Tests;

public class JsonParserTests
{
    [Fact]
    public void ParsesNestedValues()
    {
        var node = JsonReader.Parse("{\"a\": [1, -2.5e3, true, null, \"x\\u0041\\n\"], \"b\": {}}", out var error);
        Assert.Null(error);
        var obj = Assert.IsType<JsonObject>(node);
        var arr = Assert.IsType<JsonArray>(obj.Get("a"));
        Assert.Equal("1", Assert.IsType<JsonNumber>(arr.Items[0]).Text);
        Assert.Equal("-2.5e3", Assert.IsType<JsonNumber>(arr.Items[1]).Text);
        Assert.True(Assert.IsType<JsonBool>(arr.Items[2]).Value);
        Assert.IsType<JsonNull>(arr.Items[3]);
        Assert.Equal("xA\n", Assert.IsType<JsonString>(arr.Items[4]).Value);
        Assert.Empty(Assert.IsType<JsonObject>(obj.Get("b")).Members);
    }

    [Theory]
    [InlineData("", 1, 1)]
    [InlineData("{", 1, 2)]
    [InlineData("{\"a\": 1,}", 1, 9)]
    [InlineData("[1 2]", 1, 4)]
    [InlineData("{\n  \"a\": 01\n}", 2, 9)]
    [InlineData("{\"a\": tru}", 1, 7)]
    [InlineData("{\"a\": 1} x", 1, 10)]
    [InlineData("{\"a\": 1, \"a\": 2}", 1, 15)]
    public void ErrorsCarryLineAndColumn(string text, int line, int column)
    {
        var node = JsonReader.Parse(text, out var error);
        Assert.Null(node);
        Assert.NotNull(error);
        Assert.Equal((line, column), (error!.Line, error.Column));
    }

    [Fact]
    public void DeepNestingIsAnErrorNotACrash()
    {
        string text = new string('[', 10000) + new string(']', 10000);
        Assert.Null(JsonReader.Parse(text, out var error));
        Assert.Contains("nesting", error!.Message);
    }
}
