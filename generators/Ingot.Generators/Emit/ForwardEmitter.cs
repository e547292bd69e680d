using System.Collections.Generic;
using Ingot.Generators.Emit.Steps;
using Ingot.Generators.Planning;
using static Ingot.Generators.Emit.Literals;

namespace Ingot.Generators.Emit
{
    /// <summary>
    /// NAME.Forward.g.cs: Prefill (chunks of MaxBatch tokens), Decode (a chunk of one), RunChunk (the prologue steps, one
    /// call per layer, the epilogue steps for the rows whose logits are wanted) and one method per layer kind that walks
    /// its steps through their emitters.
    /// </summary>
    internal static class ForwardEmitter
    {
        public static void Emit(SourceWriter w, EmitContext ctx)
        {
            var p = ctx.Plan;
            string gc = ModelEmitter.GeneratedCodeAttribute;
            w.Line(gc);
            w.Line("private float* Buf(long offset) => (float*)(_arena + offset);");
            w.Line();
            if (p.IsEncoder)
            {
                EncoderEntry.Encode(w);
                w.Line("/// <summary>n ≤ MaxBatch tokens of <paramref name=\"inputs\"/> inputs back to back (the Seq table holds each token's input); hidden receives the last layer's x (n, Dim)" +
                       (p.Epilogue.Count > 0 ? ", logits (when not null) the head's scores" : "") + ".</summary>");
                w.Line(gc);
                w.Open("private void RunChunk(int* tokens, int n, int inputs, float* hidden, float* logits)");
            }
            else
            {
                if (p.Encoder != null) EncoderEntry.EncodeForDecoder(w);
                PrefillAndDecode(w, p.Encoder != null);
                w.Line("/// <summary>n ≤ MaxBatch tokens at the cells and positions of the Tok table; logits receives the wanted rows' (the Wanted table).</summary>");
                w.Line(gc);
                w.Open("private void RunChunk(int* tokens, int n, float* logits, int wanted)");
            }
            w.Line("float* x = Buf(OffX);  // (n, Dim)");
            if (p.IsEncoder) w.Line("int* seq = (int*)(_arena + OffSeq);  // (n, 2): token t's input is rows [seq[2t], seq[2t + 1])");
            else w.Line("int* tok = (int*)(_arena + OffTok);  // (n, 2): token t's first cache cell (its sequence's) and its position");
            Locals(w, p.Prologue, p);
            w.Line("var pool = _pool!;");
            ctx.ResetLocals();
            foreach (var s in p.Prologue) StepEmitters.Call(w, s, ctx);
            w.Open("for (int l = 0; l < Layers; l++)");
            if (p.LayerKinds.Count == 1) w.Line("Layer0(l, n);");
            else
            {
                for (int k = 0; k < p.LayerKinds.Count; k++)
                {
                    var kind = p.LayerKinds[k];
                    if (k == p.LayerKinds.Count - 1) w.Line("else Layer" + I(kind.Index) + "(l, n);");
                    else w.Line((k == 0 ? "if (" : "else if (") + ModelFileEmitter.LayerCondition(kind.Layers, p.Layers) + ") Layer" + I(kind.Index) + "(l, n);");
                }
            }
            w.Close();
            if (p.IsEncoder)
            {
                // The stack's final norm (T5's enc.output_norm) on every row; a head reads the CLS row after.
                var head = new List<Step>();
                foreach (var s in p.Epilogue)
                {
                    if (s is RowPrepStep { Norm: not null, To: Buf.X } && head.Count == 0) StepEmitters.Call(w, s, ctx);
                    else head.Add(s);
                }
                w.Line("Buffer.MemoryCopy(x, hidden, (long)n * Dim * sizeof(float), (long)n * Dim * sizeof(float));");
                if (head.Count > 0)
                {
                    w.Open("if (logits != null)");
                    bool perToken = p.Spec.Output.Pooling != Specs.PoolingKind.Rank;
                    if (perToken)
                    {
                        w.Line("// The token classifier reads every row.");
                        w.Line("int rows = n;");
                    }
                    else
                    {
                        w.Line("// The head reads each input's CLS row (its first), gathered to rows 0 .. inputs − 1 (hidden holds x already).");
                        w.Line("int rows = inputs;");
                        w.Line("for (int s = 0, t = 0; s < inputs; t = seq[2 * t + 1], s++)");
                        w.Line("    if (t != s) Buffer.MemoryCopy(x + (nint)t * Dim, x + (nint)s * Dim, Dim * sizeof(float), Dim * sizeof(float));");
                    }
                    Locals(w, head, ctx.Plan);
                    ctx.Rows = "rows";
                    foreach (var s in head) StepEmitters.Call(w, s, ctx);
                    ctx.Rows = "n";
                    w.Close();
                }
                w.Close();
                w.Line();
                Methods(w, ctx);
                return;
            }
            w.Open("if (wanted > 0)");
            w.Line("// The final norm only for the rows whose logits are wanted, then the output projection over VocabSize rows. The");
            w.Line("// rows (increasing) are moved to the front of x unless they are consecutive already (one run's, or every row).");
            w.Line("int* rowsWanted = (int*)(_arena + OffWanted);");
            w.Line("int first = rowsWanted[0], rows = wanted;");
            w.Open("if (rowsWanted[rows - 1] - first != rows - 1)");
            w.Line("for (int i = 0; i < rows; i++)");
            w.Line("    if (rowsWanted[i] != i) Buffer.MemoryCopy(x + (nint)rowsWanted[i] * Dim, x + (nint)i * Dim, Dim * sizeof(float), Dim * sizeof(float));");
            w.Line("first = 0;");
            w.Close();
            w.Line("float* xLast = x + (nint)first * Dim;");
            Locals(w, p.Epilogue, ctx.Plan);
            ctx.Rows = "rows";
            ctx.XVar = "xLast";
            foreach (var s in p.Epilogue) StepEmitters.Call(w, s, ctx);
            ctx.Rows = "n";
            ctx.XVar = "x";
            w.Close();
            w.Close();
            w.Line();
            Methods(w, ctx);
        }

        /// <summary>The embedding row method, WindowOf and one method per layer kind.</summary>
        private static void Methods(SourceWriter w, EmitContext ctx)
        {
            var p = ctx.Plan;
            string gc = ModelEmitter.GeneratedCodeAttribute;
            foreach (var s in p.Prologue)
            {
                if (s is EmbedStep e)
                {
                    EmbedEmitter.Method(w, e);
                    w.Line();
                }
            }
            AttentionEmitter.WindowMethod(w, p);
            w.Line();

            foreach (var k in p.LayerKinds)
            {
                w.Line("/// <summary>Layers " + Ranges(k.Layers) + ": one block over the chunk's n tokens.</summary>");
                w.Line(gc);
                w.Open("private void Layer" + I(k.Index) + "(int l, int n)");
                w.Line("ref LayerWeights lw = ref _layers[l];");
                w.Line("float* x = Buf(OffX);");
                Locals(w, k.Steps, p);
                if (p.IsEncoder) w.Line("float* kCache = _kv!.K(l), vCache = _kv.V(l);");
                else
                {
                    w.Line("bool kvHalf = _kv!.Type == KvCacheType.F16;  // F16 elements: written through the K/V rows, widened by attention");
                    w.Line("void* kCache = _kv.Keys(l), vCache = _kv.Values(l);");
                    w.Line("nint kvHeadStride = (nint)_kv.Context * HeadDim;  // the cache is head-major: KV head g's cells at g · kvHeadStride, HeadDim apart");
                    w.Line("bool direct = _cellsInOrder && !kvHalf;  // keys and values straight into an F32 cache: the chunk fills consecutive cells");
                    w.Line("int* tok = (int*)(_arena + OffTok);  // (n, 2): token t's first cache cell (its sequence's) and its position");
                    w.Line("float* kRows = Buf(OffKRows), vRows = Buf(OffVRows);");
                }
                if (p.Encoder != null) w.Line("float* ckCache = _cross!.K(l), cvCache = _cross.V(l);  // this layer's cross-attention keys and values");
                w.Line("var pool = _pool!;");
                ctx.ResetLocals();
                foreach (var s in k.Steps)
                {
                    w.Line();
                    w.Line("// " + StepEmitters.Describe(s, p));
                    StepEmitters.Call(w, s, ctx);
                }
                w.Close();
                w.Line();
            }
        }

        /// <summary>The arena buffers and activation forms the steps of one method read or write, as locals.</summary>
        private static void Locals(SourceWriter w, IEnumerable<Step> steps, ModelPlan p)
        {
            var bufs = new SortedSet<Buf>();
            var acts = new List<ActKind>();
            foreach (var s in steps)
            {
                foreach (var b in ModelFileEmitter.BuffersOf(s)) bufs.Add(b);
                if (s is RowPrepStep r) foreach (var a in r.Acts) if (!acts.Contains(a)) acts.Add(a);
                if (s is CrossKvStep c) foreach (var a in c.Acts) if (!acts.Contains(a)) acts.Add(a);
            }
            var ptrs = new List<string>();
            foreach (var b in bufs)
            {
                if (b is Buf.X or Buf.Logits) continue;
                ptrs.Add(VarOf(b) + " = Buf(Off" + b + ")");
            }
            if (ptrs.Count > 0) w.Line("float* " + string.Join(", ", ptrs) + ";");
            foreach (var a in Planner.ConversionOrder)
            {
                if (!acts.Contains(a)) continue;
                string type = a == ActKind.F16 ? "Half*" : "byte*";
                w.Line(type + " " + MatMulCode.Local(a) + " = (" + type + ")(_arena + Off" + WeightKinds.ActField(a) + ");  // " + WeightKinds.ActName(a) + " activation rows");
            }
        }

        private static string VarOf(Buf b) => b switch
        {
            Buf.Xn => "xn",
            Buf.Q => "q",
            Buf.Att => "att",
            Buf.Hb => "hb",
            Buf.T => "tmp",
            _ => b.ToString().ToLowerInvariant(),
        };

        private static void PrefillAndDecode(SourceWriter w, bool crossAttends)
        {
            string gc = ModelEmitter.GeneratedCodeAttribute;
            w.Line("/// <summary>Runs tokens of sequence 0 at Position.. in chunks of MaxBatch; logits gets the last row (VocabSize) or every row (tokens × VocabSize).</summary>");
            w.Line(gc);
            w.Open("public void Prefill(ReadOnlySpan<int> tokens, Span<float> logits)");
            w.Line("int length = tokens.Length, sequence = 0;");
            w.Line("Prefill(tokens, new ReadOnlySpan<int>(ref length), new ReadOnlySpan<int>(ref sequence), logits);");
            w.Close();
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Runs of several sequences as one batch, in chunks of MaxBatch: run i is lengths[i] tokens of sequence sequences[i] at its");
            w.Line("/// next positions. logits: each run's last row (runs × VocabSize), or, for one run, every row (tokens × VocabSize).");
            w.Line("/// </summary>");
            w.Line(gc);
            w.Open("public void Prefill(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, ReadOnlySpan<int> sequences, Span<float> logits)");
            w.Line("if (_arena == null || _runs == null) throw new InvalidOperationException(\"Load must be called before Prefill\");");
            if (crossAttends) w.Line("if (_encLength == 0) throw new InvalidOperationException(\"Encode an input before decoding: the decoder attends to the encoder's output\");");
            w.Line("bool allRows = _runs.Check(tokens, lengths, sequences, logits.Length, VocabSize);");
            w.Line("var cursor = new SequenceRuns.Cursor();");
            w.Line("int* tok = (int*)(_arena + OffTok), wanted = (int*)(_arena + OffWanted);");
            w.Line("fixed (int* tp = tokens)");
            w.Line("fixed (float* lp = logits)");
            w.Open();
            w.Open("for (int c = 0, row = 0; c < tokens.Length; c += MaxBatch)");
            w.Line("int n = Math.Min(MaxBatch, tokens.Length - c);");
            w.Line("int count = _runs.Fill(ref cursor, lengths, sequences, n, allRows, tok, wanted, out _cellsInOrder);");
            w.Line("RunChunk(tp + c, n, lp + (nint)row * VocabSize, count);");
            w.Line("row += count;");
            w.Close();
            w.Close();
            w.Line("_runs.Advance(lengths, sequences);");
            w.Close();
            w.Line();
            w.Line("/// <summary>One token at Position (the same code path as a chunk of one).</summary>");
            w.Line(gc);
            w.Open("public void Decode(int token, Span<float> logits)");
            w.Line("if (logits.Length != VocabSize) throw new ArgumentException(\"logits must have length VocabSize (\" + VocabSize + \")\", nameof(logits));");
            w.Line("Prefill(MemoryMarshal.CreateReadOnlySpan(ref token, 1), logits);");
            w.Close();
            w.Line();
        }
    }
}
