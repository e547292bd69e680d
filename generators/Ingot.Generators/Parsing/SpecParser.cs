using System.Collections.Generic;
using System.Globalization;
using Ingot.Generators.Model;

namespace Ingot.Generators.Parsing
{
    /// <summary>
    /// modelspecs/NAME.json → <see cref="ModelSpec"/>. Structural checks only (required keys, JSON types, value
    /// ranges); shape consistency and supported types are the planner's job. Never throws.
    /// </summary>
    public static class SpecParser
    {
        public static Result<ModelSpec> Parse(string specName, string path, string text)
        {
            try
            {
                return ParseCore(specName, path, text);
            }
            catch (System.Exception ex)
            {
                // A bug here must not take the compiler down; report it against the spec instead.
                return Result<ModelSpec>.Fail(DiagnosticInfo.Create("ING0007", LocationInfo.InFile(path, 0, 1, 1), specName, "(document)", "could not be read: " + ex.Message));
            }
        }

        private static Result<ModelSpec> ParseCore(string specName, string path, string text)
        {
            var root = JsonReader.Parse(text, out var error);
            if (error != null)
            {
                return Result<ModelSpec>.Fail(DiagnosticInfo.Create("ING0001", LocationInfo.InFile(path, error.Offset, error.Line, error.Column),
                    specName, error.Line.ToString(CultureInfo.InvariantCulture), error.Column.ToString(CultureInfo.InvariantCulture), error.Message));
            }
            var r = new Reader(specName, path);
            if (root is not JsonObject obj)
            {
                r.Invalid(root!, "(document)", "must be a JSON object");
                return Result<ModelSpec>.Fail(r.Diagnostics.ToArray());
            }

            int schema = r.Int(obj, "schema", "schema", 1, 1);
            string name = r.Str(obj, "name", "name");
            string arch = r.Str(obj, "architecture", "architecture");
            int vocab = r.Int(obj, "vocab_size", "vocab_size", 1, int.MaxValue);
            int dim = r.Int(obj, "dim", "dim", 1, int.MaxValue);
            int layers = r.Int(obj, "layers", "layers", 1, 4096);
            int ffn = r.Int(obj, "ffn_dim", "ffn_dim", 1, int.MaxValue);
            int ctx = r.Int(obj, "context_length", "context_length", 1, int.MaxValue);

            var att = r.Obj(obj, "attention", "attention");
            int heads = 0, kvHeads = 0, headDim = 0, window = 0; float scale = 0, softcap = 0; bool qkvBias = false;
            if (att != null)
            {
                heads = r.Int(att, "heads", "attention.heads", 1, 65536);
                kvHeads = r.OptInt(att, "kv_heads", "attention.kv_heads", heads, 1, 65536);
                headDim = r.OptInt(att, "head_dim", "attention.head_dim", 0, 0, 65536);
                scale = r.OptFloat(att, "scale", "attention.scale", 0f);
                window = r.OptInt(att, "sliding_window", "attention.sliding_window", 0, 0, int.MaxValue);
                softcap = r.OptFloat(att, "logit_softcap", "attention.logit_softcap", 0f);
                qkvBias = r.OptBool(att, "qkv_bias", "attention.qkv_bias", false);
            }

            var norm = r.Obj(obj, "norm", "norm");
            string normKind = "rmsnorm"; float eps = 0;
            if (norm != null)
            {
                normKind = r.Str(norm, "kind", "norm.kind");
                eps = r.Float(norm, "epsilon", "norm.epsilon");
            }

            var rope = r.Obj(obj, "rope", "rope");
            string ropeKind = "norm", scalingKind = "none"; float theta = 10000f, scalingFactor = 1f; int ropeDims = 0; bool freqFactors = false;
            if (rope != null)
            {
                ropeKind = r.Str(rope, "kind", "rope.kind");
                theta = r.Float(rope, "theta", "rope.theta");
                ropeDims = r.OptInt(rope, "dimensions", "rope.dimensions", 0, 0, 65536);
                freqFactors = r.OptBool(rope, "freq_factors", "rope.freq_factors", false);
                var scaling = r.OptObj(rope, "scaling", "rope.scaling");
                if (scaling != null)
                {
                    scalingKind = r.Str(scaling, "kind", "rope.scaling.kind");
                    scalingFactor = r.OptFloat(scaling, "factor", "rope.scaling.factor", 1f);
                }
            }

            var ffnObj = r.Obj(obj, "ffn", "ffn");
            string ffnKind = ffnObj != null ? r.Str(ffnObj, "kind", "ffn.kind") : "swiglu";

            var output = r.Obj(obj, "output", "output");
            bool tied = false; float finalSoftcap = 0, logitScale = 1;
            if (output != null)
            {
                tied = r.Bool(output, "tied", "output.tied");
                finalSoftcap = r.OptFloat(output, "final_logit_softcap", "output.final_logit_softcap", 0f);
                logitScale = r.OptFloat(output, "logit_scale", "output.logit_scale", 1f);
            }

            // The tokenizer section matters to the host, not to the forward pass; accept it when absent.
            var tok = r.OptObj(obj, "tokenizer", "tokenizer");
            var tokenizer = new TokenizerSpec("none", -1, -1, false, false);
            if (tok != null)
            {
                tokenizer = new TokenizerSpec(
                    r.Str(tok, "kind", "tokenizer.kind"),
                    r.OptInt(tok, "bos", "tokenizer.bos", -1, -1, int.MaxValue),
                    r.OptInt(tok, "eos", "tokenizer.eos", -1, -1, int.MaxValue),
                    r.OptBool(tok, "add_bos", "tokenizer.add_bos", false),
                    r.OptBool(tok, "add_eos", "tokenizer.add_eos", false));
            }

            var weights = r.Obj(obj, "weights", "weights");
            var roles = new List<RoleType>();
            var overrides = new List<LayerOverride>();
            if (weights != null)
            {
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
            }

            if (r.Diagnostics.Count > 0) return Result<ModelSpec>.Fail(r.Diagnostics.ToArray());

            // Sort overrides so equal specs written in a different key order compare equal (ordinal, deterministic).
            overrides.Sort((a, b) => a.Layer != b.Layer ? a.Layer.CompareTo(b.Layer) : string.CompareOrdinal(a.Role, b.Role));

            return Result<ModelSpec>.Ok(new ModelSpec(
                schema, name, arch, vocab, dim, layers, ffn, ctx,
                new AttentionSpec(heads, kvHeads, headDim, scale, window, softcap, qkvBias),
                new NormSpec(normKind, eps),
                new RopeSpec(ropeKind, theta, ropeDims, freqFactors, scalingKind, scalingFactor),
                ffnKind,
                new OutputSpec(tied, finalSoftcap, logitScale),
                tokenizer,
                new WeightsSpec(new EquatableArray<RoleType>(roles.ToArray()), new EquatableArray<LayerOverride>(overrides.ToArray())),
                text.Replace("\r\n", "\n")));
        }

        /// <summary>Typed member access that records ING0006/ING0007 instead of throwing.</summary>
        private sealed class Reader
        {
            private readonly string _spec;
            private readonly string _path;

            public Reader(string spec, string path) { _spec = spec; _path = path; }

            public List<DiagnosticInfo> Diagnostics { get; } = new List<DiagnosticInfo>();

            private LocationInfo At(JsonNode node) => LocationInfo.InFile(_path, node.Offset, node.Line, node.Column);

            public void Missing(JsonObject parent, string key)
                => Diagnostics.Add(DiagnosticInfo.Create("ING0006", At(parent), _spec, key));

            public void Invalid(JsonNode node, string key, string problem)
                => Diagnostics.Add(DiagnosticInfo.Create("ING0007", At(node), _spec, key, problem));

            public JsonObject? Obj(JsonObject o, string key, string full)
            {
                var n = o.Get(key);
                if (n is null) { Missing(o, full); return null; }
                if (n is JsonObject j) return j;
                Invalid(n, full, "must be an object, found " + n.Kind);
                return null;
            }

            public JsonObject? OptObj(JsonObject o, string key, string full)
            {
                var n = o.Get(key);
                if (n is null || n is JsonNull) return null;
                if (n is JsonObject j) return j;
                Invalid(n, full, "must be an object, found " + n.Kind);
                return null;
            }

            public string Str(JsonObject o, string key, string full)
            {
                var n = o.Get(key);
                if (n is null) { Missing(o, full); return ""; }
                if (n is JsonString s) return s.Value;
                Invalid(n, full, "must be a string, found " + n.Kind);
                return "";
            }

            public bool Bool(JsonObject o, string key, string full)
            {
                var n = o.Get(key);
                if (n is null) { Missing(o, full); return false; }
                return AsBool(n, full);
            }

            public bool OptBool(JsonObject o, string key, string full, bool fallback)
            {
                var n = o.Get(key);
                return n is null ? fallback : AsBool(n, full);
            }

            private bool AsBool(JsonNode n, string full)
            {
                if (n is JsonBool b) return b.Value;
                Invalid(n, full, "must be true or false, found " + n.Kind);
                return false;
            }

            public int Int(JsonObject o, string key, string full, int min, int max)
            {
                var n = o.Get(key);
                if (n is null) { Missing(o, full); return 0; }
                return AsInt(n, full, min, max);
            }

            public int OptInt(JsonObject o, string key, string full, int fallback, int min, int max)
            {
                var n = o.Get(key);
                return n is null ? fallback : AsInt(n, full, min, max);
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

            public float Float(JsonObject o, string key, string full)
            {
                var n = o.Get(key);
                if (n is null) { Missing(o, full); return 0; }
                return AsFloat(n, full);
            }

            public float OptFloat(JsonObject o, string key, string full, float fallback)
            {
                var n = o.Get(key);
                return n is null ? fallback : AsFloat(n, full);
            }

            private float AsFloat(JsonNode n, string full)
            {
                if (n is JsonNumber num && double.TryParse(num.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                    && !double.IsInfinity((float)v))
                {
                    return (float)v;
                }
                Invalid(n, full, "must be a finite number, found " + (n is JsonNumber nn ? nn.Text : n.Kind));
                return 0;
            }
        }
    }
}
