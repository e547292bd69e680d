namespace Ingot.TestSupport;

/// <summary>JSON Schemas the structured-output tests share.</summary>
public static class TestSchemas
{
    /// <summary>
    /// A person: nested objects, an array, an enum, an integer range, a date and a pattern (the structured-output
    /// issue's list); strings bounded so a sampled output ends within a few hundred tokens.
    /// </summary>
    public const string Person = """
        {
          "type": "object",
          "properties": {
            "name": { "type": "string", "minLength": 1, "maxLength": 12 },
            "age": { "type": "integer", "minimum": 0, "maximum": 120 },
            "pet": { "enum": ["cat", "dog", "bird"] },
            "born": { "type": "string", "format": "date" },
            "code": { "type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}$" },
            "tags": { "type": "array", "items": { "type": "string", "maxLength": 8 }, "maxItems": 3 },
            "home": {
              "type": "object",
              "properties": { "city": { "type": "string", "maxLength": 10 }, "zip": { "type": "integer", "minimum": 1000, "maximum": 99999 } },
              "required": ["city"],
              "additionalProperties": false
            }
          },
          "required": ["name", "age", "pet", "born", "code", "home"],
          "additionalProperties": false
        }
        """;
}
