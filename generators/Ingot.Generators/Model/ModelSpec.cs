namespace Ingot.Generators.Model
{
    // The parsed modelspecs/NAME.json, one record per JSON object (schema in ingot-contracts.md and
    // modelspecs/README.md). Value-equal records only: no symbols, no locations, so the incremental pipeline caches.

    public sealed record AttentionSpec(int Heads, int KvHeads, int HeadDim, float Scale, int SlidingWindow, float LogitSoftcap, bool QkvBias);

    public sealed record NormSpec(string Kind, float Epsilon);

    public sealed record RopeSpec(string Kind, float Theta, int Dimensions, bool FreqFactors, string ScalingKind, float ScalingFactor);

    public sealed record OutputSpec(bool Tied, float FinalLogitSoftcap, float LogitScale);

    public sealed record TokenizerSpec(string Kind, int Bos, int Eos, bool AddBos, bool AddEos);

    /// <summary>A role's ggml type name ("f32", "q8_0"), e.g. attn_q → q8_0.</summary>
    public sealed record RoleType(string Role, string Type);

    /// <summary>A per-layer override: blk.Layer.Role is Type instead of the role's default.</summary>
    public sealed record LayerOverride(int Layer, string Role, string Type);

    public sealed record WeightsSpec(EquatableArray<RoleType> Roles, EquatableArray<LayerOverride> Layers)
    {
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
    }

    public sealed record ModelSpec(
        int Schema,
        string Name,
        string Architecture,
        int VocabSize,
        int Dim,
        int Layers,
        int FfnDim,
        int ContextLength,
        AttentionSpec Attention,
        NormSpec Norm,
        RopeSpec Rope,
        string FfnKind,
        OutputSpec Output,
        TokenizerSpec Tokenizer,
        WeightsSpec Weights,
        string SourceJson);
}
