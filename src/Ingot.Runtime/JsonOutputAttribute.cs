namespace Ingot;

/// <summary>
/// Compiles the JSON form of <see cref="Type"/> (a record or class: its public properties, required unless nullable;
/// enums by name; arrays and lists; nested types; DateOnly, TimeOnly, DateTime, DateTimeOffset, Guid; the
/// DataAnnotations Range, MinLength, MaxLength, StringLength and RegularExpression; JsonPropertyName) into a grammar at
/// build time. On a <c>partial class</c> (the model class or any other), the generator adds
/// <c>public const string {Type}Gbnf</c> and <c>public static Grammar {Type}Grammar</c>: a generation given that
/// grammar writes JSON that System.Text.Json reads back as the type (enums with a JsonStringEnumConverter). No schema
/// is read at run time. Member types the grammar cannot express are generator diagnostics (ING0012).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class JsonOutputAttribute(Type type) : Attribute
{
    public Type Type { get; } = type;
}
