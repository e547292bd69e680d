using Ingot.Generators.Architectures;
using Ingot.Generators.Planning;
using Ingot.Specs;
using static Ingot.Generators.Emit.Literals;

namespace Ingot.Generators.Emit
{
    /// <summary>
    /// Load: the file must be the compiled spec's — general.architecture, the shared {arch}.* dimension keys, the family's
    /// own keys (<see cref="Architecture.Checks"/>), then every tensor bound by name with its type and shape checked; a
    /// mismatch is one WeightMismatchException naming the key or tensor and both values (the runtime's WeightBinding).
    /// Then the KV cache, the worker pool, the arena and the rope table. Also Reset and Dispose.
    /// </summary>
    internal static class LoadEmitter
    {
        public static void Emit(SourceWriter w, ModelPlan p, bool nested)
        {
            var s = p.Spec;
            string a = s.Architecture + ".";
            w.Line("/// <summary>Checks the file against the compiled spec, binds every tensor by name, allocates the buffer plan and KV cache.</summary>");
            w.Open("public void Load(GgufFile weights, InferenceOptions options)");
            w.Line("ArgumentNullException.ThrowIfNull(weights);");
            w.Line("ArgumentNullException.ThrowIfNull(options);");
            w.Line("if (options.ContextSize < 0) throw new ArgumentOutOfRangeException(nameof(options), options.ContextSize, \"ContextSize must be >= 0 (0 = the spec's context length)\");");
            w.Line("ReleaseBuffers();");
            w.Line("WeightBinding.CheckString(weights, \"general.architecture\", Architecture);");
            w.Line("WeightBinding.CheckInt(weights, \"" + a + "embedding_length\", Dim, required: true);");
            w.Line("WeightBinding.CheckInt(weights, \"" + a + "block_count\", Layers, required: true);");
            w.Line("WeightBinding.CheckInt(weights, \"" + a + "feed_forward_length\", FfnDim, required: true);");
            w.Line("WeightBinding.CheckInt(weights, \"" + a + "attention.head_count\", Heads, required: true);");
            w.Line("WeightBinding.CheckInt(weights, \"" + a + "attention.head_count_kv\", KvHeads, required: false);");
            w.Line("WeightBinding.CheckInt(weights, \"" + a + "attention.key_length\", HeadDim, required: false);");
            w.Line("WeightBinding.CheckInt(weights, \"" + a + "attention.value_length\", HeadDim, required: false);");
            if (p.HasRope) w.Line("WeightBinding.CheckInt(weights, \"" + a + "rope.dimension_count\", RopeDims, required: false);");
            w.Line("WeightBinding.CheckInt(weights, \"" + a + "context_length\", ContextLength, required: false);");
            w.Line("WeightBinding.CheckFloat(weights, \"" + a + (s.Norm.Kind == NormKind.RmsNorm ? "attention.layer_norm_rms_epsilon" : "attention.layer_norm_epsilon") + "\", NormEps, 1e-5f);");
            if (p.HasRope) w.Line("WeightBinding.CheckFloat(weights, \"" + a + "rope.freq_base\", RopeTheta, 10000f);");
            foreach (var c in p.Checks)
            {
                switch (c.Kind)
                {
                    case MetadataKind.Int:
                        w.Line(c.Required ? "WeightBinding.CheckInt(weights, " + Str(c.Key) + ", " + c.Expected + ", required: true);"
                                          : "WeightBinding.CheckInt(weights, " + Str(c.Key) + ", " + c.Expected + ", required: false, fallback: " + c.Default + ");");
                        break;
                    case MetadataKind.Float:
                        w.Line(c.Required ? "WeightBinding.CheckFloat(weights, " + Str(c.Key) + ", " + c.Expected + ", null);"
                                          : "WeightBinding.CheckFloat(weights, " + Str(c.Key) + ", " + c.Expected + ", " + c.Default + ");");
                        break;
                    default:
                        w.Line("WeightBinding.CheckBool(weights, " + Str(c.Key) + ", " + c.Expected + ");");
                        break;
                }
            }
            w.Line("long bytes = 0;");
            foreach (var t in p.Globals) w.Line(EmitContext.GlobalField(t.Field) + " = " + Bind(t, Str(t.TensorName(""))) + ";");
            if (!p.IsEncoder) Output(w, p);
            w.Line("var layers = new LayerWeights[Layers];");
            foreach (var kind in p.LayerKinds)
            {
                string cond = ModelFileEmitter.LayerCondition(kind.Layers, p.Layers);
                w.Open("for (int l = 0; l < Layers; l++)");
                if (cond != "true") w.Line("if (!(" + cond + ")) continue;");
                string stack = kind.Weights.Count > 0 && kind.Weights[0].Stack.Length > 0 ? kind.Weights[0].Stack + "." : "";
                if (s.Block.SharedLayers)
                {
                    // ALBERT: every layer runs layer 0's tensors, bound (and counted) once.
                    w.Line("if (l > 0) { layers[l] = layers[0]; continue; }");
                }
                w.Line("string b = \"" + stack + "blk.\" + l.ToString(System.Globalization.CultureInfo.InvariantCulture) + \".\";");
                foreach (var t in kind.Weights) w.Line("layers[l]." + t.Field + " = " + Bind(t, "b + " + Str(t.Name)) + ";");
                w.Close();
            }
            w.Line("_layers = layers;");
            w.Line("_weightBytes = bytes;");
            w.Line("_weights = weights;");
            w.Line("_context = options.ContextSize == 0 ? ContextLength : options.ContextSize;");
            if (s.Embedding.Positions == PositionKind.Learned)
            {
                w.Line("if (_context > ContextLength)");
                w.Line("    throw new ArgumentOutOfRangeException(nameof(options), options.ContextSize, \"this model has \" + ContextLength + \" learned positions (position_embd); ContextSize may not exceed that\");");
            }
            if (p.IsEncoder) w.Line("_kv = new KvCache(Layers, _context, KvDim);");
            else
            {
                if (p.Encoder != null)
                {
                    w.Line("if (options.Sequences != 1)");
                    w.Line("    throw new ArgumentOutOfRangeException(nameof(options), options.Sequences, \"an encoder–decoder holds one encoded input: Sequences must be 1\");");
                }
                w.Line("_runs = new SequenceRuns(options.Sequences, _context);");
                w.Line("_kv = new KvCache(Layers, _context * options.Sequences, KvDim, options.KvType);  // sequence s: cells [s · _context, (s + 1) · _context)");
            }
            w.Line("_pool = new WorkerPool(options.Threads);");
            w.Line("_arena = (byte*)NativeMemory.AlignedAlloc((nuint)ArenaBytes, 64);");
            w.Line("new Span<byte>(_arena, (int)Math.Min(ArenaBytes, int.MaxValue)).Clear();");
            if (p.HasRope) Rope(w, p);
            var rel = ModelFileEmitter.RelativeBiasOf(p);
            if (rel != null)
            {
                w.Line("_relBiasTable = RelativePositionBias.Table((float*)" + EmitContext.GlobalField(rel.RelativeBias!.Field) + ", Heads, RelativeBuckets, _context, bidirectional: " +
                       (p.IsEncoder ? "true" : "false") + ");");
                w.Line("_relBias = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_relBiasTable));");
            }
            if (p.Encoder != null)
            {
                w.Line("var encoder = new " + ModelEmitter.EncoderStackClass + "();");
                w.Line("encoder.Load(weights, options with { ContextSize = 0 });  // the encoder takes inputs up to the trained context, whatever the decoder's cache");
                w.Line("_encoder = encoder;");
                w.Line("_weightBytes += encoder.WeightBytes;");
                w.Line("_cross = new KvCache(Layers, encoder.MaxTokens, KvDim);");
                w.Line("_encoded = (float*)NativeMemory.AlignedAlloc((nuint)((long)encoder.MaxTokens * Dim * sizeof(float)), 64);");
                w.Line("_crossPending = new bool[Layers];");
                w.Line("_encLength = 0;");
                w.Line("_decoderStart = (int)weights.GetInt(Architecture + \".decoder_start_token_id\", weights.GetInt(\"tokenizer.ggml.padding_token_id\", 0));");
            }
            w.Line("_noSlidingWindow = options.NoSlidingWindow;");
            w.Close();
            w.Line();
            Lifetime(w, p, nested);
        }

        private static string Bind(WeightRef t, string name) => t.IsVector
            ? "(float*)WeightBinding.Bind(weights, " + name + ", GgmlType.F32, " + I(t.Cols) + ", 0, ref bytes)"
            : "WeightBinding.Bind(weights, " + name + ", GgmlType." + t.Kind + ", " + I(t.Cols) + ", " + I(t.Rows) + ", ref bytes)";

        private static void Output(SourceWriter w, ModelPlan p)
        {
            foreach (var t in p.Globals)
            {
                if (t.Name == "output.weight") return; // bound with the globals: its field is _output
            }
            // Tied: token_embd doubles as the output matrix. A file that still carries output.weight (llama2.c conversions
            // do) gets it used, as llama.cpp does; it must then have token_embd's type and shape.
            WeightRef? embd = null;
            foreach (var t in p.Globals) if (t.Name == "token_embd.weight") embd = t;
            w.Line("// Tied: token_embd doubles as the output matrix; a file that still carries output.weight gets it used (as llama.cpp does).");
            w.Line("_output = weights.FindTensor(\"output.weight\") is null ? _tokenEmbd : WeightBinding.Bind(weights, \"output.weight\", GgmlType." + embd!.Kind + ", Dim, VocabSize, ref bytes);");
        }

        /// <summary>The rope table: freq factors (rope_freqs, or LongRoPE's long/short set by the loaded context), and the scaling.</summary>
        private static void Rope(SourceWriter w, ModelPlan p)
        {
            var r = p.Spec.Rope;
            var sc = r.Scaling;
            string factors = "null";
            if (r.FreqFactors) factors = "_ropeFreqs";
            else if (sc.Kind == RopeScalingKind.LongRope)
            {
                int orig = sc.OriginalContext == 0 ? p.ContextLength : sc.OriginalContext;
                // llama.cpp picks the long factors when the allocated context exceeds the original one.
                factors = "_context > " + I(orig) + " ? _ropeFactorsLong : _ropeFactorsShort";
            }
            string scaling;
            switch (sc.Kind)
            {
                case RopeScalingKind.Linear:
                    scaling = "new RopeScaling(FreqScale: " + F(1f / sc.Factor) + ")";
                    break;
                case RopeScalingKind.Yarn:
                    scaling = "new RopeScaling(FreqScale: " + F(1f / sc.Factor) + ", ExtFactor: 1.0f, AttnFactor: " + F(sc.AttnFactor) + ", BetaFast: " + F(sc.BetaFast) +
                              ", BetaSlow: " + F(sc.BetaSlow) + ", OriginalContext: " + I(sc.OriginalContext == 0 ? p.ContextLength : sc.OriginalContext) + ")";
                    break;
                case RopeScalingKind.LongRope:
                    scaling = "new RopeScaling(AttnFactor: " + F(sc.AttnFactor) + ")";
                    break;
                default:
                    scaling = "RopeScaling.None";
                    break;
            }
            w.Line("_rope = new RopeTable(_context, RopeDims, RopeTheta, " + factors + ", " + scaling + ");");
        }

        private static void Lifetime(SourceWriter w, ModelPlan p, bool nested)
        {
            if (!p.IsEncoder)
            {
                w.Line("/// <summary>Empties the KV cache of every sequence (the next token is at position 0).</summary>");
                w.Line("public void Reset() => _runs?.ResetAll();");
                w.Line();
                w.Line("/// <summary>Empties one sequence's cache; the others keep theirs.</summary>");
                w.Line("public void Reset(int sequence) => (_runs ?? throw new InvalidOperationException(\"Load must be called first\")).Reset(sequence);");
                w.Line();
            }
            w.Open("private void ReleaseBuffers()");
            w.Line("if (_arena != null) { NativeMemory.AlignedFree(_arena); _arena = null; }");
            if (p.HasRope) w.Line("_rope = null;");
            w.Line("_pool?.Dispose();");
            w.Line("_pool = null;");
            w.Line("((object?)_kv as IDisposable)?.Dispose();");
            w.Line("_kv = null;");
            w.Line("_layers = Array.Empty<LayerWeights>();");
            w.Line("_weights = null;");
            AppApiEmitter.Release(w, p, nested);
            if (ModelFileEmitter.RelativeBiasOf(p) != null) w.Line("_relBiasTable = Array.Empty<float>(); _relBias = null;");
            if (p.Encoder != null)
            {
                w.Line("_encoder?.Dispose();");
                w.Line("_encoder = null;");
                w.Line("((object?)_cross as IDisposable)?.Dispose();");
                w.Line("_cross = null;");
                w.Line("if (_encoded != null) { NativeMemory.AlignedFree(_encoded); _encoded = null; }");
                w.Line("_encLength = 0;");
            }
            foreach (var t in p.Globals) if (t.Name != "output.weight") w.Line(EmitContext.GlobalField(t.Field) + " = null;");
            if (!p.IsEncoder) w.Line("_output = null;");
            w.Line(p.IsEncoder ? "_context = 0; _weightBytes = 0;" : "_runs = null; _context = 0; _weightBytes = 0;");
            w.Close();
            w.Line();
            w.Line(AppApiEmitter.Applies(p, nested) ? "/// <summary>Frees the buffers, and closes the GgufFile if Load(path) opened it (one passed to Load stays the caller's).</summary>"
                                                    : "/// <summary>Frees the buffers; the GgufFile stays owned by the caller.</summary>");
            w.Open("public void Dispose()");
            w.Line("ReleaseBuffers();");
            AppApiEmitter.DisposeOwned(w, p, nested);
            w.Line("GC.SuppressFinalize(this);");
            w.Close();
            w.Line();
        }
    }
}
