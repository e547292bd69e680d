using System;
using System.Collections.Generic;
using System.Globalization;

namespace Ingot.Generators.Emit
{
    /// <summary>
    /// Emits the body of a generated inner loop for one instruction set. All lengths are compile-time constants,
    /// so the loops have constant bounds and the tails are emitted only when the length needs them.
    /// Pointers are float*; names are C# expressions.
    /// </summary>
    public interface IIsaEmitter
    {
        /// <summary>"scalar", "vector128", … (what Description.IsaPathsCompiled lists).</summary>
        string Name { get; }

        /// <summary>The C# condition that selects this path (NativeAOT folds it to a constant); null for scalar.</summary>
        string? Guard { get; }

        /// <summary>Whether a loop of <paramref name="length"/> elements benefits from this path (at least one full vector).</summary>
        bool Supports(int length);

        /// <summary>float <paramref name="result"/> = Σ a[i]·b[i].</summary>
        void Dot(SourceWriter w, string result, string a, string b, int length);

        /// <summary>acc[i] = acc[i]·c + p·v[i]  (the online-softmax accumulator update).</summary>
        void ScaleAdd(SourceWriter w, string acc, string c, string p, string v, int length);

        /// <summary>dst[i] = src[i]·s.</summary>
        void Scale(SourceWriter w, string dst, string src, string s, int length);

        /// <summary>dst[i] = (src[i]·s)·weight[i]  (RMSNorm: normalize, then the weight multiply, two roundings as ggml).</summary>
        void ScaleMul(SourceWriter w, string dst, string src, string s, string weight, int length);
    }

    /// <summary>The reference path; always emitted, always last in a dispatch chain.</summary>
    public sealed class ScalarEmitter : IIsaEmitter
    {
        public string Name => "scalar";
        public string? Guard => null;
        public bool Supports(int length) => true;

        internal static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

        public void Dot(SourceWriter w, string result, string a, string b, int length) => DotRange(w, result, a, b, 0, length, declare: true);

        internal static void DotRange(SourceWriter w, string result, string a, string b, int from, int to, bool declare)
        {
            if (declare) w.Line("float " + result + " = 0f;");
            if (from >= to) return;
            w.Line("for (int i = " + I(from) + "; i < " + I(to) + "; i++) " + result + " += " + a + "[i] * " + b + "[i];");
        }

        public void ScaleAdd(SourceWriter w, string acc, string c, string p, string v, int length) => ScaleAddRange(w, acc, c, p, v, 0, length);

        internal static void ScaleAddRange(SourceWriter w, string acc, string c, string p, string v, int from, int to)
        {
            if (from >= to) return;
            w.Line("for (int i = " + I(from) + "; i < " + I(to) + "; i++) " + acc + "[i] = " + acc + "[i] * " + c + " + " + p + " * " + v + "[i];");
        }

        public void Scale(SourceWriter w, string dst, string src, string s, int length) => ScaleRange(w, dst, src, s, 0, length);

        internal static void ScaleRange(SourceWriter w, string dst, string src, string s, int from, int to)
        {
            if (from >= to) return;
            w.Line("for (int i = " + I(from) + "; i < " + I(to) + "; i++) " + dst + "[i] = " + src + "[i] * " + s + ";");
        }

        public void ScaleMul(SourceWriter w, string dst, string src, string s, string weight, int length) => ScaleMulRange(w, dst, src, s, weight, 0, length);

        internal static void ScaleMulRange(SourceWriter w, string dst, string src, string s, string weight, int from, int to)
        {
            if (from >= to) return;
            w.Line("for (int i = " + I(from) + "; i < " + I(to) + "; i++) " + dst + "[i] = (" + src + "[i] * " + s + ") * " + weight + "[i];");
        }
    }

    /// <summary>Portable System.Runtime.Intrinsics paths; one subclass per width so each ISA is its own emitter.</summary>
    public abstract class VectorEmitter : IIsaEmitter
    {
        private readonly int _bits;

        protected VectorEmitter(int bits) => _bits = bits;

        private string V => "Vector" + ScalarEmitter.I(_bits);
        private string VF => V + "<float>";
        private int Lanes => _bits / 32;
        private int Full(int length) => length - length % Lanes;

        public string Name => "vector" + ScalarEmitter.I(_bits);
        public string? Guard => V + ".IsHardwareAccelerated";
        public bool Supports(int length) => length >= Lanes;

        private string Step => "i += " + ScalarEmitter.I(Lanes);

        public void Dot(SourceWriter w, string result, string a, string b, int length)
        {
            int full = Full(length);
            w.Line("var acc = " + VF + ".Zero;");
            w.Line("for (int i = 0; i < " + ScalarEmitter.I(full) + "; " + Step + ") acc += " + V + ".Load(" + a + " + i) * " + V + ".Load(" + b + " + i);");
            w.Line("float " + result + " = " + V + ".Sum(acc);");
            ScalarEmitter.DotRange(w, result, a, b, full, length, declare: false);
        }

        public void ScaleAdd(SourceWriter w, string acc, string c, string p, string v, int length)
        {
            int full = Full(length);
            w.Line("var vc = " + V + ".Create(" + c + ");");
            w.Line("var vp = " + V + ".Create(" + p + ");");
            w.Line("for (int i = 0; i < " + ScalarEmitter.I(full) + "; " + Step + ") (" + V + ".Load(" + acc + " + i) * vc + vp * " + V + ".Load(" + v + " + i)).Store(" + acc + " + i);");
            ScalarEmitter.ScaleAddRange(w, acc, c, p, v, full, length);
        }

        public void Scale(SourceWriter w, string dst, string src, string s, int length)
        {
            int full = Full(length);
            w.Line("var vs = " + V + ".Create(" + s + ");");
            w.Line("for (int i = 0; i < " + ScalarEmitter.I(full) + "; " + Step + ") (" + V + ".Load(" + src + " + i) * vs).Store(" + dst + " + i);");
            ScalarEmitter.ScaleRange(w, dst, src, s, full, length);
        }

        public void ScaleMul(SourceWriter w, string dst, string src, string s, string weight, int length)
        {
            int full = Full(length);
            w.Line("var vs = " + V + ".Create(" + s + ");");
            w.Line("for (int i = 0; i < " + ScalarEmitter.I(full) + "; " + Step + ") (" + V + ".Load(" + src + " + i) * vs * " + V + ".Load(" + weight + " + i)).Store(" + dst + " + i);");
            ScalarEmitter.ScaleMulRange(w, dst, src, s, weight, full, length);
        }
    }

    public sealed class Vector512Emitter : VectorEmitter { public Vector512Emitter() : base(512) { } }

    public sealed class Vector256Emitter : VectorEmitter { public Vector256Emitter() : base(256) { } }

    public sealed class Vector128Emitter : VectorEmitter { public Vector128Emitter() : base(128) { } }

    /// <summary>Writes `if (Vector512.IsHardwareAccelerated) {…} else if (…) {…} else {scalar}` over the emitters that apply.</summary>
    public static class IsaDispatch
    {
        /// <summary>Widest first; scalar last (it always exists).</summary>
        public static readonly IIsaEmitter[] All = { new Vector512Emitter(), new Vector256Emitter(), new Vector128Emitter(), new ScalarEmitter() };

        public static void Emit(SourceWriter w, int length, Action<IIsaEmitter> body, ISet<string> used)
        {
            bool first = true;
            foreach (var isa in All)
            {
                if (isa.Guard is null)
                {
                    if (first) { w.Open(); }
                    else w.Open("else");
                    body(isa);
                    w.Close();
                    used.Add(isa.Name);
                    return;
                }
                if (!isa.Supports(length)) continue;
                w.Open((first ? "if (" : "else if (") + isa.Guard + ")");
                body(isa);
                w.Close();
                used.Add(isa.Name);
                first = false;
            }
        }
    }
}
