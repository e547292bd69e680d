using Ingot.Generators.Planning;
using Ingot.Specs;
using static Ingot.Generators.Emit.Literals;

namespace Ingot.Generators.Emit.Steps
{
    /// <summary>
    /// Attention over the KV cache through the runtime's <c>Attention.Head</c> (llama.cpp's two-pass softmax and float
    /// order, soft-cap and window as ggml applies them), one (token, query head) per work unit (head-major in causal
    /// attention; there with GQA <see cref="HeadsPerUnit"/> query heads of one KV head per unit, <c>Attention.Heads</c>);
    /// GQA: query head h reads KV head h / HeadGroup.
    /// </summary>
    internal static class AttentionEmitter
    {
        public static void Call(SourceWriter w, AttentionStep s, EmitContext ctx)
        {
            var a = s.Attention;
            bool bias = a.RelativeBias != null;
            string biasInit = bias ? ", RelBias = _relBias, RelWidth = 2 * _context - 1, RelCenter = _context - 1" : "";
            string local = ctx.Local(a.Cross ? "cross" : "attention");
            if (!a.Causal)
            {
                if (a.Cross)
                {
                    string cross = ctx.Body(("attention-cross", bias), "CrossAttentionBody", false, (bw, name) => EncoderBody(bw, name, bias, cross: true));
                    w.Line("var " + local + " = new " + cross + " { Q = q, KCache = ckCache, VCache = cvCache, Out = att, Count = _encLength };");
                }
                else
                {
                    string all = ctx.Body(("attention-bidirectional", bias), "BidirectionalAttentionBody", false, (bw, name) => EncoderBody(bw, name, bias, cross: false));
                    w.Line("var " + local + " = new " + all + " { Q = q, KCache = kCache, VCache = vCache, Out = att, Seq = (int*)(_arena + OffSeq)" + biasInit + " };");
                }
                w.Line("pool.For(" + ctx.Rows + " * Heads, ref " + local + ");");
                return;
            }
            int perUnit = HeadsPerUnit(ctx.Plan, bias);
            string body = ctx.Body("attention", "AttentionBody", false, (bw, name) => Body(bw, name, bias, perUnit));
            w.Line("var " + local + " = new " + body + " { Q = q, KCache = kCache, VCache = vCache, KvHalf = kvHalf, KvHeadStride = kvHeadStride, Out = att, Tok = tok, N = " + ctx.Rows + ", Window = WindowOf(l)" + biasInit + " };");
            w.Line("pool.For(" + ctx.Rows + (perUnit == 1 ? " * Heads" : " * (Heads / " + I(perUnit) + ")") + ", ref " + local + ");");
        }

        /// <summary>
        /// Query heads per work unit of causal attention: query heads of one KV head, whose keys and values
        /// <c>Attention.Heads</c> reads once for all of them (GQA decode at long positions read them once per query head),
        /// as many as leave at least 4 units per token, so that a single token's attention still spreads over threads; 1
        /// without GQA or with a relative position bias (a bias row per query head).
        /// </summary>
        internal static int HeadsPerUnit(ModelPlan p, bool bias)
        {
            if (bias) return 1;
            for (int d = p.Group; d > 1; d--)
                if (p.Group % d == 0 && p.Heads / d >= 4) return d;
            return 1;
        }

        private static void BiasFields(SourceWriter w)
        {
            w.Line("public float* RelBias;  // (Heads, RelWidth) relative position bias by key − query (RelativePositionBias.Table)");
            w.Line("public int RelWidth;     // 2 · context − 1");
            w.Line("public int RelCenter;    // the column of distance 0");
        }

        /// <summary>The bias row of head h shifted so that element c is the bias of key c for a query at <paramref name="queryPos"/>.</summary>
        private static string BiasArg(bool bias, string queryPos) => bias ? ", RelBias + (nint)h * RelWidth + RelCenter - " + queryPos : "";

        private static void Body(SourceWriter w, string name, bool bias, int perUnit)
        {
            w.Line(perUnit == 1
                ? "/// <summary>Causal attention over the KV cache, one (query head, token) per work unit: token t at position p of its sequence sees that"
                : "/// <summary>Causal attention over the KV cache, " + I(perUnit) + " query heads of one KV head and a token per work unit: token t at position p of its sequence sees that");
            w.Line("/// sequence's positions [p - Window + 1, p] (all of [0, p] when Window is 0), cells from Tok[2t]. Scores: q · k, soft-capped by");
            w.Line("/// AttentionSoftcap (0 = off), times AttentionScale. Units run head by head, so a worker's consecutive queries read the");
            w.Line("/// same head's keys and values, from L2 rather than L3.</summary>");
            w.Line(ModelEmitter.GeneratedCodeAttribute);
            w.Open("private struct " + name + " : IRangeBody");
            if (perUnit > 1)
            {
                w.Line("private const int HeadsPerUnit = " + I(perUnit) + ";  // query heads of one KV head per unit: its keys and values read once for them");
                w.Line();
            }
            w.Line("public float* Q;        // (N, QDim)");
            w.Line("public void* KCache;    // (KvHeads, sequences · context, HeadDim): head-major, float or Half");
            w.Line("public void* VCache;    // (KvHeads, sequences · context, HeadDim)");
            w.Line("public bool KvHalf;     // the cache holds Half");
            w.Line("public nint KvHeadStride; // sequences · context · HeadDim");
            w.Line("public float* Out;      // (N, QDim)");
            w.Line("public int* Tok;        // (N, 2): token t's first cache cell (its sequence's) and its position");
            w.Line("public int N;           // tokens in this chunk");
            w.Line("public int Window;      // this layer's sliding window, 0 = none");
            if (bias) BiasFields(w);
            w.Line();
            w.Open("public void Run(int start, int end)");
            w.Open("for (int unit = start; unit < end; unit++)");
            w.Line(perUnit == 1 ? "int h = unit / N, t = unit % N, g = h / HeadGroup;" : "int h = unit / N * HeadsPerUnit, t = unit % N, g = h / HeadGroup;");
            w.Line("int pos = Tok[2 * t + 1];");
            w.Line("nint first = g * KvHeadStride + (nint)Tok[2 * t] * HeadDim;");
            foreach (string type in new[] { "Half", "float" })
            {
                w.Line(type == "Half" ? "if (KvHalf)" : "else");
                if (type == "Half" && !bias)
                {
                    // a prefill's tokens of one head in a row: one run, its F16 rows widened once for all its queries
                    w.Open();
                    w.Line("int run = 1;  // the following units of this head whose tokens are the sequence's next positions");
                    w.Line("while (unit + run < end && t + run < N && Tok[2 * (t + run)] == Tok[2 * t] && Tok[2 * (t + run) + 1] == pos + run) run++;");
                    w.Line("Attention.HeadsRun(Q + (nint)t * QDim + h * HeadDim, QDim, run, " + (perUnit == 1 ? "1" : "HeadsPerUnit") + ", (Half*)KCache + first, (Half*)VCache + first, HeadDim, HeadDim,");
                    w.Line("    AttentionScale, Out + (nint)t * QDim + h * HeadDim, QDim, AttentionSoftcap, Window, pos);");
                    w.Line("unit += run - 1;");
                    w.Close();
                }
                else if (perUnit == 1)
                {
                    w.Line("    Attention.Head(Q + (nint)t * QDim + h * HeadDim, (" + type + "*)KCache + first, (" + type + "*)VCache + first, HeadDim, pos + 1, HeadDim,");
                    w.Line("        AttentionScale, Out + (nint)t * QDim + h * HeadDim, AttentionSoftcap, Window, pos" + BiasArg(bias, "pos") + ");");
                }
                else
                {
                    w.Line("    Attention.Heads(Q + (nint)t * QDim + h * HeadDim, HeadsPerUnit, (" + type + "*)KCache + first, (" + type + "*)VCache + first, HeadDim, pos + 1, HeadDim,");
                    w.Line("        AttentionScale, Out + (nint)t * QDim + h * HeadDim, AttentionSoftcap, Window, pos);");
                }
            }
            w.Close();
            w.Close();
            w.Close();
        }

        /// <summary>
        /// An encoder's attention, where every query sees the tokens of its own input (K and V at cache rows Seq[2t] ..
        /// Seq[2t + 1] − 1), or (<paramref name="cross"/>) a decoder's cross-attention, where every query sees all Count
        /// encoded tokens (CK and CV rows 0 .. Count − 1).
        /// </summary>
        private static void EncoderBody(SourceWriter w, string name, bool bias, bool cross)
        {
            w.Line(cross ? "/// <summary>Cross-attention: each decoder token sees all Count encoded tokens, one (token, query head) per work unit."
                         : "/// <summary>Bidirectional attention: each token sees every token of its input, one (token, query head) per work unit.");
            w.Line("/// Scores: q · k" + (bias ? " + the relative position bias" : "") + ", soft-capped by AttentionSoftcap (0 = off), times AttentionScale.</summary>");
            w.Line(ModelEmitter.GeneratedCodeAttribute);
            w.Open("private struct " + name + " : IRangeBody");
            w.Line("public float* Q;        // (n, QDim)");
            w.Line(cross ? "public float* KCache;   // (context, KvDim): the encoded input's keys, rows 0 .. Count - 1" : "public float* KCache;   // (context, KvDim), rows 0 .. n - 1 written by this layer");
            w.Line("public float* VCache;   // (context, KvDim)");
            w.Line("public float* Out;      // (n, QDim)");
            w.Line(cross ? "public int Count;       // keys: the encoded tokens" : "public int* Seq;        // (n, 2): token t's input is rows [Seq[2t], Seq[2t + 1])");
            if (bias) BiasFields(w);
            w.Line();
            w.Open("public void Run(int start, int end)");
            w.Open("for (int unit = start; unit < end; unit++)");
            w.Line("int t = unit / Heads, h = unit % Heads, g = h / HeadGroup;");
            if (cross)
            {
                w.Line("Attention.Head(Q + (nint)t * QDim + h * HeadDim, KCache + g * HeadDim, VCache + g * HeadDim, KvDim, Count, HeadDim,");
                w.Line("    AttentionScale, Out + (nint)t * QDim + h * HeadDim, AttentionSoftcap, 0, Count - 1" + BiasArg(bias, "t") + ");");
            }
            else
            {
                w.Line("int first = Seq[2 * t], count = Seq[2 * t + 1] - first;");
                w.Line("Attention.Head(Q + (nint)t * QDim + h * HeadDim, KCache + (nint)first * KvDim + g * HeadDim, VCache + (nint)first * KvDim + g * HeadDim, KvDim, count, HeadDim,");
                w.Line("    AttentionScale, Out + (nint)t * QDim + h * HeadDim, AttentionSoftcap, 0, count - 1" + BiasArg(bias, "(t - first)") + ");");
            }
            w.Close();
            w.Close();
            w.Close();
        }

        /// <summary>The WindowOf(l) method: the window of layer l as the spec's pattern says, 0 when loaded with NoSlidingWindow.</summary>
        public static void WindowMethod(SourceWriter w, ModelPlan p)
        {
            var a = p.Spec.Attention;
            string expr;
            switch (a.SlidingWindowLayers)
            {
                case WindowLayers.All: expr = "SlidingWindow"; break;
                case WindowLayers.Even: expr = "l % 2 == 0 ? SlidingWindow : 0"; break;
                case WindowLayers.Odd: expr = "l % 2 == 1 ? SlidingWindow : 0"; break;
                default: expr = "0"; break;
            }
            w.Line("/// <summary>Layer l's sliding window (" + SpecNames.Of(a.SlidingWindowLayers) + " layers; 0 = full causal attention).</summary>");
            w.Line(ModelEmitter.GeneratedCodeAttribute);
            w.Line(a.SlidingWindowLayers == WindowLayers.None
                ? "private int WindowOf(int l) => 0;"
                : "private int WindowOf(int l) => _noSlidingWindow ? 0 : " + expr + ";");
        }

        public static string Describe(AttentionStep s, ModelPlan p)
        {
            var a = s.Attention;
            string rel = a.RelativeBias != null ? ", + relative position bias (" + I(a.RelativeBuckets) + " buckets, layer 0's attn_rel_b)" : "";
            if (a.Cross)
                return "cross-attention: every query over the encoder's keys and values (CK, CV), scale " + F(a.Scale) + " [Attention.Head (head_dim " + I(p.HeadDim) + ")]";
            if (!a.Causal)
            {
                return "attention: bidirectional over the input's tokens, two-pass softmax in llama.cpp's order, scale " + F(a.Scale) + (a.Softcap > 0 ? ", scores soft-capped at " + F(a.Softcap) : "") + rel +
                       ", GQA: query head h reads kv head h / " + I(p.Group) + " [Attention.Head (head_dim " + I(p.HeadDim) + ")]";
            }
            string window = a.Window == 0 || a.WindowLayers == WindowLayers.None ? "" : ", sliding window " + I(a.Window) + " on " + SpecNames.Of(a.WindowLayers) + " layers";
            int perUnit = HeadsPerUnit(p, a.RelativeBias != null);
            return "attention: causal over the cache, two-pass softmax in llama.cpp's order, scale " + F(a.Scale) + (a.Softcap > 0 ? ", scores soft-capped at " + F(a.Softcap) : "") + window + rel +
                   ", GQA: query head h reads kv head h / " + I(p.Group) +
                   (perUnit == 1 ? " [Attention.Head (head_dim " + I(p.HeadDim) + ")]" : " [Attention.Heads (" + I(perUnit) + " query heads per call, head_dim " + I(p.HeadDim) + ")]");
        }
    }
}
