using System.Globalization;
using Ingot.Formats.HuggingFace;
using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// BERT (llama.cpp's bert graph): an encoder. x = LayerNorm(token row + token_types row 0 + position row) (llama.cpp
/// hard-codes token type 0); post-LayerNorm blocks with biases everywhere, x = LN(x + Attn(x)), x = LN(x + FFN(x)),
/// FFN down(gelu(up(x))); attention non-causal, scaled by 1/sqrt(head_dim), no rope; the output is the last hidden
/// state (no final norm), pooled as bert.pooling_type says (0 none, 1 mean, 2 cls, 3 last, 4 rank).
/// <para>
/// Hugging Face (BertModel, BertForSequenceClassification; AlbertModel, AlbertForSequenceClassification — a factorized
/// embedding and one shared layer, kept as bert.embedding_size / bert.shared_layers and blk.0; DistilBertModel, DistilBertForSequenceClassification — BERT
/// without token types, its pre_classifier followed by relu; names with or without "bert." / "distilbert."): embeddings.* and
/// encoder.layer.N.* map one to one (position and token type embeddings stay F32); a sequence classifier's pooler.dense
/// and classifier become the rank head's cls and cls.output, with id2label as bert.classifier.output_labels. hidden_act
/// "gelu" is transformers' exact erf GELU, so the spec says gelu_erf (llama.cpp's converter runs BERT with its tanh
/// table instead; a GGUF converted there keeps gelu).
/// </para>
/// </summary>
public sealed class BertMapping : ArchitectureMapping
{
    public override string Name => "bert";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s)
    {
        RequireTensor(f, "position_embd.weight");
        RequireTensor(f, "token_embd_norm.weight");
        if (f.GetBool("bert.attention.causal", true))
            throw new InvalidModelFileException(f.Path, "metadata key 'bert.attention.causal'", f.GetMetadataOffset("bert.attention.causal"),
                "missing or true: llama.cpp's bert is an encoder and requires it false");
        var types = f.FindTensor("token_types.weight");
        int pooling = f.GetInt32("bert.pooling_type", 0);
        int labels = 0;
        if (pooling == 0 && f.FindTensor("cls.output.weight") is { } tokenHead && f.FindTensor("cls.weight") is null)
        {
            // A token classifier (Ingot's layout: cls.output on every token's row, no pooler).
            labels = tokenHead.Dims.Length == 2 ? (int)tokenHead.Dims[1] : 1;
        }
        if (pooling == 4)
        {
            // The rank head's outputs: one for a reranker, one per label for a sequence classifier.
            var output = f.FindTensor("cls.output.weight")
                ?? throw new InvalidModelFileException(f.Path, "tensor 'cls.output.weight'", null, "missing: a rank head without cls.output (jina-reranker-v1) is not compiled");
            labels = output.Dims.Length == 2 ? (int)output.Dims[1] : 1;
        }
        return s with
        {
            Embedding = s.Embedding with
            {
                Positions = PositionKind.Learned, TokenTypes = types is { Dims.Length: 2 } ? (int)types.Dims[1] : 0, Norm = true,
                Size = f.GetInt32("bert.embedding_size", 0),
            },
            Attention = s.Attention with { Causal = false },
            Norm = s.Norm with { Bias = true },
            Block = s.Block with { NormPosition = NormPosition.Post, SharedLayers = f.GetBool("bert.shared_layers", false) },
            Rope = new RopeSpec { Kind = RopeKind.None, Dimensions = 0 },
            Ffn = s.Ffn with { Gated = false, Activation = FfnActivation(f) },
            Output = new OutputSpec
            {
                Labels = labels,
                HeadActivation = f.GetString("bert.classifier.pooler_activation", null) switch
                {
                    null or "tanh" => Activation.Tanh,
                    "relu" => Activation.Relu,
                    var other => throw new InvalidModelFileException(f.Path, "metadata key 'bert.classifier.pooler_activation'", f.GetMetadataOffset("bert.classifier.pooler_activation"), $"'{other}' is not tanh or relu"),
                },
                Pooling = SpecNames.TryPoolingOfLlamaType(pooling, out var kind) ? kind
                    : throw new InvalidModelFileException(f.Path, "metadata key 'bert.pooling_type'", f.GetMetadataOffset("bert.pooling_type"),
                        $"pooling type {pooling} is not one of 0 none, 1 mean, 2 cls, 3 last, 4 rank"),
            },
        };
    }

    /// <summary>
    /// llama.cpp's bert runs GELU through its tanh table. An import whose activation differs (transformers' "gelu" is
    /// the exact erf form) says so in bert.hidden_act, a key only Ingot reads: the file then describes the model it was
    /// imported from, and llama.cpp still loads it.
    /// </summary>
    private static Activation FfnActivation(GgufFile f) => f.GetString("bert.hidden_act", null) switch
    {
        null or "gelu" => Activation.Gelu,
        "gelu_erf" => Activation.GeluErf,
        "relu" => Activation.Relu,
        var other => throw new InvalidModelFileException(f.Path, "metadata key 'bert.hidden_act'", f.GetMetadataOffset("bert.hidden_act"), $"'{other}' is not gelu, gelu_erf or relu"),
    };

    protected override void WriteFamilyMetadata(ModelSpec s, GgufWriter w)
    {
        if (s.Ffn.Activation != Activation.Gelu) w.Set("bert.hidden_act", SpecNames.Of(s.Ffn.Activation));
        // ALBERT (Ingot-only keys too): the factorized embedding's width, and one set of layer tensors (blk.0) for all layers.
        if (s.Embedding.Size > 0) w.Set("bert.embedding_size", (uint)s.Embedding.Size);
        if (s.Block.SharedLayers) w.Set("bert.shared_layers", true);
        // DistilBERT's pre_classifier is followed by relu where BERT's pooler has tanh (another Ingot-only key).
        if (s.Output.Pooling == PoolingKind.Rank && s.Output.HeadActivation != Activation.Tanh) w.Set("bert.classifier.pooler_activation", SpecNames.Of(s.Output.HeadActivation));
        w.Set("bert.attention.causal", false);
        w.Set("bert.pooling_type", (uint)SpecNames.LlamaPoolingType(s.Output.Pooling));
        if (s.Embedding.TokenTypes > 0) w.Set("tokenizer.ggml.token_type_count", (uint)s.Embedding.TokenTypes);
        // A classifier's label names (newer llama.cpp's {arch}.classifier.output_labels); an importer with real names overwrites them.
        if (s.Output.Labels > 1 || s.Output.Pooling == PoolingKind.None && s.Output.Labels > 0) w.Set("bert.classifier.output_labels", Enumerable.Range(0, s.Output.Labels).Select(i => "LABEL_" + i).ToArray());
    }

    /// <summary>
    /// BERT's layout: learned positions (context rows), two token types, the embedding LayerNorm, post-LayerNorm blocks
    /// with biases everywhere, a plain GELU FFN, non-causal attention, CLS pooling (or --pooling; rank adds the
    /// cls / cls.output head); heads of dim / heads (llama.cpp
    /// declares attn_q {dim, dim}).
    /// </summary>
    internal override ModelSpec Synth(ModelSpec s, SynthOptions o)
    {
        SynthRequireFullWidthHeads(s);
        return s with
        {
            Embedding = new EmbeddingSpec { Positions = PositionKind.Learned, TokenTypes = 2, Norm = true },
            Attention = s.Attention with { Causal = false, QkvBias = true, OutputBias = true },
            Norm = SynthLayerNorm(s),
            Block = new BlockSpec { NormPosition = NormPosition.Post },
            Rope = new RopeSpec { Kind = RopeKind.None, Dimensions = 0 },
            Ffn = new FfnSpec { Gated = false, Activation = Activation.Gelu, Bias = true },
            Output = new OutputSpec { Pooling = o.Pooling ?? PoolingKind.Cls, Labels = o.Pooling == PoolingKind.Rank ? o.Labels ?? 1 : 0 },
        };
    }

    internal override string[] HfModelTypes => ["bert", "distilbert", "albert"];

    private static bool IsAlbert(HfConfig c) => c.String("model_type") == "albert";

    private static bool IsDistil(HfConfig c) => c.String("model_type") == "distilbert";

    // transformers' BertConfig; DistilBertConfig's names differ (dim, n_layers, n_heads, hidden_dim, activation) and are
    // mapped onto BERT's before these apply. DistilBERT's LayerNorm eps is 1e-12 in code, not in its config.
    internal override string HfDefaults => """{"hidden_act": "gelu", "layer_norm_eps": 1e-12, "type_vocab_size": 2, "max_position_embeddings": 512, "position_embedding_type": "absolute"}""";

    internal override ModelSpec FromHfConfig(HfConfig c)
    {
        if (IsDistil(c))
        {
            if (c.Bool("sinusoidal_pos_embds", false)) throw c.Error("sinusoidal_pos_embds", "true cannot be expressed (learned positions only)");
            c = c.WithDefaults($$"""{"hidden_size": {{c.Int("dim")}}, "num_hidden_layers": {{c.Int("n_layers")}}, "num_attention_heads": {{c.Int("n_heads")}}, "intermediate_size": {{c.Int("hidden_dim")}}}""");
        }
        if (c.String("position_embedding_type") is { } pe && pe != "absolute") throw c.Error("position_embedding_type", $"'{pe}' cannot be expressed (absolute positions only)");
        if (IsAlbert(c))
        {
            if (c.Int("num_hidden_groups", 1) != 1) throw c.Error("num_hidden_groups", "must be 1: one shared layer group");
            if (c.Int("inner_group_num", 1) != 1) throw c.Error("inner_group_num", "must be 1: one layer per group");
        }
        string actKey = IsDistil(c) ? "activation" : "hidden_act";
        var act = (c.String(actKey) ?? (IsAlbert(c) ? "gelu_new" : "gelu")) switch
        {
            "gelu" => Activation.GeluErf,
            "gelu_new" or "gelu_pytorch_tanh" => Activation.Gelu,
            "relu" => Activation.Relu,
            var other => throw c.Error(actKey, $"'{other}' cannot be expressed (gelu, gelu_new, relu)"),
        };
        var s = HfDecoder(c);
        bool classifier = IsSequenceClassifier(c), tokenClassifier = IsTokenClassifier(c);
        int labels = 0;
        if (classifier || tokenClassifier)
        {
            var map = c.Object("id2label") ?? throw c.Error("id2label", "missing: a sequence classifier needs its label names");
            labels = map.Keys.Count();
            if (labels < 1) throw c.Error("id2label", "is empty");
        }
        return s with
        {
            Embedding = new EmbeddingSpec
            {
                Positions = PositionKind.Learned, TokenTypes = IsDistil(c) ? 0 : c.Int("type_vocab_size", 2), Norm = true,
                Size = IsAlbert(c) && c.Int("embedding_size") != s.Dim ? c.Int("embedding_size") : 0,
            },
            Attention = s.Attention with { Causal = false, QkvBias = true, OutputBias = true },
            Norm = s.Norm with { Bias = true },
            Block = new BlockSpec { NormPosition = NormPosition.Post, SharedLayers = IsAlbert(c) },
            Rope = new RopeSpec { Kind = RopeKind.None, Dimensions = 0 },
            Ffn = new FfnSpec { Gated = false, Activation = act, Bias = true },
            Output = new OutputSpec
            {
                Pooling = classifier ? PoolingKind.Rank : PoolingKind.None, Labels = labels,
                HeadActivation = IsDistil(c) ? Activation.Relu : Activation.Tanh,
            },
        };
    }

    private static bool IsTokenClassifier(HfConfig c) =>
        c.Strings("architectures") is { } a && (a.Contains("BertForTokenClassification") || a.Contains("DistilBertForTokenClassification") || a.Contains("AlbertForTokenClassification"));

    private static bool IsSequenceClassifier(HfConfig c) =>
        c.Strings("architectures") is { } a && (a.Contains("BertForSequenceClassification") || a.Contains("DistilBertForSequenceClassification") || a.Contains("AlbertForSequenceClassification"));

    /// <summary>id2label's names in id order, as bert.classifier.output_labels; every id 0 .. n − 1 must be there.</summary>
    internal override void HfMetadata(HfConfig c, GgufWriter w)
    {
        if (!IsSequenceClassifier(c) && !IsTokenClassifier(c)) return;
        var map = c.Object("id2label")!;
        var names = new string[map.Keys.Count()];
        foreach (var key in map.Keys)
        {
            if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int id) || id >= names.Length)
                throw map.Error(key, $"is not a label id 0 .. {names.Length - 1}");
            names[id] = map.String(key) ?? throw map.Error(key, "is not a string");
        }
        w.Set("bert.classifier.output_labels", names);
    }

    internal override string HfName(string name) =>
        name.StartsWith("bert.", StringComparison.Ordinal) ? name["bert.".Length..] : name.StartsWith("distilbert.", StringComparison.Ordinal) ? name["distilbert.".Length..]
        : name.StartsWith("albert.", StringComparison.Ordinal) ? name["albert.".Length..] : name;

    internal override IEnumerable<HfTensor> HfTensors(ModelSpec s, HfConfig c, HfCheckpoint ck) =>
        BertStyleTensors(s, IsDistil(c) ? DistilNames : IsAlbert(c) ? AlbertNames : BertNames);

    /// <summary>
    /// Where a BERT-style checkpoint keeps a layer's modules (after the "bert." / "distilbert." / "albert." prefix):
    /// <see cref="Layer"/> is the layer's prefix ({0} = the layer; ALBERT's one shared layer has none), the rest the
    /// modules of q, k, v, the attention output and its norm, the FFN's two matrices and the output norm, and the
    /// sequence head's pooler (or pre_classifier).
    /// </summary>
    private sealed record HfBertNames(string Layer, string Q, string K, string V, string O, string AttnNorm, string Up, string Down, string OutNorm, string Pooler);

    private static readonly HfBertNames BertNames = new("encoder.layer.{0}.", "attention.self.query", "attention.self.key", "attention.self.value",
        "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm", "pooler.dense");

    private static readonly HfBertNames DistilNames = new("transformer.layer.{0}.", "attention.q_lin", "attention.k_lin", "attention.v_lin",
        "attention.out_lin", "sa_layer_norm", "ffn.lin1", "ffn.lin2", "output_layer_norm", "pre_classifier");

    private static readonly HfBertNames AlbertNames = new("encoder.albert_layer_groups.0.albert_layers.0.", "attention.query", "attention.key", "attention.value",
        "attention.dense", "attention.LayerNorm", "ffn", "ffn_output", "full_layer_layer_norm", "pooler");

    /// <summary>
    /// The embeddings (word, token type when the spec has them, position, LayerNorm, all of the embedding width; then
    /// ALBERT's embedding_hidden_mapping_in to dim as token_embd_proj), each layer (with shared layers, blk.0 only), and
    /// the head: the pooler as cls for a sequence head, the classifier as cls.output.
    /// </summary>
    private IEnumerable<HfTensor> BertStyleTensors(ModelSpec s, HfBertNames n)
    {
        long d = s.Dim, ff = s.FfnDim, e = s.Embedding.Size > 0 ? s.Embedding.Size : s.Dim;
        var list = new List<HfTensor> { new("token_embd.weight", "embeddings.word_embeddings.weight", [e, s.VocabSize]) };
        if (s.Embedding.TokenTypes > 0)
            list.Add(new("token_types.weight", "embeddings.token_type_embeddings.weight", [e, s.Embedding.TokenTypes]) { KeepF32 = true });
        list.Add(new("position_embd.weight", "embeddings.position_embeddings.weight", [e, s.ContextLength]) { KeepF32 = true });
        list.Add(new("token_embd_norm.weight", "embeddings.LayerNorm.weight", [e]));
        list.Add(new("token_embd_norm.bias", "embeddings.LayerNorm.bias", [e]));
        if (e != d) list.AddRange(HfLinear("token_embd_proj", "encoder.embedding_hidden_mapping_in", e, d, bias: true));
        for (int l = 0; l < (s.Block.SharedLayers ? 1 : s.Layers); l++)
        {
            string g = $"blk.{l}.", h = string.Format(CultureInfo.InvariantCulture, n.Layer, l);
            list.AddRange(HfLinear(g + "attn_q", h + n.Q, d, d, bias: true));
            list.AddRange(HfLinear(g + "attn_k", h + n.K, d, d, bias: true));
            list.AddRange(HfLinear(g + "attn_v", h + n.V, d, d, bias: true));
            list.AddRange(HfLinear(g + "attn_output", h + n.O, d, d, bias: true));
            list.AddRange(HfNorm(s, g + "attn_output_norm", h + n.AttnNorm));
            list.AddRange(HfLinear(g + "ffn_up", h + n.Up, d, ff, bias: true));
            list.AddRange(HfLinear(g + "ffn_down", h + n.Down, ff, d, bias: true));
            list.AddRange(HfNorm(s, g + "layer_output_norm", h + n.OutNorm));
        }
        if (s.Output.Pooling == PoolingKind.Rank) list.AddRange(HfLinear("cls", n.Pooler, d, d, bias: true));
        if (s.Output.Labels > 0) list.AddRange(HfLinear("cls.output", "classifier", d, s.Output.Labels, bias: true));
        return list;
    }

    // The position_ids buffer; the pooler of a model without a sequence head (ALBERT's is "pooler.weight"); a masked-LM head.
    internal override bool HfDrops(string name, ModelSpec s) =>
        name.EndsWith("position_ids", StringComparison.Ordinal) || s.Output.Pooling != PoolingKind.Rank && name.StartsWith("pooler.", StringComparison.Ordinal)
        || name.StartsWith("cls.predictions.", StringComparison.Ordinal) || name.StartsWith("predictions.", StringComparison.Ordinal);
}
