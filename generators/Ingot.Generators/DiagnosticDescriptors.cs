using Microsoft.CodeAnalysis;

namespace Ingot.Generators
{
    /// <summary>
    /// Every diagnostic the generator reports. Ids are stable: never renumber, only append.
    /// <code>
    /// id       severity  when
    /// ING0001  error     the spec file is not well-formed JSON (message gives line and column)
    /// ING0002  error     "architecture" names an architecture the generator cannot compile
    /// ING0003  error     shapes are inconsistent (head_dim absent and heads not dividing dim, kv_heads not
    ///                    dividing heads, rope dimensions != head_dim for llama, a non-positive size, …)
    /// ING0004  error     a weight role has a quant type the generator cannot compile for that role (names both)
    /// ING0005  error     no AdditionalFile NAME.json for [CompiledModel("NAME")]
    /// ING0006  error     a required key is missing from the spec (names the key)
    /// ING0007  error     a key has the wrong JSON type or an out-of-range value (names the key)
    /// ING0008  error     the spec asks for a feature the architecture's emitter does not implement yet
    /// ING0009  error     the [CompiledModel] class is not partial / is nested / is generic
    /// ING0010  error     a quantized role's row length is not a whole number of quant blocks
    /// ING0011  error     the architecture's layout needs a weight role the spec's "weights" does not list
    /// ING0012  error     a [JsonOutput] type (or a member of it) has no JSON form the grammar can express
    /// ING0013  error     the [JsonOutput] class is not partial / is nested / is generic
    /// </code>
    /// </summary>
    public static class DiagnosticDescriptors
    {
        private const string Category = "Ingot.Generators";

        public static readonly DiagnosticDescriptor MalformedJson = new DiagnosticDescriptor(
            "ING0001", "Malformed model spec JSON",
            "Model spec '{0}' is not valid JSON at line {1}, column {2}: {3}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor UnknownArchitecture = new DiagnosticDescriptor(
            "ING0002", "Unknown architecture",
            "Model spec '{0}': architecture '{1}' is not supported (supported: {2})",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor InconsistentShapes = new DiagnosticDescriptor(
            "ING0003", "Inconsistent model shapes",
            "Model spec '{0}': {1}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor UnsupportedQuantType = new DiagnosticDescriptor(
            "ING0004", "Unsupported quant type for a weight role",
            "Model spec '{0}': weight role '{1}' has type '{2}', which is not supported for that role (supported: {3})",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor SpecNotFound = new DiagnosticDescriptor(
            "ING0005", "Model spec file not found",
            "No model spec '{0}.json' among the AdditionalFiles for [CompiledModel(\"{0}\")] on '{1}'",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor MissingField = new DiagnosticDescriptor(
            "ING0006", "Missing required field",
            "Model spec '{0}': required key '{1}' is missing",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor InvalidField = new DiagnosticDescriptor(
            "ING0007", "Invalid field value",
            "Model spec '{0}': key '{1}' {2}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor UnsupportedFeature = new DiagnosticDescriptor(
            "ING0008", "Unsupported model feature",
            "Model spec '{0}': {1} is not supported for architecture '{2}' yet",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor InvalidTargetClass = new DiagnosticDescriptor(
            "ING0009", "Invalid [CompiledModel] class",
            "[CompiledModel] class '{0}' must be a top-level, non-generic partial class: {1}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor RowNotBlockMultiple = new DiagnosticDescriptor(
            "ING0010", "Row length not a multiple of the quant block",
            "Model spec '{0}': weight role '{1}' has type '{2}' but its rows have {3} elements, not a multiple of {4}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor MissingWeightRole = new DiagnosticDescriptor(
            "ING0011", "Missing weight role",
            "Model spec '{0}': the {2} layout needs weight role '{1}', which the spec's weights do not list",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor UnsupportedJsonOutputType = new DiagnosticDescriptor(
            "ING0012", "Unsupported [JsonOutput] type",
            "[JsonOutput(typeof({0}))]: {1}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor InvalidJsonOutputClass = new DiagnosticDescriptor(
            "ING0013", "Invalid [JsonOutput] class",
            "[JsonOutput] class '{0}' must be a top-level, non-generic partial class: {1}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static DiagnosticDescriptor ById(string id)
        {
            switch (id)
            {
                case "ING0001": return MalformedJson;
                case "ING0002": return UnknownArchitecture;
                case "ING0003": return InconsistentShapes;
                case "ING0004": return UnsupportedQuantType;
                case "ING0005": return SpecNotFound;
                case "ING0006": return MissingField;
                case "ING0007": return InvalidField;
                case "ING0008": return UnsupportedFeature;
                case "ING0009": return InvalidTargetClass;
                case "ING0010": return RowNotBlockMultiple;
                case "ING0011": return MissingWeightRole;
                case "ING0012": return UnsupportedJsonOutputType;
                case "ING0013": return InvalidJsonOutputClass;
                default: throw new System.ArgumentOutOfRangeException(nameof(id), id, "no diagnostic descriptor has this id");
            }
        }
    }
}
