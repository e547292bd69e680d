using System;
using Ingot.Generators.Planning;
using static Ingot.Generators.Emit.Literals;

namespace Ingot.Generators.Emit
{
    /// <summary>
    /// The dot-product code every matmul-bearing body shares: which kernel a weight type uses, the per-row dot for f32/f16
    /// weights, the tiled rows-kernel call for the others, and the activation fields a body reads.
    /// </summary>
    internal static class MatMulCode
    {
        /// <summary>Rows of a tile: one rows-kernel call covers up to this many weight rows (× the chunk's tokens).</summary>
        public const int RowTile = 64;

        /// <summary>
        /// Quantized, bf16 and f16 weights go through a rows kernel (VecDotRows.*): a tile of rows × the chunk's tokens per
        /// call (f16: the activation widened once per call, not once per row).
        /// </summary>
        public static bool Tiled(WeightKind kind) => kind != WeightKind.F32;

        /// <summary>The rows kernel of a tiled weight kind: "VecDotRows.Q4_0Q8_0", "VecDotRows.F16F16".</summary>
        public static string RowsKernel(WeightKind kind) => kind == WeightKind.Q4_0 ? "VecDotRows.Q4_0Q8_0Lanes"
            : "VecDotRows." + WeightKinds.Kernel(kind).Substring(WeightKinds.Kernel(kind).IndexOf('.') + 1) + (ReadsTiles(kind) ? "Tiles" : ReadsPairs(kind) ? "Pairs" : "");

        /// <summary>Whether the kind's rows kernel also reads the q8_0 rows in token pairs (<see cref="ActKind.Q8_0Pairs"/>).</summary>
        private static bool ReadsPairs(WeightKind kind) => WeightKinds.Needs(kind, ActKind.Q8_0Pairs);

        /// <summary>Whether the kind's rows kernel also reads the q8_K rows as AMX tiles (<see cref="ActKind.Q8_KTiles"/>).</summary>
        private static bool ReadsTiles(WeightKind kind) => WeightKinds.Needs(kind, ActKind.Q8_KTiles);

        /// <summary>The dot product of weight row <paramref name="row"/> with activation row <paramref name="tok"/> (cols a constant).</summary>
        public static string DotExpr(WeightKind kind, string weight, string row, int cols, string tok)
        {
            string c = I(cols);
            switch (kind)
            {
                case WeightKind.F32:
                    return "Dot.F32((float*)" + weight + " + (nint)" + row + " * " + c + ", Act32 + (nint)" + tok + " * " + c + ", " + c + ")";
                case WeightKind.F16:
                    return "Dot.F16F16((Half*)" + weight + " + (nint)" + row + " * " + c + ", Act16 + (nint)" + tok + " * " + c + ", " + c + ")";
                default:
                    var act = WeightKinds.Act(kind);
                    string rb = L(WeightKinds.RowBytes(kind, cols)), ab = L(WeightKinds.ActRowBytes(act, cols));
                    return WeightKinds.Kernel(kind) + "(" + weight + " + (nint)" + row + " * " + rb + ", " + WeightKinds.ActField(act) + " + (nint)" + tok + " * " + ab + ", " + c + ")";
            }
        }

        /// <summary>VecDotRows call: y[t * yStride + i] = W[row0 + i, :] · A[t, :] for i &lt; count and every token of the chunk.</summary>
        public static string RowsCall(WeightKind kind, string weight, string row0, string count, int cols, string y, string yStride)
        {
            var act = WeightKinds.Act(kind);
            string rb = L(WeightKinds.RowBytes(kind, cols)), ab = L(WeightKinds.ActRowBytes(act, cols));
            string a = act == ActKind.F16 ? "(byte*)" + WeightKinds.ActField(act) : WeightKinds.ActField(act); // Act16 is a Half*
            if (kind == WeightKind.Q4_0) a += ", " + WeightKinds.ActField(ActKind.Q8_0Lanes); // VecDotRows.Q4_0Q8_0Lanes
            if (ReadsTiles(kind)) a += ", " + WeightKinds.ActField(ActKind.Q8_KTiles); // VecDotRows.Q4_KQ8_KTiles …
            if (ReadsPairs(kind)) a += ", " + WeightKinds.ActField(ActKind.Q8_0Pairs); // VecDotRows.Q8_0Q8_0Pairs …
            return RowsKernel(kind) + "(" + weight + " + (nint)" + row0 + " * " + rb + ", " + rb + ", " + count + ", " + a + ", " + ab +
                   ", N, " + I(cols) + ", " + y + ", " + yStride + ")";
        }

        /// <summary>
        /// Rows [row0, row0 + count) of W into y (stride yStride per token), either by the rows kernel or by per-row dots.
        /// </summary>
        public static void Rows(SourceWriter w, WeightKind kind, string weight, string row0, string count, int cols, string y, string yStride)
        {
            if (Tiled(kind))
            {
                w.Line(RowsCall(kind, weight, row0, count, cols, y, yStride) + ";");
                return;
            }
            w.Line("for (int r = 0; r < " + count + "; r++)");
            w.Line("    for (int t = 0; t < N; t++) (" + y + ")[(nint)t * " + yStride + " + r] = " + DotExpr(kind, weight, "(" + row0 + " + r)", cols, "t") + ";");
        }

        /// <summary>The activation fields a body reads: only the forms its weight kinds consume.</summary>
        public static void ActFields(SourceWriter w, params WeightKind[] kinds)
        {
            w.Line("public float* Act32;  // (N, cols) f32 activation");
            bool Uses(ActKind a) => Array.Exists(kinds, k => WeightKinds.Needs(k, a));
            if (Uses(ActKind.F16)) w.Line("public Half* Act16;   // (N, cols) activation rounded to f16 (f16 weights)");
            if (Uses(ActKind.Q8_0)) w.Line("public byte* Act8;    // (N, cols / 32 * 34) activation quantized to q8_0");
            if (Uses(ActKind.Q8_1)) w.Line("public byte* Act81;   // (N, cols / 32 * 36) activation quantized to q8_1 (q4_1/q5_1 weights)");
            if (Uses(ActKind.Q8_K)) w.Line("public byte* Act8K;   // (N, cols / 256 * 292) activation quantized to q8_K (K-quant/iq4_xs weights)");
            if (Uses(ActKind.BF16)) w.Line("public byte* ActBf16; // (N, cols * 2) activation rounded to bf16 (bf16 weights)");
            if (Uses(ActKind.Q8_0Lanes)) w.Line("public byte* ActLanes8; // Act8 prepared for the q4_0 GEMM from 8 tokens: tokens in the vector lanes (AVX), or the scales table (AMX)");
            if (Uses(ActKind.Q8_KTiles)) w.Line("public byte* ActTiles8K; // Act8K prepared as AMX tiles for the K-quant GEMM from 32 tokens");
            if (Uses(ActKind.Q8_0Pairs)) w.Line("public byte* ActPairs8; // Act8 prepared in token pairs for the q8_0 machine code from 2 tokens");
            w.Line("public int N;         // tokens in this chunk");
        }

        /// <summary>The initializer part that points a body at its input rows and their converted forms.</summary>
        public static string ActInit(string input, params WeightKind[] kinds)
        {
            var sb = new System.Text.StringBuilder("Act32 = " + input);
            foreach (var a in Planner.ConversionOrder)
            {
                if (Array.Exists(kinds, k => WeightKinds.Needs(k, a))) sb.Append(", " + WeightKinds.ActField(a) + " = " + Local(a));
            }
            return sb.ToString();
        }

        /// <summary>The local variable an activation buffer is held in ("act8", "act8K", …).</summary>
        public static string Local(ActKind a) => "act" + WeightKinds.ActField(a).Substring(3);

        /// <summary>Bytes one row of weights occupies.</summary>
        public static string RowBytes(WeightRef w) => L(WeightKinds.RowBytes(w.Kind, w.Cols));
    }
}
