using System.Globalization;
using Ingot.Generators;
using Ingot.Generators.Model;
using Ingot.Generators.Parsing;
using Ingot.Generators.Planning;

namespace Ingot.Cli.Building;

/// <summary>
/// Runs the generator's parser and planner on a spec in-process, before anything is published: a spec the generator
/// cannot compile (an unsupported weight type, a feature no emitter implements) is refused with its ING diagnostics,
/// one line each, instead of a publish that fails with a cascade of C# errors.
/// </summary>
public static class SpecCompileCheck
{
    /// <summary>The diagnostics as "ING0004: Model spec 'x': …" lines; empty when the spec compiles.</summary>
    public static IReadOnlyList<string> Problems(string specName, string specJson)
    {
        var parsed = SpecReader.Parse(specName, specName + ".json", specJson);
        return Lines(parsed.Value is null ? parsed.Diagnostics : Planner.Plan(parsed.Value, null).Diagnostics);
    }

    /// <summary>Each diagnostic as "ING0004: Model spec 'x': …".</summary>
    public static IReadOnlyList<string> Lines(IEnumerable<DiagnosticInfo> diags)
    {
        var lines = new List<string>();
        foreach (var d in diags)
        {
            var descriptor = DiagnosticDescriptors.ById(d.Id);
            var args = new object[d.Arguments.Count];
            for (int i = 0; i < args.Length; i++) args[i] = d.Arguments[i];
            lines.Add(d.Id + ": " + string.Format(CultureInfo.InvariantCulture, descriptor.MessageFormat.ToString(CultureInfo.InvariantCulture), args));
        }
        return lines;
    }

    /// <summary>Throws a <see cref="NotSupportedException"/> whose message is the diagnostics when the spec does not compile.</summary>
    public static void ThrowIfNotCompilable(string specName, string specJson)
    {
        var problems = Problems(specName, specJson);
        if (problems.Count > 0) throw new NotSupportedException("the generator cannot compile this model: " + string.Join("; ", problems));
    }
}
