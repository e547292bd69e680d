using System;
using System.Collections.Generic;
using Ingot.Generators.Planning;
using Ingot.Specs;
using static Ingot.Generators.Emit.Literals;

namespace Ingot.Generators.Emit
{
    /// <summary>
    /// NAME.Model.g.cs: the compiled shapes as constants, the static buffer plan (one arena, offsets in bytes, sized for
    /// MaxBatch tokens), the weight pointers, and Load, which checks the file against the spec and binds every tensor.
    /// </summary>
    internal static class ModelFileEmitter
    {
        public static void Emit(SourceWriter w, TargetClass target, EmitContext ctx, bool nested)
        {
            var p = ctx.Plan;
            var s = p.Spec;
            w.Line("// ── Compiled shapes ──");
            w.Line("public const string SpecName = " + Str(target.SpecName) + ";");
            w.Line("public const string Architecture = " + Str(s.Architecture) + ";");
            w.Line("public const int Dim = " + I(p.Dim) + ";                // residual stream width");
            w.Line("public const int Layers = " + I(p.Layers) + ";");
            w.Line("public const int Heads = " + I(p.Heads) + ";              // query heads");
            w.Line("public const int KvHeads = " + I(p.KvHeads) + ";            // key/value heads");
            w.Line("public const int HeadDim = " + I(p.HeadDim) + ";");
            w.Line("public const int QDim = " + I(p.QDim) + ";               // Heads * HeadDim");
            w.Line("public const int KvDim = " + I(p.KvDim) + ";              // KvHeads * HeadDim");
            w.Line("public const int HeadGroup = " + I(p.Group) + ";          // query heads per KV head (GQA)");
            w.Line("public const int FfnDim = " + I(p.FfnDim) + ";");
            w.Line("public const int VocabSize = " + I(p.VocabSize) + ";");
            w.Line("public const int ContextLength = " + I(p.ContextLength) + ";      // trained context (the default KV capacity)");
            w.Line("public const float NormEps = " + F(s.Norm.Epsilon) + ";      // " + SpecNames.Of(s.Norm.Kind) + " epsilon");
            if (p.HasRope)
            {
                w.Line("public const int RopeDims = " + I(p.RopeDims) + ";          // rotated dims per head (" + SpecNames.Of(s.Rope.Kind).ToUpperInvariant() + ")");
                w.Line("public const float RopeTheta = " + F(s.Rope.Theta) + ";");
            }
            var att = AttentionOf(p);
            w.Line("public const float AttentionScale = " + F(att?.Scale ?? 1f) + ";   // times the (soft-capped) score");
            w.Line("public const float AttentionSoftcap = " + F(att?.Softcap ?? 0f) + ";  // 0 = off");
            w.Line("public const int SlidingWindow = " + I(s.Attention.SlidingWindowLayers == WindowLayers.None ? 0 : s.Attention.SlidingWindow) + ";      // on " +
                   SpecNames.Of(s.Attention.SlidingWindowLayers) + " layers; 0 = none");
            if (s.Embedding.Scale != 1f) w.Line("public const float EmbeddingScale = " + F(s.Embedding.Scale) + ";");
            var rel = RelativeBiasOf(p);
            if (rel != null) w.Line("public const int RelativeBuckets = " + I(rel.RelativeBuckets) + ";   // T5's relative position buckets (" + (p.IsEncoder ? "bidirectional" : "causal") + ")");
            w.Line("public const int MaxBatch = " + I(p.MaxBatch) + (p.IsEncoder ? ";          // the whole input is one chunk" : ";          // tokens per prefill chunk"));
            w.Line("public const long ParameterCount = " + L(ParameterCount(p)) + ";");
            w.Line();
            Arena(w, p);
            Weights(w, p);
            w.Line("private GgufFile? _weights;");
            w.Line("private WorkerPool? _pool;");
            w.Line(p.IsEncoder ? "private KvCache? _kv;          // this input's K and V, per layer" : "private KvCache? _kv;");
            w.Line("private byte* _arena;        // ArenaBytes, see the buffer plan");
            if (p.HasRope) w.Line("private RopeTable? _rope;     // cos/sin per (position, pair)");
            if (rel != null)
            {
                w.Line("private float[] _relBiasTable = Array.Empty<float>();  // pinned: (Heads, 2 · context − 1) bias by key − query");
                w.Line("private float* _relBias;");
            }
            if (p.Encoder != null)
            {
                w.Line("private " + ModelEmitter.EncoderStackClass + "? _encoder;  // the encoder stack (enc.*)");
                w.Line("private KvCache? _cross;        // per decoder layer: the cross-attention keys and values of the encoded input");
                w.Line("private float* _encoded;        // (encoder tokens, Dim) the encoder's output");
                w.Line("private int _encLength;         // tokens encoded; 0 = none yet");
                w.Line("private bool[] _crossPending = Array.Empty<bool>();  // per layer: cross keys/values not yet computed for this input");
                w.Line("private int _decoderStart;      // decoder_start_token_id");
            }
            w.Line("private bool _noSlidingWindow;  // InferenceOptions.NoSlidingWindow: full attention on every layer (llama.cpp's llama)");
            w.Line("private int _context;");
            if (!p.IsEncoder)
            {
                w.Line("private SequenceRuns? _runs;     // each sequence's position; sequence s owns cache cells [s · _context, (s + 1) · _context)");
                w.Line("private bool _cellsInOrder;     // this chunk's tokens fill consecutive cache cells: keys and values go straight into the cache");
            }
            w.Line("private long _weightBytes;");
            w.Line();
            w.Line("public const string SpecJson =");
            w.Indent();
            var lines = SpecWriter.Write(s).TrimEnd('\n').Split('\n');
            for (int i = 0; i < lines.Length; i++) w.Line(Str(lines[i] + "\n") + (i == lines.Length - 1 ? ";" : " +"));
            w.Outdent();
            w.Line();
            w.Line("/// <summary>Vector widths the kernels are compiled for, widest first, and the one this machine runs.</summary>");
            w.Line("public static readonly string[] IsaPathsCompiled = IsaPaths.Compiled;");
            w.Line();
            w.Line("public static string IsaPathInUse => IsaPaths.InUse;");
            w.Line();
            w.Line("public ModelDescription Description => new ModelDescription(SpecName, Architecture, SpecJson, VocabSize, ContextLength, ParameterCount, IsaPathsCompiled, IsaPathInUse);");
            w.Line();
            if (p.IsEncoder)
            {
                w.Line("public int HiddenSize => Dim;");
                w.Line();
                w.Line("/// <summary>The longest input after Load: the loaded context, within the compiled buffer plan.</summary>");
                w.Line("public int MaxTokens => Math.Min(_context, MaxBatch);");
                w.Line();
                w.Line("public Ingot.Specs.PoolingKind Pooling => Ingot.Specs.PoolingKind." + p.Spec.Output.Pooling + ";");
                w.Line();
                w.Line("/// <summary>Scores the head gives per input (0 = no head).</summary>");
                w.Line("public const int HeadOutputs = " + I(HeadOutputs(p)) + ";");
                w.Line();
                w.Line("int IEncoder.ScoreCount => HeadOutputs;");
                w.Line();
                bool perToken = HeadOutputs(p) > 0 && p.Spec.Output.Pooling != PoolingKind.Rank;
                w.Line("/// <summary>" + (perToken ? "The head scores every token (a token classifier): scores are tokens × HeadOutputs." : "The head scores the input once (its CLS row).") + "</summary>");
                w.Line("public bool TokenScores => " + (perToken ? "true" : "false") + ";");
                w.Line();
            }
            else
            {
                w.Line("int ICompiledModel.VocabSize => VocabSize;");
                w.Line();
                w.Line("public int ContextSize => _context;");
                w.Line();
                w.Line("public int Position => _runs?.PositionOf(0) ?? 0;");
                w.Line();
                w.Line("/// <summary>Sequences the KV cache holds (InferenceOptions.Sequences).</summary>");
                w.Line("public int Sequences => _runs?.Count ?? 1;");
                w.Line();
                w.Line("public int PositionOf(int sequence) => (_runs ?? throw new InvalidOperationException(\"Load must be called first\")).PositionOf(sequence);");
                w.Line();
            }
            w.Line("public long WeightBytes => _weightBytes;");
            w.Line();
            LoadEmitter.Emit(w, p, nested);
            if (AppApiEmitter.Applies(p, nested)) AppApiEmitter.Emit(w, p, target.ClassName);
        }

        /// <summary>The rows of the matmul that writes the logits buffer (an encoder's head), 0 without one.</summary>
        internal static int HeadOutputs(ModelPlan p)
        {
            foreach (var s in p.Epilogue)
                if (s is MatMulStep { To: Buf.Logits } m) return m.Linear.Rows;
            return 0;
        }

        internal static AttentionOp? AttentionOf(ModelPlan p)
        {
            foreach (var k in p.LayerKinds)
                foreach (var s in k.Steps)
                    if (s is AttentionStep a && !a.Attention.Cross) return a.Attention;
            return null;
        }

        /// <summary>The self-attention with a relative position bias (T5), or null.</summary>
        internal static AttentionOp? RelativeBiasOf(ModelPlan p) => AttentionOf(p) is { RelativeBias: not null } a ? a : null;

        /// <summary>The buffers a step reads or writes (the KV cache excluded).</summary>
        internal static IEnumerable<Buf> BuffersOf(Step s)
        {
            switch (s)
            {
                case EmbedStep e: yield return e.Embed.Target; break;
                case RowPrepStep r: yield return r.From; yield return r.To; break;
                case QkvStep q: yield return q.Q.From; yield return Buf.Q; break;
                case AttentionStep _: yield return Buf.Q; yield return Buf.Att; break;
                case MatMulStep m: yield return m.Linear.From; yield return m.To; if (m.Then != null) yield return m.Then.Value; break;
                case GateUpStep g: yield return g.Up.From; yield return g.To; break;
                case NormAddStep n: yield return n.Norm.From; yield return n.Target; break;
            }
        }

        private static IEnumerable<Step> AllSteps(ModelPlan p)
        {
            foreach (var s in p.Prologue) yield return s;
            foreach (var k in p.LayerKinds) foreach (var s in k.Steps) yield return s;
            foreach (var s in p.Epilogue) yield return s;
        }

        private static void Arena(SourceWriter w, ModelPlan p)
        {
            var bufs = new SortedSet<Buf>();
            var acts = new List<ActKind>();
            int maxAct = p.Dim;
            foreach (var s in AllSteps(p))
            {
                foreach (var b in BuffersOf(s)) bufs.Add(b);
                if (s is CrossKvStep c) foreach (var a in c.Acts) if (!acts.Contains(a)) acts.Add(a);
                if (s is RowPrepStep r)
                {
                    maxAct = Math.Max(maxAct, r.Width);
                    foreach (var a in r.Acts) if (!acts.Contains(a)) acts.Add(a);
                }
            }
            w.Line("// ── Static buffer plan: one 64-byte aligned arena, offsets in bytes, sized for MaxBatch tokens ──");
            long off = 0;
            void Buffer(string name, long bytes, string shape)
            {
                w.Line("private const long Off" + name + " = " + L(off) + ";  // " + shape + ", " + L(bytes) + " bytes");
                off += (bytes + 63) / 64 * 64;
            }
            long mb = p.MaxBatch;
            foreach (var b in bufs)
            {
                switch (b)
                {
                    case Buf.X: Buffer("X", 4 * mb * p.Dim, "float (MaxBatch, Dim): residual stream"); break;
                    case Buf.Xn: Buffer("Xn", 4 * mb * maxAct, "float (MaxBatch, " + I(maxAct) + "): normalized activation / matmul input"); break;
                    case Buf.Q: Buffer("Q", 4 * mb * p.QDim, "float (MaxBatch, QDim): rotated queries"); break;
                    case Buf.Att: Buffer("Att", 4 * mb * p.QDim, "float (MaxBatch, QDim): attention output"); break;
                    case Buf.Hb: Buffer("Hb", 4 * mb * p.FfnDim, "float (MaxBatch, FfnDim): the FFN's hidden activation"); break;
                    case Buf.T: Buffer("T", 4 * mb * p.Dim, "float (MaxBatch, Dim): a sublayer output held for a post-norm or the parallel residual"); break;
                }
            }
            if (p.IsEncoder) Buffer("Seq", 8 * mb, "int (MaxBatch, 2): each token's input as rows [start, end) of the batch");
            else
            {
                Buffer("Tok", 8 * mb, "int (MaxBatch, 2): each token's first cache cell (its sequence's) and its position");
                Buffer("Wanted", 4 * mb, "int (MaxBatch): the rows whose logits are wanted, increasing");
                Buffer("KRows", 4 * mb * p.KvDim, "float (MaxBatch, KvDim): keys of a chunk whose cells are not consecutive, scattered after");
                Buffer("VRows", 4 * mb * p.KvDim, "float (MaxBatch, KvDim): their values");
            }
            foreach (var a in Planner.ConversionOrder)
            {
                if (!acts.Contains(a)) continue;
                long row = WeightKinds.ActRowBytes(a, maxAct) + (a == ActKind.Q8_K ? 292 : a is ActKind.Q8_0 ? 34 : a is ActKind.Q8_1 ? 36 : 0);
                long rows = a == ActKind.Q8_0Lanes ? (mb + 7) / 8 * 8 : a == ActKind.Q8_KTiles ? (mb + 15) / 16 * 16 : mb; // whole groups of 8 / tiles of 16 tokens (pairs: an odd last token is left out)
                Buffer(WeightKinds.ActField(a), row * rows, a == ActKind.Q8_0Lanes ? "the q8_0 rows in token lanes (MaxBatch rounded up to groups of 8, " + I(maxAct) + "): q4_0 weights' GEMM"
                                                          : a == ActKind.Q8_KTiles ? "the q8_K rows as AMX tiles (MaxBatch rounded up to tiles of 16, " + I(maxAct) + "): q4_K/q5_K/q6_K weights on AMX"
                                                          : a == ActKind.Q8_0Pairs ? "the q8_0 rows in token pairs (MaxBatch, " + I(maxAct) + "): q8_0/q5_0/iq4_nl weights' machine code"
                                                                                     : WeightKinds.ActName(a) + " (MaxBatch, " + I(maxAct) + "): activation rows for " + WeightKinds.ActName(a) + "-partnered weights");
            }
            w.Line("private const long ArenaBytes = " + L(off) + ";");
            w.Line();
        }

        private static void Weights(SourceWriter w, ModelPlan p)
        {
            w.Line("/// <summary>Weight pointers of one layer (into the memory-mapped file), bound once in Load.</summary>");
            w.Open("private struct LayerWeights");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var k in p.LayerKinds)
            {
                foreach (var t in k.Weights)
                {
                    if (!seen.Add(t.Field)) continue;
                    w.Line("public " + (t.IsVector ? "float*" : "byte*") + " " + t.Field + ";  // " + t.TensorName("N") + " " + Shape(t));
                }
            }
            w.Close();
            w.Line();
            w.Line("private LayerWeights[] _layers = Array.Empty<LayerWeights>();");
            foreach (var t in p.Globals)
            {
                if (t.Name == "output.weight") continue; // _output below
                w.Line("private " + (t.IsVector ? "float*" : "byte*") + " " + EmitContext.GlobalField(t.Field) + ";  // " + t.TensorName("") + " " + Shape(t));
            }
            if (!p.IsEncoder) w.Line("private byte* _output;  // (VocabSize, Dim) the output matrix" + (p.Spec.Output.Tied ? " = token_embd (tied)" : ""));
        }

        internal static string Shape(WeightRef t) => t.IsVector ? "(" + I(t.Cols) + ") f32" : "(" + I(t.Rows) + ", " + I(t.Cols) + ") " + WeightKinds.Name(t.Kind);

        private static long ParameterCount(ModelPlan p)
        {
            long n = 0;
            foreach (var t in p.Globals) n += t.IsVector ? t.Cols : (long)t.Rows * t.Cols;
            foreach (var k in p.LayerKinds)
                foreach (var t in k.Weights) n += k.Layers.Count * (t.IsVector ? t.Cols : (long)t.Rows * t.Cols);
            return n;
        }

        internal static string LayerCondition(EquatableArray<int> layers, int total)
        {
            if (layers.Count == total) return "true";
            var parts = new List<string>();
            foreach (var l in layers) parts.Add("l == " + I(l));
            return string.Join(" || ", parts);
        }
    }
}
