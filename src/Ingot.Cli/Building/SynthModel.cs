using Ingot.Formats;
using Ingot.Generators.Architectures;
using Ingot.Generators.Model;
using Ingot.Generators.Planning;
using Ingot.Specs;

namespace Ingot.Cli.Building;

/// <summary>
/// What `ingot synth` writes: the family's layout for the options (<see cref="GgufSynth.Layout"/>), and exactly the
/// tensors the compiled model binds — the generator's own lowering names them, <see cref="GgufSynth.TypeFor"/> types
/// them, and the planner (as `ingot build` runs it) must accept the typed spec without a diagnostic; the file's
/// tensors are then the plan's weights, globals first, then each layer's in the order the block reads them.
/// </summary>
public static class SynthModel
{
    /// <summary>The spec the file describes and its tensors in file order; <see cref="ArgumentException"/> (one line) when the model cannot be built.</summary>
    public static (ModelSpec Spec, IReadOnlyList<SynthTensor> Tensors) Plan(SynthOptions o)
    {
        var layout = GgufSynth.Layout(o);
        var family = Architecture.Find(layout.Architecture) ?? throw new ArgumentException($"synth: the generator has no family '{layout.Architecture}'");
        var probe = new TensorProbe();
        family.Lower(layout, probe);
        var spec = GgufSynth.WithTypes(layout, probe.Tensors.Select(t => Typed(t, o.Type)));
        var plan = Planner.Plan(spec, null);
        if (plan.Value is null)
            throw new ArgumentException("synth: the generator cannot compile this model: " + string.Join("; ", SpecCompileCheck.Lines(plan.Diagnostics)));
        return (spec, [.. Bound(plan.Value).Select(t => Typed(t, o.Type))]);
    }

    /// <summary>Every tensor the family's lowering of <paramref name="spec"/> binds (F32-typed), without planning or writing anything.</summary>
    public static IReadOnlyList<SynthTensor> TensorsOf(ModelSpec spec)
    {
        var family = Architecture.Find(spec.Architecture) ?? throw new ArgumentException($"the generator has no family '{spec.Architecture}'");
        var probe = new TensorProbe();
        family.Lower(spec, probe);
        return [.. probe.Tensors];
    }

    /// <summary>The tensors a plan binds, globals first, then each layer's (types left F32: the spec's weights hold them).</summary>
    public static IEnumerable<SynthTensor> Bound(ModelPlan p)
    {
        foreach (var w in p.Globals) yield return Tensor(w, -1);
        for (int l = 0; l < p.Layers; l++)
            foreach (var w in p.LayerKinds.First(k => k.Layers.Contains(l)).Weights) yield return Tensor(w, l);
    }

    /// <summary>Plans and writes the model; returns its spec.</summary>
    public static ModelSpec Write(string path, SynthOptions o, GgufSynth.RowQuantizer? quantizer)
    {
        var (spec, tensors) = Plan(o);
        GgufSynth.Write(path, spec, tensors, o, quantizer);
        return spec;
    }

    private static SynthTensor Typed(SynthTensor t, GgmlType type) => t with { Type = GgufSynth.TypeFor(t.Name, t.Dims, type) };

    /// <summary>The GGUF tensor of a weight: blk.N.NAME for layer N; ne {cols, rows} for a matrix, {cols} for a vector.</summary>
    private static SynthTensor Tensor(WeightRef w, int layer) =>
        new(w.TensorName(layer.ToString(System.Globalization.CultureInfo.InvariantCulture)), GgmlType.F32, w.IsVector ? [w.Cols] : [w.Cols, w.Rows]);

    /// <summary>Records every tensor a lowering asks for (before any type exists).</summary>
    private sealed class TensorProbe : LayerWeights
    {
        private readonly List<SynthTensor> _tensors = [];

        public IEnumerable<SynthTensor> Tensors => _tensors.DistinctBy(t => t.Name);

        public override WeightRef Matrix(int layer, string name, int rows, int cols) => Add(new WeightRef(name, layer >= 0, WeightKind.F32, rows, cols, Stack), layer);

        public override WeightRef Vector(int layer, string name, int cols) => Add(new WeightRef(name, layer >= 0, WeightKind.F32, 0, cols, Stack), layer);

        private WeightRef Add(WeightRef w, int layer)
        {
            _tensors.Add(Tensor(w, layer));
            return w;
        }
    }
}
