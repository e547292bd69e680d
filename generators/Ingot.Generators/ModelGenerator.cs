using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using Ingot.Generators.Emit;
using Ingot.Generators.Model;
using Ingot.Generators.Parsing;
using Ingot.Generators.Planning;
using Ingot.Specs;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Ingot.Generators
{
    /// <summary>
    /// Binds each <c>[CompiledModel("NAME")] partial class</c> to the AdditionalFile <c>NAME.json</c> and emits the
    /// model's forward pass into it. Pipeline (each stage value-equatable, so unrelated edits hit the cache):
    /// attribute target → TargetClass; *.json AdditionalText → SpecFile → Result&lt;ModelSpec&gt;;
    /// combine by name → Planner → ModelEmitter → source strings. A second pipeline compiles <c>[JsonOutput(typeof(T))]</c>
    /// into grammars (<see cref="JsonOutput.JsonOutputGenerator"/>).
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class ModelGenerator : IIncrementalGenerator
    {
        public const string AttributeName = "Ingot.CompiledModelAttribute";

        /// <summary>Tracking names for incremental-step tests.</summary>
        public static class Steps
        {
            public const string Targets = "Ingot.Targets";
            public const string Specs = "Ingot.Specs";
            public const string Units = "Ingot.Units";
        }

        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var targets = context.SyntaxProvider.ForAttributeWithMetadataName(
                    AttributeName,
                    static (node, _) => node is ClassDeclarationSyntax,
                    static (ctx, ct) => ReadTarget(ctx, ct))
                .WithTrackingName(Steps.Targets);

            var specs = context.AdditionalTextsProvider
                .Where(static t => t.Path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                .Select(static (t, ct) =>
                {
                    string name = Path.GetFileNameWithoutExtension(t.Path);
                    string text = t.GetText(ct)?.ToString() ?? "";
                    return new ParsedSpec(name, t.Path, SpecReader.Parse(name, t.Path, text));
                })
                .WithTrackingName(Steps.Specs)
                .Collect();

            var units = targets.Combine(specs)
                .Select(static (pair, ct) => Build(pair.Left, pair.Right, ct))
                .WithTrackingName(Steps.Units);

            context.RegisterSourceOutput(units, static (spc, unit) =>
            {
                var fallback = unit.Target.Location?.ToLocation();
                foreach (var d in unit.Diagnostics) spc.ReportDiagnostic(d.ToDiagnostic(fallback));
                foreach (var f in unit.Files) spc.AddSource(f.HintName, SourceText.From(f.Source, System.Text.Encoding.UTF8));
            });

            JsonOutput.JsonOutputGenerator.Register(context);
        }

        private static TargetClass ReadTarget(GeneratorAttributeSyntaxContext ctx, CancellationToken ct)
        {
            var symbol = (INamedTypeSymbol)ctx.TargetSymbol;
            string spec = "";
            foreach (var attr in ctx.Attributes)
            {
                if (attr.ConstructorArguments.Length == 1 && attr.ConstructorArguments[0].Value is string s) spec = s;
            }
            string? problem = null;
            var syntax = (ClassDeclarationSyntax)ctx.TargetNode;
            bool isPartial = false;
            foreach (var m in syntax.Modifiers) if (m.Text == "partial") isPartial = true;
            if (!isPartial) problem = "it is not partial";
            else if (symbol.ContainingType != null) problem = "it is nested in another type";
            else if (symbol.IsGenericType) problem = "it is generic";
            else if (symbol.IsStatic) problem = "it is static";
            string? ns = symbol.ContainingNamespace.IsGlobalNamespace ? null : symbol.ContainingNamespace.ToDisplayString();
            var location = LocationInfo.From(syntax.Identifier.GetLocation());
            return new TargetClass(ns, symbol.Name, problem ?? "", spec, location);
        }

        private static GenerationUnit Build(TargetClass target, System.Collections.Immutable.ImmutableArray<ParsedSpec> specs, CancellationToken ct)
        {
            try
            {
                if (target.Accessibility.Length > 0)
                {
                    return GenerationUnit.Failed(target, DiagnosticInfo.Create("ING0009", target.Location, target.ClassName, target.Accessibility));
                }
                ParsedSpec? found = null;
                // Ordinal, first by path: deterministic when two folders hold the same file name.
                foreach (var s in specs)
                {
                    if (s.Name == target.SpecName && (found is null || string.CompareOrdinal(s.Path, found.Path) < 0)) found = s;
                }
                if (found is null)
                {
                    return GenerationUnit.Failed(target, DiagnosticInfo.Create("ING0005", target.Location, target.SpecName, target.ClassName));
                }
                if (found.Spec.Value is null) return new GenerationUnit(target, found.Spec.Diagnostics, EquatableArray<GeneratedFile>.Empty);
                ct.ThrowIfCancellationRequested();
                var specLocation = LocationInfo.InFile(found.Path, 0, 1, 1);
                var plan = Planner.Plan(found.Spec.Value, specLocation);
                if (plan.Value is null) return new GenerationUnit(target, plan.Diagnostics, EquatableArray<GeneratedFile>.Empty);
                var files = ModelEmitter.Emit(target with { Accessibility = "" }, plan.Value);
                return new GenerationUnit(target, EquatableArray<DiagnosticInfo>.Empty, new EquatableArray<GeneratedFile>(files));
            }
            catch (OperationCanceledException)
            {
                throw;
            }
            catch (Exception ex)
            {
                // No exception escapes the generator: report it on the class instead.
                return GenerationUnit.Failed(target, DiagnosticInfo.Create("ING0007", target.Location, target.SpecName, "(generator)", "could not be compiled: " + ex.GetType().Name + ": " + ex.Message));
            }
        }
    }

    /// <summary>One AdditionalFile *.json after parsing; Name = file name without extension.</summary>
    public sealed record ParsedSpec(string Name, string Path, Result<ModelSpec> Spec);

    /// <summary>What the output step needs: sources and diagnostics, all value-equal.</summary>
    public sealed record GenerationUnit(TargetClass Target, EquatableArray<DiagnosticInfo> Diagnostics, EquatableArray<GeneratedFile> Files)
    {
        public static GenerationUnit Failed(TargetClass target, DiagnosticInfo d)
            => new GenerationUnit(target, new EquatableArray<DiagnosticInfo>(new[] { d }), EquatableArray<GeneratedFile>.Empty);
    }
}
