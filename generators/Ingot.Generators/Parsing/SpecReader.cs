using System.Collections.Generic;
using System.Globalization;
using Ingot.Generators.Model;
using Ingot.Specs;

namespace Ingot.Generators.Parsing
{
    /// <summary>
    /// modelspecs/NAME.json → <see cref="ModelSpec"/> through the shared <see cref="Specs.SpecParser"/>; its problems
    /// become ING0001/ING0006/ING0007 diagnostics located in the spec file. Never throws.
    /// </summary>
    public static class SpecReader
    {
        public static Result<ModelSpec> Parse(string specName, string path, string text)
        {
            var parsed = Specs.SpecParser.Parse(text);
            if (parsed.Spec != null) return Result<ModelSpec>.Ok(parsed.Spec);
            var diags = new List<DiagnosticInfo>();
            foreach (var p in parsed.Problems)
            {
                var at = LocationInfo.InFile(path, p.Offset, p.Line, p.Column);
                switch (p.Id)
                {
                    case SpecProblem.MalformedJson:
                        diags.Add(DiagnosticInfo.Create(p.Id, at, specName, p.Line.ToString(CultureInfo.InvariantCulture), p.Column.ToString(CultureInfo.InvariantCulture), p.Message));
                        break;
                    case SpecProblem.MissingKey:
                        diags.Add(DiagnosticInfo.Create(p.Id, at, specName, p.Key));
                        break;
                    default:
                        diags.Add(DiagnosticInfo.Create(SpecProblem.InvalidValue, at, specName, p.Key, p.Message));
                        break;
                }
            }
            return Result<ModelSpec>.Fail(diags.ToArray());
        }
    }
}
