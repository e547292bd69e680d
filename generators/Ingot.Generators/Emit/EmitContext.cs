using System;
using System.Collections.Generic;
using Ingot.Generators.Planning;

namespace Ingot.Generators.Emit
{
    /// <summary>
    /// What the step emitters share while one model is emitted: the plan, the body structs registered so far (written
    /// once each into the Kernels file, ordinal by name), and the scope of the method being written — its token-count
    /// variable and the local that holds each buffer.
    /// </summary>
    internal sealed class EmitContext
    {
        private readonly SortedDictionary<string, Action<SourceWriter>> _bodies = new SortedDictionary<string, Action<SourceWriter>>(StringComparer.Ordinal);
        private readonly Dictionary<object, string> _names = new Dictionary<object, string>();
        private readonly Dictionary<string, int> _numbered = new Dictionary<string, int>(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _locals = new Dictionary<string, int>(StringComparer.Ordinal);

        public EmitContext(ModelPlan plan) => Plan = plan;

        public ModelPlan Plan { get; }

        /// <summary>The token count of the method being written ("n" in a layer, "rows" for the logits).</summary>
        public string Rows { get; set; } = "n";

        /// <summary>Where X's rows start ("x"; "xLast" when only the last rows' logits are wanted).</summary>
        public string XVar { get; set; } = "x";

        public IEnumerable<KeyValuePair<string, Action<SourceWriter>>> Bodies => _bodies;

        /// <summary>
        /// The body struct for <paramref name="key"/> (a step or an epilogue signature): named once, written once. With
        /// <paramref name="numbered"/> the name is the prefix and the count of such bodies so far ("QkvBody0", "QkvBody1").
        /// </summary>
        public string Body(object key, string name, bool numbered, Action<SourceWriter, string> write)
        {
            if (_names.TryGetValue(key, out var existing)) return existing;
            if (numbered)
            {
                _numbered.TryGetValue(name, out int count);
                _numbered[name] = count + 1;
                name += Literals.I(count);
            }
            string n = name;
            _names[key] = n;
            _bodies[n] = w => write(w, n);
            return n;
        }

        /// <summary>A local name for a body instance, unique in the method being written ("qkv", then "qkv1", …).</summary>
        public string Local(string stem)
        {
            _locals.TryGetValue(stem, out int count);
            _locals[stem] = count + 1;
            return count == 0 ? stem : stem + Literals.I(count);
        }

        public void ResetLocals() => _locals.Clear();

        public string Var(Buf b)
        {
            switch (b)
            {
                case Buf.X: return XVar;
                case Buf.Xn: return "xn";
                case Buf.Q: return "q";
                case Buf.Att: return "att";
                case Buf.Hb: return "hb";
                case Buf.T: return "tmp";
                case Buf.Logits: return "logits";
                case Buf.Enc: return "encRows";
                case Buf.CK: return "ckRows";
                case Buf.CV: return "cvRows";
                default: throw new ArgumentOutOfRangeException(nameof(b), b, "no arena buffer");
            }
        }

        /// <summary>The named constant for a row width when there is one ("Dim", "QDim", "FfnDim"), else the number.</summary>
        public string Width(int width)
        {
            if (width == Plan.Dim) return "Dim";
            if (width == Plan.QDim) return "QDim";
            if (width == Plan.FfnDim) return "FfnDim";
            return Literals.I(width);
        }

        /// <summary>The pointer expression of a weight: "lw.AttnQ" for a layer's tensor, "_tokenEmbd" for a global one.</summary>
        public static string Ptr(WeightRef w) => w.PerLayer ? "lw." + w.Field : GlobalField(w.Field);

        public static string GlobalField(string field) => "_" + char.ToLowerInvariant(field[0]) + field.Substring(1);
    }
}
