using System.ComponentModel.DataAnnotations;

namespace Ingot.TestSupport;

public enum Pet { Cat, Dog, Bird }

public sealed record Home([property: MaxLength(10)] string City, [property: Range(1000, 99999)] int? Zip);

/// <summary>
/// The structured-output issue's member kinds as a C# record: a nested record, an array, an enum, an integer range, a
/// date and a pattern. Its schema comes from MEAI at run time (GetResponseAsync&lt;Person&gt;) or from the generator at
/// build time ([JsonOutput]).
/// </summary>
public sealed record Person(
    [property: MinLength(1), MaxLength(12)] string Name,
    [property: Range(0, 120)] int Age,
    Pet Pet,
    DateOnly Born,
    [property: RegularExpression("^[A-Z]{2}-[0-9]{3}$"), MaxLength(6)] string Code,
    [property: MaxLength(3)] Pet[] Friends,
    Home Home);
