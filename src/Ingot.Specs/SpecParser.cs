using System;
using System.Collections.Generic;
using System.Globalization;

namespace Ingot.Specs
{
    /// <summary>
    /// Why a spec could not be read. <see cref="Id"/> is the generator's diagnostic id: ING0001 (not JSON; Message is
    /// the reader's), ING0006 (a required key is missing), ING0007 (a key has the wrong type or an out-of-range value).
    /// <see cref="Key"/> is the dotted path ("attention.heads"); Line and Column are 1-based.
    /// </summary>
    public sealed record SpecProblem(string Id, string Key, string Message, int Offset, int Line, int Column)
    {
        public const string MalformedJson = "ING0001";
        public const string MissingKey = "ING0006";
        public const string InvalidValue = "ING0007";

        /// <summary>One line: "key 'attention.heads' must be an integer, found a string (line 12, column 14)".</summary>
        public override string ToString() => Id == MalformedJson
            ? "not valid JSON at line " + Line.ToString(CultureInfo.InvariantCulture) + ", column " + Column.ToString(CultureInfo.InvariantCulture) + ": " + Message
            : "key '" + Key + "' " + Message + " (line " + Line.ToString(CultureInfo.InvariantCulture) + ", column " + Column.ToString(CultureInfo.InvariantCulture) + ")";
    }

    /// <summary>A spec, or the problems that prevented it.</summary>
    public sealed record SpecParseResult(ModelSpec? Spec, EquatableArray<SpecProblem> Problems);

    /// <summary>
    /// The one parser of modelspecs/NAME.json (schema 2), used by the generator and by Ingot.Formats. Structural checks
    /// only: required keys, JSON types, value ranges, enum names. Whether the shapes are consistent and the weight types
    /// compile is the generator planner's job. Never throws.
    /// </summary>
    public static class SpecParser
    {
        public static SpecParseResult Parse(string text)
        {
            try
            {
                return ParseCore(text);
            }
            catch (Exception ex)
            {
                // A bug here must not take the compiler down; report it against the spec instead.
                return Fail(new SpecProblem(SpecProblem.InvalidValue, "(document)", "could not be read: " + ex.Message, 0, 1, 1));
            }
        }

        private static SpecParseResult Fail(params SpecProblem[] problems) => new SpecParseResult(null, new EquatableArray<SpecProblem>(problems));

        private static SpecParseResult ParseCore(string text)
        {
            var root = JsonReader.Parse(text, out var error);
            if (error != null) return Fail(new SpecProblem(SpecProblem.MalformedJson, "", error.Message, error.Offset, error.Line, error.Column));
            var r = new Reader();
            if (root is not JsonObject obj)
            {
                r.Invalid(root!, "(document)", "must be a JSON object");
                return Fail(r.Problems.ToArray());
            }

            int schema = r.Int(obj, "schema", 1, int.MaxValue);
            if (r.Problems.Count == 0 && schema != ModelSpec.CurrentSchema)
            {
                r.Invalid(obj.Get("schema")!, "schema", "is " + schema.ToString(CultureInfo.InvariantCulture) + "; this version reads schema " +
                    ModelSpec.CurrentSchema.ToString(CultureInfo.InvariantCulture) + " (re-run `ingot import` on the model file to rewrite the spec)");
                return Fail(r.Problems.ToArray());
            }
            var spec = new ModelSpec
            {
                Name = r.Str(obj, "name"),
                Architecture = r.Str(obj, "architecture"),
                VocabSize = r.Int(obj, "vocab_size", 1, int.MaxValue),
                Dim = r.Int(obj, "dim", 1, int.MaxValue),
                Layers = r.Int(obj, "layers", 1, 4096),
                FfnDim = r.Int(obj, "ffn_dim", 1, int.MaxValue),
                ContextLength = r.Int(obj, "context_length", 1, int.MaxValue),
            };

            var e = r.OptObj(obj, "embedding");
            if (e != null)
            {
                spec = spec with
                {
                    Embedding = new EmbeddingSpec
                    {
                        Scale = r.OptFloat(e, "scale", 1f),
                        Positions = r.OptEnum(e, "positions", PositionKind.None),
                        TokenTypes = r.OptInt(e, "token_types", 0, 0, 65536),
                        Norm = r.OptBool(e, "norm", false),
                        Size = r.OptInt(e, "size", 0, 0, int.MaxValue),
                    },
                };
            }

            var a = r.Obj(obj, "attention");
            if (a != null)
            {
                int heads = r.Int(a, "heads", 1, 65536);
                int window = r.OptInt(a, "sliding_window", 0, 0, int.MaxValue);
                spec = spec with
                {
                    Attention = new AttentionSpec
                    {
                        Heads = heads,
                        KvHeads = r.OptInt(a, "kv_heads", heads, 1, 65536),
                        HeadDim = r.OptInt(a, "head_dim", 0, 0, 65536),
                        Causal = r.OptBool(a, "causal", true),
                        FusedQkv = r.OptBool(a, "fused_qkv", false),
                        QkvBias = r.OptBool(a, "qkv_bias", false),
                        OutputBias = r.OptBool(a, "output_bias", false),
                        Scale = r.OptFloat(a, "scale", 0f),
                        ScaleQuery = r.OptBool(a, "scale_query", false),
                        LogitSoftcap = r.OptFloat(a, "logit_softcap", 0f),
                        SlidingWindow = window,
                        SlidingWindowLayers = r.OptEnum(a, "sliding_window_layers", window > 0 ? WindowLayers.All : WindowLayers.None),
                        RelativeBuckets = r.OptInt(a, "relative_buckets", 0, 0, 65536),
                    },
                };
            }

            var n = r.Obj(obj, "norm");
            if (n != null)
            {
                spec = spec with
                {
                    Norm = new NormSpec { Kind = r.Enum<NormKind>(n, "kind"), Epsilon = r.Float(n, "epsilon"), Bias = r.OptBool(n, "bias", false) },
                };
            }

            var b = r.OptObj(obj, "block");
            if (b != null)
            {
                spec = spec with
                {
                    Block = new BlockSpec
                    {
                        NormPosition = r.OptEnum(b, "norm_position", NormPosition.Pre),
                        Residual = r.OptEnum(b, "residual", ResidualKind.Sequential),
                        PostAttentionNorm = r.OptBool(b, "post_attention_norm", false),
                        PostFfnNorm = r.OptBool(b, "post_ffn_norm", false),
                        ResidualScale = r.OptFloat(b, "residual_scale", 1f),
                        SharedLayers = r.OptBool(b, "shared_layers", false),
                    },
                };
            }

            var ro = r.OptObj(obj, "rope");
            if (ro != null)
            {
                var rope = new RopeSpec
                {
                    Kind = r.Enum<RopeKind>(ro, "kind"),
                    Theta = r.OptFloat(ro, "theta", 10000f),
                    Dimensions = r.OptInt(ro, "dimensions", 0, 0, 65536),
                    FreqFactors = r.OptBool(ro, "freq_factors", false),
                };
                var sc = r.OptObj(ro, "scaling");
                if (sc != null)
                {
                    rope = rope with
                    {
                        Scaling = new RopeScalingSpec
                        {
                            Kind = r.Enum<RopeScalingKind>(sc, "kind"),
                            Factor = r.OptFloat(sc, "factor", 1f),
                            OriginalContext = r.OptInt(sc, "original_context", 0, 0, int.MaxValue),
                            AttnFactor = r.OptFloat(sc, "attn_factor", 1f),
                            BetaFast = r.OptFloat(sc, "beta_fast", 32f),
                            BetaSlow = r.OptFloat(sc, "beta_slow", 1f),
                        },
                    };
                }
                spec = spec with { Rope = rope };
            }
            else
            {
                spec = spec with { Rope = new RopeSpec { Kind = RopeKind.None } };
            }

            var f = r.OptObj(obj, "ffn");
            if (f != null)
            {
                spec = spec with
                {
                    Ffn = new FfnSpec
                    {
                        Gated = r.OptBool(f, "gated", true),
                        Activation = r.OptEnum(f, "activation", Activation.Silu),
                        FusedGateUp = r.OptBool(f, "fused_gate_up", false),
                        Bias = r.OptBool(f, "bias", false),
                    },
                };
            }

            var o = r.OptObj(obj, "output");
            if (o != null)
            {
                spec = spec with
                {
                    Output = new OutputSpec
                    {
                        Tied = r.OptBool(o, "tied", false),
                        FinalLogitSoftcap = r.OptFloat(o, "final_logit_softcap", 0f),
                        LogitScale = r.OptFloat(o, "logit_scale", 1f),
                        Pooling = r.OptEnum(o, "pooling", PoolingKind.None),
                        Labels = r.OptInt(o, "labels", 0, 0, 1 << 20),
                        HeadActivation = r.OptEnum(o, "head_activation", Activation.Tanh),
                    },
                };
            }

            // The tokenizer matters to the host, not to the forward pass; accept it when absent.
            var t = r.OptObj(obj, "tokenizer");
            spec = spec with
            {
                Tokenizer = t == null
                    ? new TokenizerSpec { Kind = "none" }
                    : new TokenizerSpec
                    {
                        Kind = r.Str(t, "kind"),
                        Bos = r.OptInt(t, "bos", -1, -1, int.MaxValue),
                        Eos = r.OptInt(t, "eos", -1, -1, int.MaxValue),
                        AddBos = r.OptBool(t, "add_bos", false),
                        AddEos = r.OptBool(t, "add_eos", false),
                    },
            };

            var w = r.Obj(obj, "weights");
            if (w != null) spec = spec with { Weights = ReadWeights(r, w, spec.Layers) };

            foreach (var m in obj.Members)
            {
                if (Array.IndexOf(SpecWriter.TopLevelKeys, m.Key) < 0) r.Invalid(m.Value, m.Key, "is not a spec key (schema 2 keys: " + string.Join(", ", SpecWriter.TopLevelKeys) + ")");
            }
            if (r.Problems.Count > 0) return Fail(r.Problems.ToArray());
            return new SpecParseResult(spec, EquatableArray<SpecProblem>.Empty);
        }

        private static WeightsSpec ReadWeights(Reader r, JsonObject weights, int layers)
        {
            var roles = new List<RoleType>();
            var overrides = new List<LayerOverride>();
            foreach (var m in weights.Members)
            {
                if (m.Key == "layers")
                {
                    if (m.Value is not JsonObject layerMap) { r.Invalid(m.Value, "weights.layers", "must be an object, found " + m.Value.Kind); continue; }
                    foreach (var lm in layerMap.Members)
                    {
                        if (!int.TryParse(lm.Key, NumberStyles.None, CultureInfo.InvariantCulture, out int layer) || layer < 0 || (layers > 0 && layer >= layers))
                        {
                            r.Invalid(lm.Value, "weights.layers." + lm.Key, "is not a layer index in [0, " + layers.ToString(CultureInfo.InvariantCulture) + ")");
                            continue;
                        }
                        if (lm.Value is not JsonObject layerRoles) { r.Invalid(lm.Value, "weights.layers." + lm.Key, "must be an object, found " + lm.Value.Kind); continue; }
                        foreach (var lr in layerRoles.Members)
                        {
                            if (lr.Value is JsonString ls) overrides.Add(new LayerOverride(layer, lr.Key, ls.Value));
                            else r.Invalid(lr.Value, "weights.layers." + lm.Key + "." + lr.Key, "must be a string (a ggml type name), found " + lr.Value.Kind);
                        }
                    }
                    continue;
                }
                if (m.Value is JsonString s) roles.Add(new RoleType(m.Key, s.Value));
                else r.Invalid(m.Value, "weights." + m.Key, "must be a string (a ggml type name), found " + m.Value.Kind);
            }
            return WeightsSpec.Create(roles, overrides);
        }

        /// <summary>Typed member access that records ING0006/ING0007 instead of throwing. Keys are dotted paths.</summary>
        private sealed class Reader
        {
            private readonly Dictionary<JsonObject, string> _paths = new Dictionary<JsonObject, string>();

            public List<SpecProblem> Problems { get; } = new List<SpecProblem>();

            private string Path(JsonObject parent, string key) => _paths.TryGetValue(parent, out var p) ? p + "." + key : key;

            public void Invalid(JsonNode node, string key, string problem)
                => Problems.Add(new SpecProblem(SpecProblem.InvalidValue, key, problem, node.Offset, node.Line, node.Column));

            private void Missing(JsonObject parent, string key)
                => Problems.Add(new SpecProblem(SpecProblem.MissingKey, key, "is missing", parent.Offset, parent.Line, parent.Column));

            public JsonObject? Obj(JsonObject o, string key)
            {
                if (o.Get(key) is null) { Missing(o, Path(o, key)); return null; }
                return OptObj(o, key);
            }

            public JsonObject? OptObj(JsonObject o, string key)
            {
                var n = o.Get(key);
                if (n is null || n is JsonNull) return null;
                if (n is JsonObject j) { _paths[j] = Path(o, key); return j; }
                Invalid(n, Path(o, key), "must be an object, found " + n.Kind);
                return null;
            }

            public string Str(JsonObject o, string key)
            {
                var n = o.Get(key);
                if (n is null) { Missing(o, Path(o, key)); return ""; }
                if (n is JsonString s) return s.Value;
                Invalid(n, Path(o, key), "must be a string, found " + n.Kind);
                return "";
            }

            public T Enum<T>(JsonObject o, string key) where T : struct, System.Enum
            {
                if (o.Get(key) is null) { Missing(o, Path(o, key)); return default; }
                return OptEnum(o, key, default(T));
            }

            public T OptEnum<T>(JsonObject o, string key, T fallback) where T : struct, System.Enum
            {
                var n = o.Get(key);
                if (n is null) return fallback;
                if (n is JsonString s && SpecNames.TryParse(s.Value, out T v)) return v;
                Invalid(n, Path(o, key), "must be one of " + string.Join(", ", SpecNames.All<T>()) + ", found " + (n is JsonString js ? "'" + js.Value + "'" : n.Kind));
                return fallback;
            }

            public bool OptBool(JsonObject o, string key, bool fallback)
            {
                var n = o.Get(key);
                if (n is null) return fallback;
                if (n is JsonBool b) return b.Value;
                Invalid(n, Path(o, key), "must be true or false, found " + n.Kind);
                return fallback;
            }

            public int Int(JsonObject o, string key, int min, int max)
            {
                var n = o.Get(key);
                if (n is null) { Missing(o, Path(o, key)); return 0; }
                return AsInt(n, Path(o, key), min, max);
            }

            public int OptInt(JsonObject o, string key, int fallback, int min, int max)
            {
                var n = o.Get(key);
                return n is null ? fallback : AsInt(n, Path(o, key), min, max);
            }

            private int AsInt(JsonNode n, string full, int min, int max)
            {
                if (n is JsonNumber num && long.TryParse(num.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
                {
                    if (v >= min && v <= max) return (int)v;
                    Invalid(n, full, "is " + num.Text + ", outside [" + min.ToString(CultureInfo.InvariantCulture) + ", " + max.ToString(CultureInfo.InvariantCulture) + "]");
                    return 0;
                }
                Invalid(n, full, "must be an integer, found " + (n is JsonNumber nn ? nn.Text : n.Kind));
                return 0;
            }

            public float Float(JsonObject o, string key)
            {
                var n = o.Get(key);
                if (n is null) { Missing(o, Path(o, key)); return 0; }
                return AsFloat(n, Path(o, key));
            }

            public float OptFloat(JsonObject o, string key, float fallback)
            {
                var n = o.Get(key);
                return n is null ? fallback : AsFloat(n, Path(o, key));
            }

            private float AsFloat(JsonNode n, string full)
            {
                // Parsed straight to float (no double rounding), so the writer's shortest round-trip form reads back bit-identical.
                if (n is JsonNumber num && float.TryParse(num.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && !float.IsInfinity(v))
                {
                    return v;
                }
                Invalid(n, full, "must be a finite number, found " + (n is JsonNumber nn ? nn.Text : n.Kind));
                return 0;
            }
        }
    }
}
