using System;
using System.Collections.Generic;
using Ingot.Specs;

namespace Ingot.Generators.Planning
{
    /// <summary>
    /// Fusion passes over a lowered op list, each a small rewrite; the result is the step list the emitters walk.
    /// Order: q/k/v with rope, pre-scale and cache write → QkvStep; gate/up with the activation → GateUpStep; an output
    /// projection with its scale, post-norm and residual add → a MatMulStep whose epilogue adds into X (or stores into T
    /// for a post-norm, NormAddStep, or for the parallel residual's later add); then every matmul gets a RowPrepStep that
    /// converts its input rows to the activation forms its weights need, with the norm that produced them folded in; a
    /// norm left over (post-norm blocks) becomes a row pass of its own.
    /// An op no pass consumes is a planner error (the emitters have nothing for it).
    /// </summary>
    public static class Fusion
    {
        public static List<Step> Fuse(IReadOnlyList<Op> ops, out string? leftover)
        {
            var items = new List<object>(ops);
            FuseQkv(items);
            FuseGateUp(items);
            FuseProjections(items);
            WrapSingles(items);
            FuseRowPreps(items);
            WrapNorms(items);
            var steps = new List<Step>();
            leftover = null;
            foreach (var item in items)
            {
                if (item is Step s) steps.Add(s);
                else leftover ??= item.GetType().Name.Replace("Op", "") + " " + item;
            }
            return steps;
        }

        /// <summary>Linear q, k, v from one input + rope on Q and K (same kind) + optional Q scale → QkvStep.</summary>
        private static void FuseQkv(List<object> items)
        {
            for (int i = 0; i + 2 < items.Count; i++)
            {
                if (items[i] is not LinearOp { To: Buf.Q } q || items[i + 1] is not LinearOp { To: Buf.K } k || items[i + 2] is not LinearOp { To: Buf.V } v) continue;
                if (q.From != k.From || q.From != v.From) continue;
                int end = i + 3;
                RopeKind rope = RopeKind.None;
                int ropeDims = 0;
                if (end + 1 < items.Count && items[end] is RopeOp { Target: Buf.Q } rq && items[end + 1] is RopeOp { Target: Buf.K } rk && rq.Kind == rk.Kind && rq.Dims == rk.Dims)
                {
                    rope = rq.Kind;
                    ropeDims = rq.Dims;
                    end += 2;
                }
                float qScale = 0f;
                if (end < items.Count && items[end] is ScaleOp { Target: Buf.Q } sq)
                {
                    qScale = sq.Scale;
                    end++;
                }
                items.RemoveRange(i, end - i);
                items.Insert(i, new QkvStep(q, k, v, rope, ropeDims, qScale));
            }
        }

        /// <summary>[Linear gate] + Linear up + Glu → GateUpStep.</summary>
        private static void FuseGateUp(List<object> items)
        {
            for (int i = 0; i < items.Count; i++)
            {
                if (items[i] is not GluOp glu) continue;
                if (glu.Gate is null)
                {
                    if (i >= 1 && items[i - 1] is LinearOp { To: Buf.Up } up1)
                    {
                        items.RemoveRange(i - 1, 2);
                        items.Insert(i - 1, new GateUpStep(null, up1, glu.Activation, glu.To));
                        i--;
                    }
                }
                else if (i >= 2 && items[i - 2] is LinearOp { To: Buf.Gate } gate && items[i - 1] is LinearOp { To: Buf.Up } up && gate.From == up.From)
                {
                    items.RemoveRange(i - 2, 3);
                    items.Insert(i - 2, new GateUpStep(gate, up, glu.Activation, glu.To));
                    i -= 2;
                }
            }
        }

        /// <summary>
        /// Linear (→ O or F) [+ Scale] [+ post-norm] + residual Add: the add folds into the matmul's epilogue. With a
        /// post-norm the matmul stores into T and NormAddStep adds norm(T). In the parallel layout the attention output
        /// (O, never added on its own) is stored into T and the FFN's add reads it: X = (down + X) + T.
        /// Also the logits: Linear (→ Logits) + LogitsOp → a storing MatMulStep with scale and cap.
        /// </summary>
        private static void FuseProjections(List<object> items)
        {
            for (int i = 0; i < items.Count; i++)
            {
                if (items[i] is not LinearOp lin || lin.To is not (Buf.O or Buf.F or Buf.Logits or Buf.T or Buf.Q or Buf.X)) continue;
                int j = i + 1;
                if (lin.To == Buf.X)
                {
                    // ALBERT's embedding projection: the residual stream starts as W·e + b.
                    items[i] = new MatMulStep(lin, 1f, 0f, false, Buf.X, null);
                    continue;
                }
                if (lin.To == Buf.Q)
                {
                    // A query projection of its own (cross-attention's; q/k/v together are a QkvStep already).
                    items[i] = new MatMulStep(lin, 1f, 0f, false, Buf.Q, null);
                    continue;
                }
                if (lin.To == Buf.T)
                {
                    // A head's pooler: act(W·x + b) stored into T; tanh is the epilogue's soft-cap at 1 (1·tanh(v / 1)), relu its own.
                    if (j >= items.Count || items[j] is not ActivationOp { Target: Buf.T } act || act.Kind is not (Activation.Tanh or Activation.Relu)) continue;
                    items.RemoveRange(i, 2);
                    items.Insert(i, act.Kind == Activation.Tanh ? new MatMulStep(lin, 1f, 1f, false, Buf.T, null) : new MatMulStep(lin, 1f, 0f, false, Buf.T, null, Relu: true));
                    continue;
                }
                if (lin.To == Buf.Logits)
                {
                    var logits = j < items.Count ? items[j] as LogitsOp : null;
                    items.RemoveRange(i, logits is null ? 1 : 2);
                    items.Insert(i, new MatMulStep(lin, logits?.Scale ?? 1f, logits?.Cap ?? 0f, false, Buf.Logits, null));
                    continue;
                }
                float scale = 1f;
                if (j < items.Count && items[j] is ScaleOp sc && sc.Target == lin.To) { scale = sc.Scale; j++; }
                NormOp? post = j < items.Count && items[j] is NormOp pn && pn.From == lin.To && pn.To == lin.To ? pn : null;
                if (post != null) j++;
                var add = j < items.Count ? items[j] as AddOp : null;
                if (add != null && add.Term == lin.To)
                {
                    if (post != null)
                    {
                        // X = norm(W·a) + X: the add needs the whole row normalized first.
                        items.RemoveRange(i, j + 1 - i);
                        items.Insert(i, new MatMulStep(lin with { To = Buf.T }, scale, 0f, false, Buf.T, null));
                        items.Insert(i + 1, new NormAddStep(post with { From = Buf.T, To = Buf.T }, add.Target));
                        continue;
                    }
                    Buf? then = add.Then == Buf.O ? Buf.T : add.Then;
                    items.RemoveRange(i, j + 1 - i);
                    items.Insert(i, new MatMulStep(lin, scale, 0f, true, add.Target, then));
                    continue;
                }
                if (lin.To == Buf.O && post == null)
                {
                    // Parallel residual: the attention output waits in T for the FFN's add.
                    items.RemoveRange(i, j - i);
                    items.Insert(i, new MatMulStep(lin with { To = Buf.T }, scale, 0f, false, Buf.T, null));
                }
            }
        }

        /// <summary>Ops that are a step on their own: the embedding and the attention over the cache.</summary>
        private static void WrapSingles(List<object> items)
        {
            for (int i = 0; i < items.Count; i++)
            {
                if (items[i] is AttentionOp a) items[i] = new AttentionStep(a);
                else if (items[i] is EmbedOp e) items[i] = new EmbedStep(e);
                else if (items[i] is CrossKvOp c) items[i] = new CrossKvStep(c, ActsOf(c.K.Weight.Kind, c.V.Weight.Kind));
            }
        }

        /// <summary>
        /// Before each matmul-bearing step: a RowPrepStep that converts its input rows to the activation forms of its
        /// weights, absorbing the NormOp that produced that input. Steps sharing an input (gate and up, q/k/v) share it.
        /// </summary>
        private static void FuseRowPreps(List<object> items)
        {
            for (int i = 0; i < items.Count; i++)
            {
                if (!Consumes(items[i], out Buf input, out WeightKind[] kinds)) continue;
                var acts = new List<ActKind>();
                foreach (var a in Planner.ConversionOrder)
                {
                    if (Array.Exists(kinds, k => WeightKinds.Needs(k, a))) acts.Add(a);
                }
                int width = InputWidth(items[i]);
                if (i > 0 && items[i - 1] is NormOp norm && norm.To == input)
                {
                    items[i - 1] = new RowPrepStep(norm, norm.From, norm.To, width, new EquatableArray<ActKind>(acts.ToArray()));
                }
                else if (acts.Count > 0)
                {
                    items.Insert(i, new RowPrepStep(null, input, input, width, new EquatableArray<ActKind>(acts.ToArray())));
                    i++;
                }
                // else: f32 weights read the f32 rows in place, nothing to prepare
            }
        }

        /// <summary>
        /// A norm no matmul absorbed — BERT's embedding norm and the layer_output_norm that ends a post-norm block —
        /// is a row pass of its own (a RowPrepStep with no activation forms); the next layer's q/k/v prepare their own rows.
        /// </summary>
        private static void WrapNorms(List<object> items)
        {
            for (int i = 0; i < items.Count; i++)
            {
                if (items[i] is NormOp norm) items[i] = new RowPrepStep(norm, norm.From, norm.To, norm.Width, EquatableArray<ActKind>.Empty);
            }
        }

        /// <summary>The activation forms some weights need, in the conversion order.</summary>
        private static EquatableArray<ActKind> ActsOf(params WeightKind[] kinds)
        {
            var acts = new List<ActKind>();
            foreach (var a in Planner.ConversionOrder)
                if (Array.Exists(kinds, k => WeightKinds.Needs(k, a))) acts.Add(a);
            return new EquatableArray<ActKind>(acts.ToArray());
        }

        private static int InputWidth(object step)
        {
            switch (step)
            {
                case QkvStep q: return q.Q.Cols;
                case GateUpStep g: return g.Up.Cols;
                case MatMulStep m: return m.Linear.Cols;
                default: throw new ArgumentOutOfRangeException(nameof(step));
            }
        }

        private static bool Consumes(object step, out Buf input, out WeightKind[] kinds)
        {
            switch (step)
            {
                case QkvStep q:
                    input = q.Q.From;
                    kinds = new[] { q.Q.Weight.Kind, q.K.Weight.Kind, q.V.Weight.Kind };
                    return true;
                case GateUpStep g:
                    input = g.Up.From;
                    kinds = g.Gate is null ? new[] { g.Up.Weight.Kind } : new[] { g.Gate.Weight.Kind, g.Up.Weight.Kind };
                    return true;
                case MatMulStep m:
                    input = m.Linear.From;
                    kinds = new[] { m.Linear.Weight.Kind };
                    return true;
                default:
                    input = Buf.X;
                    kinds = Array.Empty<WeightKind>();
                    return false;
            }
        }
    }
}
