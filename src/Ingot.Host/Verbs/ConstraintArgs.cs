using Ingot.Host.CommandLine;
using Ingot.Runtime.Grammars;

namespace Ingot.Host.Verbs;

/// <summary>--grammar FILE.gbnf and --json-schema FILE.json, shared by the generating verbs: the grammar each reply is held to.</summary>
internal static class ConstraintArgs
{
    public const string Usage =
        "      --grammar FILE      constrain the reply to a GBNF grammar (llama.cpp's syntax); it ends where the grammar does\n" +
        "      --json-schema FILE  constrain it to JSON that validates against this JSON Schema (converted to a grammar)\n";

    /// <summary>The grammar the options name, or null; a bad file is one line naming it and the line and column (or the schema path).</summary>
    public static Grammar? Read(ArgReader args)
    {
        string? grammarFile = args.OptionOrNull("--grammar");
        string? schemaFile = args.OptionOrNull("--json-schema");
        if (grammarFile is not null && schemaFile is not null) throw new UsageException("give --grammar or --json-schema, not both");
        if ((grammarFile ?? schemaFile) is not { } file) return null;
        string source = File.ReadAllText(file);
        try { return grammarFile is not null ? Grammar.Parse(source) : JsonSchemaGrammar.FromSchema(source); }
        catch (GrammarException e) { throw new UsageException($"{file}: {e.Message}"); }
    }
}
