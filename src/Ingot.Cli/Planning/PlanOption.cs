using Ingot.Formats;
using Ingot.Runtime.Quants;
using Ingot.Specs;

namespace Ingot.Cli.Planning;

/// <summary>A model as the planner sees it: its name, spec and tensors (names, ggml dims, types as they are).</summary>
public sealed record PlanModel(string Name, ModelSpec Spec, IReadOnlyList<QuantTensor> Tensors)
{
    /// <summary>Parameters: every element of every tensor.</summary>
    public long Parameters => Tensors.Sum(t => t.Dims.Aggregate(1L, (a, d) => a * d));
}

/// <summary>
/// One model × weight type: what it costs to hold and what it should run at. Bytes come from llama-quantize's mix
/// (<see cref="QuantMix.Plan"/>: per-tensor types, the Q6_K output of K mixes, f32 norms), so a planned file's size is
/// the size `ingot quantize` (and llama-quantize) writes, give or take the metadata.
/// </summary>
public sealed record PlanOption(PlanModel Model, string TypeName, long FileBytes, long BytesPerToken, long KvBytes, long BufferBytes, GgmlType MainType)
{
    public long RamBytes => FileBytes + KvBytes + BufferBytes;

    /// <summary>
    /// Sizes <paramref name="model"/> as <paramref name="type"/> (null: as the file is) at a KV cache of
    /// <paramref name="ctx"/> tokens. Decode reads every tensor but token_embd, of which one row (all of it when the
    /// output is tied to it); the KV cache is f32, 2 · layers · ctx · kv_dim; the buffers are the arena of
    /// <see cref="Ingot.Generators.Planning.Planner.MaxBatch"/> tokens and two logits rows.
    /// </summary>
    public static PlanOption Size(PlanModel model, QuantFileType? type, int ctx)
    {
        var s = model.Spec;
        IReadOnlyList<(QuantTensor Tensor, GgmlType Type)> typed;
        if (type is QuantFileType ft)
        {
            var info = new QuantModelInfo(s.Layers, s.Attention.Heads, s.Attention.KvHeads);
            var f32 = model.Tensors.Select(t => t with { Type = GgmlType.F32 }).ToList();
            typed = [.. QuantMix.Plan(ft, f32, info).Select(d => (d.Tensor, d.NewType))];
        }
        else typed = [.. model.Tensors.Select(t => (t, t.Type))];
        long file = 0, embd = 0, embdRow = 0;
        bool output = false;
        var byType = new Dictionary<GgmlType, long>();
        foreach (var (t, ty) in typed)
        {
            long rows = t.Dims.Skip(1).Aggregate(1L, (a, d) => a * d);
            long bytes = GgmlTypeTraits.RowBytes(ty, t.Dims[0]) * rows;
            file += bytes;
            byType[ty] = byType.GetValueOrDefault(ty) + bytes;
            if (t.Name == "token_embd.weight") { embd = bytes; embdRow = GgmlTypeTraits.RowBytes(ty, t.Dims[0]); }
            if (t.Name == "output.weight") output = true;
        }
        long perToken = output ? file - embd + embdRow : file;
        int kvDim = s.Attention.KvHeads * s.ResolvedHeadDim, qDim = s.Attention.Heads * s.ResolvedHeadDim;
        long kv = 2L * s.Layers * ctx * kvDim * sizeof(float);
        long buffers = 4L * Ingot.Generators.Planning.Planner.MaxBatch * (3L * s.Dim + 2L * qDim + 2L * kvDim + 3L * s.FfnDim) + 2L * 4 * s.VocabSize;
        var main = byType.OrderByDescending(kv => kv.Value).First().Key;
        string name = type?.ToString() ?? "as is (" + GgmlTypeTraits.Name(main) + ")";
        return new PlanOption(model, name, file, perToken, kv, buffers, main);
    }
}
