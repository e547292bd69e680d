using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Ingot.Specs;
using Microsoft.CodeAnalysis;

namespace Ingot.Generators.JsonOutput
{
    /// <summary>
    /// The JSON Schema of a C# type as System.Text.Json writes and reads it with its defaults (members by declared name or
    /// [JsonPropertyName], in declaration order) and a JsonStringEnumConverter (enums by name). Objects are the type's
    /// public instance properties with a getter, [JsonIgnore] left out; a member is required unless its type is nullable
    /// (Nullable&lt;T&gt; or an annotated reference), and a nullable member may be null. DataAnnotations on the property or
    /// its record parameter narrow it: Range (integers), MinLength/MaxLength/StringLength (strings and collections),
    /// RegularExpression. A type met again inside itself becomes a $ref into $defs. What JSON Schema cannot say about a
    /// member is collected in <see cref="Errors"/> ("Member: why").
    /// </summary>
    internal sealed class TypeSchema
    {
        private readonly Dictionary<ITypeSymbol, string> _defNames = new Dictionary<ITypeSymbol, string>(SymbolEqualityComparer.Default);
        private readonly HashSet<ITypeSymbol> _recursive = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        private readonly List<ITypeSymbol> _visiting = new List<ITypeSymbol>();
        private readonly JsonObject _defs = new JsonObject();

        public List<string> Errors { get; } = new List<string>();

        /// <summary>The schema of <paramref name="type"/> (the root of the output).</summary>
        public static JsonObject Of(ITypeSymbol type, out List<string> errors)
        {
            var b = new TypeSchema();
            var root = b.Value(type, NoAttributes, type.Name);
            errors = b.Errors;
            if (b._defs.Members.Count > 0) root.Members.Add(new KeyValuePair<string, JsonNode>("$defs", b._defs));
            return root;
        }

        private static readonly AttributeData[] NoAttributes = Array.Empty<AttributeData>();

        private JsonObject Value(ITypeSymbol type, IReadOnlyList<AttributeData> attributes, string where)
        {
            bool nullable = false;
            if (type is INamedTypeSymbol n && n.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
            {
                type = n.TypeArguments[0];
                nullable = true;
            }
            else if (type.IsReferenceType && type.NullableAnnotation == NullableAnnotation.Annotated) nullable = true;
            var schema = NonNull(type, attributes, where);
            return nullable ? Obj(("anyOf", Arr(schema, Obj(("type", Str("null")))))) : schema;
        }

        private JsonObject NonNull(ITypeSymbol type, IReadOnlyList<AttributeData> attributes, string where)
        {
            switch (type.SpecialType)
            {
                case SpecialType.System_String: return Text(Obj(("type", Str("string"))), attributes);
                case SpecialType.System_Char: return Obj(("type", Str("string")), ("minLength", Num(1)), ("maxLength", Num(1)));
                case SpecialType.System_Boolean: return Obj(("type", Str("boolean")));
                case SpecialType.System_Byte: return Integer(0, byte.MaxValue, attributes, where);
                case SpecialType.System_SByte: return Integer(sbyte.MinValue, sbyte.MaxValue, attributes, where);
                case SpecialType.System_Int16: return Integer(short.MinValue, short.MaxValue, attributes, where);
                case SpecialType.System_UInt16: return Integer(0, ushort.MaxValue, attributes, where);
                case SpecialType.System_Int32: return Integer(int.MinValue, int.MaxValue, attributes, where);
                case SpecialType.System_UInt32: return Integer(0, uint.MaxValue, attributes, where);
                // 64-bit: the grammar's integers have at most 16 digits, inside both types' ranges.
                case SpecialType.System_Int64: return Integer(null, null, attributes, where);
                case SpecialType.System_UInt64: return Integer(0, null, attributes, where);
                case SpecialType.System_Single:
                case SpecialType.System_Double:
                case SpecialType.System_Decimal:
                    if (Find(attributes, "RangeAttribute") != null) Errors.Add(where + ": [Range] on a non-integer member cannot be expressed in the grammar");
                    return Obj(("type", Str("number")));
                case SpecialType.System_DateTime: return Obj(("type", Str("string")), ("format", Str("date-time")));
                case SpecialType.System_Object:
                    Errors.Add(where + ": type 'object' has no fixed JSON shape");
                    return Obj();
            }
            string full = type.ToDisplayString();
            switch (full)
            {
                case "System.DateOnly": return Obj(("type", Str("string")), ("format", Str("date")));
                case "System.DateTimeOffset": return Obj(("type", Str("string")), ("format", Str("date-time")));
                case "System.Guid": return Obj(("type", Str("string")), ("format", Str("uuid")));
                case "System.TimeOnly": return Obj(("type", Str("string")), ("pattern", Str("^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$")));
            }
            if (type.TypeKind == TypeKind.Enum)
            {
                var names = type.GetMembers().OfType<IFieldSymbol>().Where(f => f.IsConst).Select(f => (JsonNode)Str(f.Name)).ToArray();
                return Obj(("enum", Arr(names)));
            }
            if (ItemType(type) is ITypeSymbol item)
            {
                var schema = Obj(("type", Str("array")), ("items", Value(item, NoAttributes, where + "[]")));
                if (Length(attributes, "MinLengthAttribute") is int min) schema.Members.Add(Member("minItems", Num(min)));
                if (Length(attributes, "MaxLengthAttribute") is int max) schema.Members.Add(Member("maxItems", Num(max)));
                return schema;
            }
            if (type is INamedTypeSymbol named && (named.TypeKind == TypeKind.Class || named.TypeKind == TypeKind.Struct) && !named.IsAbstract && !IsCollection(named))
                return Object(named, where);
            Errors.Add(where + $": type '{full}' has no JSON form the grammar can express (supported: strings, numbers, booleans, enums, arrays and lists, DateOnly, TimeOnly, DateTime, DateTimeOffset, Guid, and classes, records and structs of those)");
            return Obj();
        }

        private JsonObject Object(INamedTypeSymbol type, string where)
        {
            if (_visiting.Contains(type, SymbolEqualityComparer.Default))
            {
                _recursive.Add(type);
                return Ref(type);
            }
            _visiting.Add(type);
            var properties = new JsonObject();
            var required = new JsonArray();
            foreach (var p in Properties(type))
            {
                var attributes = AttributesOf(p, type);
                if (Find(attributes, "JsonIgnoreAttribute") != null) continue;
                string name = Find(attributes, "JsonPropertyNameAttribute") is AttributeData jn && jn.ConstructorArguments.Length == 1 && jn.ConstructorArguments[0].Value is string s ? s : p.Name;
                properties.Members.Add(Member(name, Value(p.Type, attributes, type.Name + "." + p.Name)));
                bool nullable = p.Type.NullableAnnotation == NullableAnnotation.Annotated
                    || p.Type is INamedTypeSymbol pn && pn.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T;
                if (!nullable) required.Items.Add(Str(name));
            }
            _visiting.RemoveAt(_visiting.Count - 1);
            var schema = Obj(("type", Str("object")), ("properties", properties), ("required", required), ("additionalProperties", new JsonBool(false)));
            if (!_recursive.Contains(type)) return schema;
            _defs.Members.Add(Member(DefName(type), schema));
            return Ref(type);
        }

        private JsonObject Ref(INamedTypeSymbol type) => Obj(("$ref", Str("#/$defs/" + DefName(type))));

        private string DefName(ITypeSymbol type)
        {
            if (_defNames.TryGetValue(type, out var name)) return name;
            name = type.Name;
            for (int i = 2; _defNames.Values.Contains(name); i++) name = type.Name + i.ToString(CultureInfo.InvariantCulture);
            return _defNames[type] = name;
        }

        /// <summary>Public instance properties with a getter, base types' first, each in declaration order (as System.Text.Json writes them).</summary>
        private static IEnumerable<IPropertySymbol> Properties(INamedTypeSymbol type)
        {
            var chain = new List<INamedTypeSymbol>();
            for (var t = type; t != null && t.SpecialType != SpecialType.System_Object && t.SpecialType != SpecialType.System_ValueType; t = t.BaseType) chain.Insert(0, t);
            foreach (var t in chain)
                foreach (var p in t.GetMembers().OfType<IPropertySymbol>())
                    if (p.DeclaredAccessibility == Accessibility.Public && !p.IsStatic && !p.IsIndexer && p.GetMethod != null && p.Name != "EqualityContract")
                        yield return p;
        }

        /// <summary>The property's attributes, and a record parameter's of the same name (where [Range] without property: lands).</summary>
        private static IReadOnlyList<AttributeData> AttributesOf(IPropertySymbol p, INamedTypeSymbol type)
        {
            var all = new List<AttributeData>(p.GetAttributes());
            foreach (var ctor in type.InstanceConstructors)
                foreach (var parameter in ctor.Parameters)
                    if (parameter.Name == p.Name) all.AddRange(parameter.GetAttributes());
            return all;
        }

        private static ITypeSymbol? ItemType(ITypeSymbol type)
        {
            if (type is IArrayTypeSymbol a && a.Rank == 1) return a.ElementType;
            if (type is INamedTypeSymbol n && n.IsGenericType && n.TypeArguments.Length == 1)
            {
                switch (n.OriginalDefinition.ToDisplayString())
                {
                    case "System.Collections.Generic.List<T>":
                    case "System.Collections.Generic.IList<T>":
                    case "System.Collections.Generic.IReadOnlyList<T>":
                    case "System.Collections.Generic.ICollection<T>":
                    case "System.Collections.Generic.IReadOnlyCollection<T>":
                    case "System.Collections.Generic.IEnumerable<T>":
                        return n.TypeArguments[0];
                }
            }
            return null;
        }

        /// <summary>Dictionaries, sets and other collections: not objects of properties, and not the lists above.</summary>
        private static bool IsCollection(INamedTypeSymbol type) =>
            type.AllInterfaces.Any(i => i.ToDisplayString() == "System.Collections.IEnumerable");

        private static JsonObject Text(JsonObject schema, IReadOnlyList<AttributeData> attributes)
        {
            int? min = Length(attributes, "MinLengthAttribute"), max = Length(attributes, "MaxLengthAttribute");
            if (Find(attributes, "StringLengthAttribute") is AttributeData sl)
            {
                if (sl.ConstructorArguments.Length == 1 && sl.ConstructorArguments[0].Value is int slMax) max = max is int m ? Math.Min(m, slMax) : slMax;
                foreach (var named in sl.NamedArguments)
                    if (named.Key == "MinimumLength" && named.Value.Value is int slMin) min = Math.Max(min ?? 0, slMin);
            }
            if (Find(attributes, "RegularExpressionAttribute") is AttributeData re && re.ConstructorArguments.Length == 1 && re.ConstructorArguments[0].Value is string pattern)
            {
                // A pattern fixes the string's characters; lengths with it would need the two intersected.
                schema.Members.Add(Member("pattern", Str(pattern)));
                return schema;
            }
            if (min is int mi && mi > 0) schema.Members.Add(Member("minLength", Num(mi)));
            if (max is int ma) schema.Members.Add(Member("maxLength", Num(ma)));
            return schema;
        }

        private JsonObject Integer(long? lo, long? hi, IReadOnlyList<AttributeData> attributes, string where)
        {
            if (Find(attributes, "RangeAttribute") is AttributeData range)
            {
                var args = range.ConstructorArguments;
                if (args.Length == 2 && Whole(args[0].Value) is long rlo && Whole(args[1].Value) is long rhi)
                {
                    lo = lo is long l ? Math.Max(l, rlo) : rlo;
                    hi = hi is long h ? Math.Min(h, rhi) : rhi;
                }
                else Errors.Add(where + ": [Range] needs two whole-number bounds for an integer member");
            }
            var schema = Obj(("type", Str("integer")));
            if (lo is long low) schema.Members.Add(Member("minimum", Num(low)));
            if (hi is long high) schema.Members.Add(Member("maximum", Num(high)));
            return schema;
        }

        private static long? Whole(object? v)
        {
            switch (v)
            {
                case int i: return i;
                case long l: return l;
                case double d when d == Math.Floor(d) && Math.Abs(d) <= 9e15: return (long)d;
                default: return null;
            }
        }

        private static int? Length(IReadOnlyList<AttributeData> attributes, string name) =>
            Find(attributes, name) is AttributeData a && a.ConstructorArguments.Length == 1 && a.ConstructorArguments[0].Value is int n ? n : (int?)null;

        private static AttributeData? Find(IReadOnlyList<AttributeData> attributes, string name)
        {
            foreach (var a in attributes) if (a.AttributeClass?.Name == name) return a;
            return null;
        }

        private static KeyValuePair<string, JsonNode> Member(string key, JsonNode value) => new KeyValuePair<string, JsonNode>(key, value);

        private static JsonObject Obj(params (string Key, JsonNode Value)[] members)
        {
            var o = new JsonObject();
            foreach (var (key, value) in members) o.Members.Add(Member(key, value));
            return o;
        }

        private static JsonArray Arr(params JsonNode[] items)
        {
            var a = new JsonArray();
            a.Items.AddRange(items);
            return a;
        }

        private static JsonString Str(string s) => new JsonString(s);

        private static JsonNumber Num(long n) => new JsonNumber(n.ToString(CultureInfo.InvariantCulture));
    }
}
