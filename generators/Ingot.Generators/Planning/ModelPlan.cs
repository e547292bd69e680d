using Ingot.Generators.Architectures;
using Ingot.Generators.Model;
using Ingot.Specs;

namespace Ingot.Generators.Planning
{
    /// <summary>Weight types the planner can lower to a kernel (ggml's names; see <see cref="WeightKinds"/> for their traits).</summary>
    public enum WeightKind { F32, F16, Q8_0, BF16, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS }

    /// <summary>
    /// The form a matmul's activation row takes before the dot product: ggml's vec_dot_type of the weight type,
    /// so our sums round like llama.cpp's.
    /// </summary>
    public enum ActKind { F32, F16, BF16, Q8_0, Q8_1, Q8_K, Q8_0Lanes, Q8_KTiles, Q8_0Pairs }

    /// <summary>
    /// Layers whose fused steps are equal (same weight types, same layout): the emitter generates one method per kind, so
    /// per-layer type overrides cost code only for the layers that need them. <see cref="Weights"/>: the per-layer
    /// tensors the steps read, bound for each of <see cref="Layers"/>.
    /// </summary>
    public sealed record LayerKindPlan(int Index, EquatableArray<int> Layers, EquatableArray<Step> Steps, EquatableArray<WeightRef> Weights);

    /// <summary>The lowered, fused spec: every shape resolved, every kernel chosen, every tensor named.</summary>
    public sealed record ModelPlan(
        ModelSpec Spec,
        int Dim, int Layers, int Heads, int KvHeads, int HeadDim, int QDim, int KvDim, int Group,
        int FfnDim, int VocabSize, int ContextLength, int RopeDims, int MaxBatch,
        EquatableArray<Step> Prologue,
        EquatableArray<LayerKindPlan> LayerKinds,
        EquatableArray<Step> Epilogue,
        EquatableArray<WeightRef> Globals,
        EquatableArray<MetadataCheck> Checks)
    {
        public bool HasRope => Spec.Rope.Kind != RopeKind.None;

        /// <summary>An encoder–decoder's encoder stack (T5), emitted as a nested class; null for a single stack.</summary>
        public ModelPlan? Encoder { get; init; }

        /// <summary>Non-causal attention: an encoder, whose result is hidden states (IEncoder), not logits.</summary>
        public bool IsEncoder => !Spec.Attention.Causal;
    }

    /// <summary>The [CompiledModel] class the plan is emitted into.</summary>
    public sealed record TargetClass(string? Namespace, string ClassName, string Accessibility, string SpecName, LocationInfo? Location);
}
