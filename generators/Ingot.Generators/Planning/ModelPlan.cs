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
    public enum ActKind { F32, F16, BF16, Q8_0, Q8_1, Q8_K }

    /// <summary>One weight matrix of a layer kind: its role, GGUF name suffix, type and shape (rows × cols, row-major; row = output).</summary>
    public sealed record MatrixPlan(string Role, WeightKind Kind, int Rows, int Cols);

    /// <summary>
    /// A group of layers whose weights have identical quant types: the emitter generates one layer body per kind
    /// (so per-layer overrides cost code only for the layers that need them).
    /// </summary>
    public sealed record LayerKindPlan(
        int Index,
        EquatableArray<int> Layers,
        MatrixPlan Q, MatrixPlan K, MatrixPlan V, MatrixPlan O,
        MatrixPlan Gate, MatrixPlan Up, MatrixPlan Down);

    /// <summary>One lowered operation, in execution order (also rendered into the // Description: block).</summary>
    public sealed record PlanOp(string Name, string What, string Kernel);

    /// <summary>The lowered spec: every shape resolved, every kernel chosen.</summary>
    public sealed record ModelPlan(
        ModelSpec Spec,
        int Dim, int Layers, int Heads, int KvHeads, int HeadDim, int QDim, int KvDim, int Group,
        int FfnDim, int VocabSize, int ContextLength, int RopeDims, float Scale, float Epsilon, float RopeTheta,
        bool RopeFreqFactors, bool TiedOutput, int MaxBatch,
        WeightKind TokenEmbd, WeightKind Output,
        EquatableArray<LayerKindPlan> LayerKinds,
        EquatableArray<PlanOp> Ops);

    /// <summary>The [CompiledModel] class the plan is emitted into.</summary>
    public sealed record TargetClass(string? Namespace, string ClassName, string Accessibility, string SpecName, LocationInfo? Location);
}
