using System;
using Ingot.Generators.Planning;
using static Ingot.Generators.Emit.Literals;

namespace Ingot.Generators.Emit
{
    /// <summary>
    /// The dot-product code every matmul-bearing body shares: which rows kernel a weight type uses, the tiled call, and
    /// the activation fields a body reads.
    /// </summary>
    internal static class MatMulCode
    {
        /// <summary>Rows of a tile: one rows-kernel call covers up to this many weight rows (× the chunk's tokens).</summary>
        public const int RowTile = 64;

        /// <summary>
        /// The rows kernel of a weight kind (every matmul calls one for a tile of rows × the chunk's tokens; f16: the
        /// activation widened once per call; f32 and f16 run several rows × tokens per step in prefill):
        /// "VecDotRows.Q4_0Q8_0Lanes", "VecDotRows.F16F16", "VecDotRows.F32".
        /// </summary>
        public static string RowsKernel(WeightKind kind) => kind == WeightKind.Q4_0 ? "VecDotRows.Q4_0Q8_0Lanes"
            : "VecDotRows." + WeightKinds.Kernel(kind).Substring(WeightKinds.Kernel(kind).IndexOf('.') + 1) + (ReadsTiles(kind) ? "Tiles" : ReadsPairs(kind) ? "Pairs" : "");

        /// <summary>Whether the kind's rows kernel also reads the q8_0 rows in token pairs (<see cref="ActKind.Q8_0Pairs"/>).</summary>
        private static bool ReadsPairs(WeightKind kind) => WeightKinds.Needs(kind, ActKind.Q8_0Pairs);

        /// <summary>Whether the kind's rows kernel also reads the q8_K rows as AMX tiles (<see cref="ActKind.Q8_KTiles"/>).</summary>
        private static bool ReadsTiles(WeightKind kind) => WeightKinds.Needs(kind, ActKind.Q8_KTiles);

        /// <summary>VecDotRows call: y[t * yStride + i] = W[row0 + i, :] · A[t, :] for i &lt; count and every token of the chunk.</summary>
        public static string RowsCall(WeightKind kind, string weight, string row0, string count, int cols, string y, string yStride)
        {
            var act = WeightKinds.Act(kind);
            string rb = L(WeightKinds.RowBytes(kind, cols)), ab = L(WeightKinds.ActRowBytes(act, cols));
            string a = act == ActKind.F16 || act == ActKind.F32 ? "(byte*)" + WeightKinds.ActField(act) : WeightKinds.ActField(act); // Act16 is a Half*, Act32 a float*
            if (kind == WeightKind.Q4_0) a += ", " + WeightKinds.ActField(ActKind.Q8_0Lanes); // VecDotRows.Q4_0Q8_0Lanes
            if (ReadsTiles(kind)) a += ", " + WeightKinds.ActField(ActKind.Q8_KTiles); // VecDotRows.Q4_KQ8_KTiles …
            if (ReadsPairs(kind)) a += ", " + WeightKinds.ActField(ActKind.Q8_0Pairs); // VecDotRows.Q8_0Q8_0Pairs …
            return RowsKernel(kind) + "(" + weight + " + (nint)" + row0 + " * " + rb + ", " + rb + ", " + count + ", " + a + ", " + ab +
                   ", N, " + I(cols) + ", " + y + ", " + yStride + ")";
        }

        /// <summary>Rows [row0, row0 + count) of W into y (stride yStride per token) by the rows kernel.</summary>
        public static void Rows(SourceWriter w, WeightKind kind, string weight, string row0, string count, int cols, string y, string yStride) =>
            w.Line(RowsCall(kind, weight, row0, count, cols, y, yStride) + ";");

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
