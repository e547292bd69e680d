using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

using Ingot.Specs;

namespace Ingot.Generators.Model
{
    /// <summary>A place in a file (a spec or a source file) without a Roslyn Location, so it stays equatable.</summary>
    public sealed record LocationInfo(string FilePath, int Start, int Length, int StartLine, int StartColumn, int EndLine, int EndColumn)
    {
        public Location ToLocation() => Location.Create(
            FilePath,
            new TextSpan(Start, Length),
            new LinePositionSpan(new LinePosition(StartLine, StartColumn), new LinePosition(EndLine, EndColumn)));

        public static LocationInfo? From(Location? location)
        {
            if (location is null || location.SourceTree is null) return null;
            var span = location.GetLineSpan();
            return new LocationInfo(
                location.SourceTree.FilePath, location.SourceSpan.Start, location.SourceSpan.Length,
                span.StartLinePosition.Line, span.StartLinePosition.Character,
                span.EndLinePosition.Line, span.EndLinePosition.Character);
        }

        /// <summary>A point in a spec file; <paramref name="line"/> and <paramref name="column"/> are 1-based.</summary>
        public static LocationInfo InFile(string path, int offset, int line, int column)
            => new LocationInfo(path, offset, 0, line - 1, column - 1, line - 1, column - 1);
    }

    /// <summary>A diagnostic to report: descriptor id plus message arguments (strings), and where.</summary>
    public sealed record DiagnosticInfo(string Id, EquatableArray<string> Arguments, LocationInfo? Location)
    {
        public static DiagnosticInfo Create(string id, LocationInfo? location, params string[] arguments)
            => new DiagnosticInfo(id, new EquatableArray<string>(arguments), location);

        public Diagnostic ToDiagnostic(Location? fallback)
        {
            var descriptor = DiagnosticDescriptors.ById(Id);
            var args = new object[Arguments.Count];
            for (int i = 0; i < args.Length; i++) args[i] = Arguments[i];
            return Diagnostic.Create(descriptor, Location?.ToLocation() ?? fallback ?? Microsoft.CodeAnalysis.Location.None, args);
        }
    }

    /// <summary>Either a value or the diagnostics that prevented it. Parsing and planning never throw.</summary>
    public sealed record Result<T>(T? Value, EquatableArray<DiagnosticInfo> Diagnostics) where T : class
    {
        public bool IsSuccess => Value is not null;

        public static Result<T> Ok(T value) => new Result<T>(value, EquatableArray<DiagnosticInfo>.Empty);

        public static Result<T> Fail(params DiagnosticInfo[] diagnostics) => new Result<T>(null, new EquatableArray<DiagnosticInfo>(diagnostics));
    }
}
