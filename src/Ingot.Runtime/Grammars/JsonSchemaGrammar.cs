using Ingot.Specs.Grammars;

namespace Ingot.Runtime.Grammars;

/// <summary>
/// JSON Schema → GBNF for schemas that arrive at run time (a request's response_format, a ChatResponseFormat,
/// --json-schema). The conversion is <see cref="JsonSchemaGbnf"/> in Ingot.Specs, the same code the generator runs on a
/// C# type's schema at build time (<see cref="JsonOutputAttribute"/>), so both give the same grammar. Its errors
/// arrive here as a <see cref="GrammarException"/> naming the keyword and its JSON path.
/// </summary>
public static class JsonSchemaGrammar
{
    /// <summary>The GBNF of a schema (its root rule named root).</summary>
    public static string ToGbnf(string schemaJson)
    {
        try { return JsonSchemaGbnf.Convert(schemaJson); }
        catch (SchemaGrammarException e) { throw new GrammarException(e.Message); }
    }

    /// <summary>Any JSON object (OpenAI's response_format json_object, a schemaless JSON ChatResponseFormat).</summary>
    public const string AnyObjectSchema = "{\"type\": \"object\"}";

    /// <summary>
    /// The grammar of a schema, parsed. The same schema text gives the same (immutable) grammar object, so requests that
    /// repeat a schema share its compiled automaton (<see cref="GrammarAutomaton"/>). Holds the last 64 schemas.
    /// </summary>
    public static Grammar FromSchema(string schemaJson)
    {
        lock (Recent)
        {
            if (Recent.TryGetValue(schemaJson, out var known)) return known;
        }
        var grammar = Grammar.Parse(ToGbnf(schemaJson));
        lock (Recent)
        {
            if (Recent.Count >= 64) Recent.Clear();
            Recent[schemaJson] = grammar;
        }
        return grammar;
    }

    private static readonly Dictionary<string, Grammar> Recent = new(StringComparer.Ordinal);
}
