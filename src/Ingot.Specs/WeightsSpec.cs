using System;
using System.Collections.Generic;
using System.Globalization;

namespace Ingot.Specs
{
    /// <summary>A role's ggml type name ("f32", "q8_0"), e.g. attn_q → q8_0.</summary>
    public sealed record RoleType(string Role, string Type);

    /// <summary>A per-layer override: blk.Layer.Role has Type instead of the role's entry.</summary>
    public sealed record LayerOverride(int Layer, string Role, string Type);

    /// <summary>
    /// The ggml type of each weight role. Global roles (token_embd, output_norm, output, rope_freqs, …) name one tensor
    /// ROLE.weight; per-layer roles name blk.N.ROLE.weight and hold the most common type across layers, with
    /// <see cref="Layers"/> listing only the layers whose type differs. Both lists are kept in canonical order
    /// (<see cref="RoleOrder"/>, then ordinal), so two equal maps compare equal whatever order they were built in.
    /// </summary>
    public sealed record WeightsSpec
    {
        /// <summary>The order roles are written in; roles not listed follow in ordinal order.</summary>
        public static readonly string[] RoleOrder =
        {
            "token_embd", "position_embd", "token_types", "output_norm", "output", "rope_freqs", "rope_factors_long", "rope_factors_short",
            "attn_norm", "attn_q", "attn_k", "attn_v", "attn_qkv", "attn_output", "post_attention_norm",
            "ffn_norm", "ffn_gate", "ffn_up", "ffn_down", "post_ffw_norm",
        };

        public static readonly WeightsSpec Empty = new WeightsSpec(EquatableArray<RoleType>.Empty, EquatableArray<LayerOverride>.Empty);

        private WeightsSpec(EquatableArray<RoleType> roles, EquatableArray<LayerOverride> layers)
        {
            Roles = roles;
            Layers = layers;
        }

        public EquatableArray<RoleType> Roles { get; }
        public EquatableArray<LayerOverride> Layers { get; }

        /// <summary>Canonicalizes the order (a later duplicate of a role or of a layer override replaces the earlier one).</summary>
        public static WeightsSpec Create(IEnumerable<RoleType> roles, IEnumerable<LayerOverride> layers)
        {
            var r = new List<RoleType>();
            foreach (var x in roles)
            {
                r.RemoveAll(e => e.Role == x.Role);
                r.Add(x);
            }
            r.Sort((a, b) => CompareRoles(a.Role, b.Role));
            var l = new List<LayerOverride>();
            foreach (var x in layers)
            {
                l.RemoveAll(e => e.Layer == x.Layer && e.Role == x.Role);
                l.Add(x);
            }
            l.Sort((a, b) => a.Layer != b.Layer ? a.Layer.CompareTo(b.Layer) : CompareRoles(a.Role, b.Role));
            return new WeightsSpec(new EquatableArray<RoleType>(r.ToArray()), new EquatableArray<LayerOverride>(l.ToArray()));
        }

        /// <summary>Writing order: <see cref="RoleOrder"/> first, then ordinal.</summary>
        public static int CompareRoles(string a, string b)
        {
            int ia = Array.IndexOf(RoleOrder, a), ib = Array.IndexOf(RoleOrder, b);
            if (ia >= 0 && ib >= 0) return ia.CompareTo(ib);
            if (ia >= 0) return -1;
            if (ib >= 0) return 1;
            return string.CompareOrdinal(a, b);
        }

        /// <summary>The role's entry (its type in most layers), or null when the spec has no such role.</summary>
        public string? Role(string role)
        {
            foreach (var r in Roles) if (r.Role == role) return r.Type;
            return null;
        }

        /// <summary>The type of blk.<paramref name="layer"/>.<paramref name="role"/>: the override if any, else the role's entry.</summary>
        public string? ForLayer(int layer, string role)
        {
            foreach (var o in Layers) if (o.Layer == layer && o.Role == role) return o.Type;
            return Role(role);
        }

        /// <summary>
        /// Builds the map from GGUF tensor names and ggml type names: blk.N.ROLE.weight is a per-layer role, ROLE.weight
        /// a global one; biases and other suffixes are not weight roles. A per-layer role's entry is its most common type
        /// across layers (ties: the lowest layer's type); layers that differ become overrides.
        /// </summary>
        /// <summary>
        /// "blk.N.ROLE" → (N, "ROLE"); an encoder–decoder's stacks prefix it: "enc.blk.N.ROLE" → (N, "enc.ROLE") (T5).
        /// </summary>
        public static bool TryLayerRole(string stem, out int layer, out string role)
        {
            layer = -1;
            role = stem;
            int blk = 0;
            if (!stem.StartsWith("blk.", StringComparison.Ordinal))
            {
                int at = stem.IndexOf(".blk.", StringComparison.Ordinal);
                if (at < 0 || stem.IndexOf('.') != at) return false; // one prefix segment at most before blk.
                blk = at + 1;
            }
            int start = blk + 4, dot = stem.IndexOf('.', start);
            if (dot < 0 || !int.TryParse(stem.Substring(start, dot - start), NumberStyles.None, CultureInfo.InvariantCulture, out layer)) return false;
            role = stem.Substring(0, blk) + stem.Substring(dot + 1);
            return true;
        }

        public static WeightsSpec FromTensors(IEnumerable<KeyValuePair<string, string>> tensors)
        {
            var roles = new List<RoleType>();
            var perLayer = new Dictionary<string, SortedDictionary<int, string>>(StringComparer.Ordinal);
            foreach (var t in tensors)
            {
                string name = t.Key;
                if (!name.EndsWith(".weight", StringComparison.Ordinal)) continue;
                string stem = name.Substring(0, name.Length - ".weight".Length);
                if (TryLayerRole(stem, out int layer, out string role))
                {
                    if (!perLayer.TryGetValue(role, out var m)) perLayer[role] = m = new SortedDictionary<int, string>();
                    m[layer] = t.Value;
                }
                else
                {
                    roles.Add(new RoleType(stem, t.Value));
                }
            }
            var overrides = new List<LayerOverride>();
            foreach (var kv in perLayer)
            {
                // Most common type; ties go to the type of the lowest layer that has it.
                var counts = new Dictionary<string, int>(StringComparer.Ordinal);
                var first = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var lt in kv.Value)
                {
                    counts[lt.Value] = counts.TryGetValue(lt.Value, out int c) ? c + 1 : 1;
                    if (!first.ContainsKey(lt.Value)) first[lt.Value] = lt.Key;
                }
                string common = "";
                foreach (var c in counts)
                {
                    if (common.Length == 0 || c.Value > counts[common] || (c.Value == counts[common] && first[c.Key] < first[common])) common = c.Key;
                }
                roles.Add(new RoleType(kv.Key, common));
                foreach (var lt in kv.Value)
                {
                    if (lt.Value != common) overrides.Add(new LayerOverride(lt.Key, kv.Key, lt.Value));
                }
            }
            return Create(roles, overrides);
        }
    }
}
