using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Ingot.Formats;
using Ingot.Formats.Architectures;
using Ingot.Specs;
using JsonArray = System.Text.Json.Nodes.JsonArray;
using JsonNode = System.Text.Json.Nodes.JsonNode;
using JsonObject = System.Text.Json.Nodes.JsonObject;

namespace Ingot.TestSupport;

/// <summary>config.json per family (transformers' field names) and the tokenizer files.</summary>
public static partial class HfFolderWriter
{
    /// <summary>The fields llama-style configs share (LlamaConfig's names).</summary>
    private static JsonObject Decoder(ModelSpec s, string modelType, string architecture)
    {
        var c = new JsonObject
        {
            ["architectures"] = new JsonArray(architecture),
            ["model_type"] = modelType,
            ["vocab_size"] = s.VocabSize,
            ["hidden_size"] = s.Dim,
            ["intermediate_size"] = s.FfnDim,
            ["num_hidden_layers"] = s.Layers,
            ["num_attention_heads"] = s.Attention.Heads,
            ["num_key_value_heads"] = s.Attention.KvHeads,
            ["max_position_embeddings"] = s.ContextLength,
            ["rope_theta"] = s.Rope.Theta,
            ["tie_word_embeddings"] = s.Output.Tied,
        };
        if (s.ResolvedHeadDim != s.Dim / s.Attention.Heads) c["head_dim"] = s.ResolvedHeadDim;
        c[s.Norm.Kind == NormKind.RmsNorm ? "rms_norm_eps" : "norm_epsilon"] = s.Norm.Epsilon;
        if (s.Rope.Dimensions != s.ResolvedHeadDim && s.Architecture != "phi3") throw Unsupported(s, "partial rotary");
        var scaling = s.Rope.Scaling;
        if (scaling.Kind == RopeScalingKind.Linear) c["rope_scaling"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = scaling.Factor };
        else if (scaling.Kind == RopeScalingKind.Yarn)
            c["rope_scaling"] = new JsonObject { ["rope_type"] = "yarn", ["factor"] = scaling.Factor, ["original_max_position_embeddings"] = scaling.OriginalContext };
        return c;
    }

    private static NotSupportedException Unsupported(ModelSpec s, string what) => new($"{s.Name}: {what} has no config.json form in {s.Architecture}");

    private static JsonObject LlamaConfig(ModelSpec s, GgufFile f)
    {
        var c = Decoder(s, "llama", "LlamaForCausalLM");
        c["hidden_act"] = "silu";
        SetLinearBiases(c, s);
        if (s.Attention.SlidingWindow > 0) c["sliding_window"] = s.Attention.SlidingWindow;
        if (s.Rope.FreqFactors) c["rope_scaling"] = Llama3Scaling(s, f);
        return c;
    }

    /// <summary>attention_bias / mlp_bias (LlamaConfig): q/k/v/o biases come together.</summary>
    private static void SetLinearBiases(JsonObject c, ModelSpec s)
    {
        if (s.Attention.QkvBias != s.Attention.OutputBias) throw Unsupported(s, "q/k/v biases without an o bias (or the reverse)");
        c["attention_bias"] = s.Attention.QkvBias;
        c["mlp_bias"] = s.Ffn.Bias;
    }

    /// <summary>
    /// rope_freqs.weight as Llama 3.1's rope_scaling: factor is the last divisor (the low frequencies), low/high 1 and 4,
    /// original context 8192 (Llama 3.1's); the importer's formula must give back every value exactly.
    /// </summary>
    private static JsonObject Llama3Scaling(ModelSpec s, GgufFile f)
    {
        float[] ff = MemoryMarshal.Cast<byte, float>(f.GetTensorBytes(f.FindTensor("rope_freqs.weight")!)).ToArray();
        float factor = ff[^1];
        if (!LlamaMapping.Llama3RopeFactors(s.Rope.Theta, s.Rope.Dimensions, factor, 1f, 4f, 8192).SequenceEqual(ff))
            throw Unsupported(s, "rope_freqs other than Llama 3.1's (low 1, high 4, original context 8192)");
        return new JsonObject
        {
            ["rope_type"] = "llama3", ["factor"] = factor, ["low_freq_factor"] = 1f, ["high_freq_factor"] = 4f, ["original_max_position_embeddings"] = 8192,
        };
    }

    private static JsonObject GraniteConfig(ModelSpec s, GgufFile f)
    {
        var c = Decoder(s, "granite", "GraniteForCausalLM");
        c["hidden_act"] = "silu";
        SetLinearBiases(c, s);
        c["embedding_multiplier"] = s.Embedding.Scale;
        c["residual_multiplier"] = s.Block.ResidualScale;
        c["attention_multiplier"] = s.Attention.Scale;
        c["logits_scaling"] = s.Output.LogitScale;
        return c;
    }

    private static JsonObject Qwen2Config(ModelSpec s, GgufFile f)
    {
        if (!s.Attention.QkvBias || s.Attention.OutputBias) throw Unsupported(s, "qwen2 without q/k/v biases, or with an o bias");
        var c = Decoder(s, "qwen2", "Qwen2ForCausalLM");
        c["hidden_act"] = "silu";
        c["use_sliding_window"] = false;
        return c;
    }

    private static JsonObject Phi3Config(ModelSpec s, GgufFile f)
    {
        var c = Decoder(s, "phi3", "Phi3ForCausalLM");
        c["hidden_act"] = "silu";
        c["sliding_window"] = s.Attention.SlidingWindow > 0 ? s.Attention.SlidingWindow : null;
        c["original_max_position_embeddings"] = s.Rope.Scaling.OriginalContext > 0 ? s.Rope.Scaling.OriginalContext : s.ContextLength;
        if (s.Rope.Dimensions != s.ResolvedHeadDim) c["partial_rotary_factor"] = (double)s.Rope.Dimensions / s.ResolvedHeadDim;
        if (s.Rope.Scaling.Kind == RopeScalingKind.LongRope)
        {
            JsonArray Factors(string name) => [.. MemoryMarshal.Cast<byte, float>(f.GetTensorBytes(f.FindTensor(name)!)).ToArray().Select(v => (JsonNode)v)];
            c["rope_scaling"] = new JsonObject { ["type"] = "longrope", ["long_factor"] = Factors("rope_factors_long.weight"), ["short_factor"] = Factors("rope_factors_short.weight") };
        }
        return c;
    }

    private static JsonObject GemmaConfig(ModelSpec s, GgufFile f)
    {
        var c = Decoder(s, "gemma", "GemmaForCausalLM");
        c["head_dim"] = s.ResolvedHeadDim;
        c["hidden_act"] = "gelu_pytorch_tanh";
        c["hidden_activation"] = "gelu_pytorch_tanh";
        return c;
    }

    private static JsonObject Gemma2Config(ModelSpec s, GgufFile f)
    {
        var c = GemmaConfig(s, f);
        c["model_type"] = "gemma2";
        c["architectures"] = new JsonArray("Gemma2ForCausalLM");
        c["attn_logit_softcapping"] = s.Attention.LogitSoftcap;
        c["final_logit_softcapping"] = s.Output.FinalLogitSoftcap;
        c["sliding_window"] = s.Attention.SlidingWindow;
        c["query_pre_attn_scalar"] = s.Layers == 46 ? s.Dim / s.Attention.Heads : s.ResolvedHeadDim;
        return c;
    }

    private static JsonObject StarCoder2Config(ModelSpec s, GgufFile f)
    {
        if (s.Attention.QkvBias != s.Attention.OutputBias || s.Attention.QkvBias != s.Ffn.Bias) throw Unsupported(s, "biases on some linears only");
        var c = Decoder(s, "starcoder2", "Starcoder2ForCausalLM");
        c["hidden_act"] = "gelu_pytorch_tanh";
        c["use_bias"] = s.Attention.QkvBias;
        return c;
    }

    private static JsonObject Gpt2Config(ModelSpec s, GgufFile f)
    {
        if (s.Attention.KvHeads != s.Attention.Heads) throw Unsupported(s, "grouped-query attention");
        return new JsonObject
        {
            ["architectures"] = new JsonArray("GPT2LMHeadModel"),
            ["model_type"] = "gpt2",
            ["vocab_size"] = s.VocabSize,
            ["n_embd"] = s.Dim,
            ["n_inner"] = s.FfnDim,
            ["n_layer"] = s.Layers,
            ["n_head"] = s.Attention.Heads,
            ["n_positions"] = s.ContextLength,
            ["n_ctx"] = s.ContextLength,
            ["layer_norm_epsilon"] = s.Norm.Epsilon,
            ["activation_function"] = "gelu_new",
            ["tie_word_embeddings"] = false,
        };
    }

    private static JsonObject GptNeoXConfig(ModelSpec s, GgufFile f)
    {
        if (s.Attention.KvHeads != s.Attention.Heads) throw Unsupported(s, "grouped-query attention");
        double rotaryPct = (double)s.Rope.Dimensions / s.ResolvedHeadDim;
        if ((int)((float)rotaryPct * (double)s.ResolvedHeadDim) != s.Rope.Dimensions) throw Unsupported(s, $"{s.Rope.Dimensions} rotary dims as rotary_pct");
        return new JsonObject
        {
            ["architectures"] = new JsonArray("GPTNeoXForCausalLM"),
            ["model_type"] = "gpt_neox",
            ["vocab_size"] = s.VocabSize,
            ["hidden_size"] = s.Dim,
            ["intermediate_size"] = s.FfnDim,
            ["num_hidden_layers"] = s.Layers,
            ["num_attention_heads"] = s.Attention.Heads,
            ["max_position_embeddings"] = s.ContextLength,
            ["layer_norm_eps"] = s.Norm.Epsilon,
            ["rotary_pct"] = rotaryPct,
            ["rotary_emb_base"] = s.Rope.Theta,
            ["use_parallel_residual"] = s.Block.Residual == ResidualKind.Parallel,
            ["attention_bias"] = s.Attention.QkvBias,
            ["hidden_act"] = "gelu",
            ["tie_word_embeddings"] = false,
        };
    }

    /// <summary>BertConfig; a file with the rank head is a BertForSequenceClassification with its labels as id2label.</summary>
    private static JsonObject BertConfig(ModelSpec s, GgufFile f)
    {
        var (classifier, tokens) = BertHead(f);
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray(tokens ? "BertForTokenClassification" : classifier ? "BertForSequenceClassification" : "BertModel"),
            ["model_type"] = "bert",
            ["vocab_size"] = s.VocabSize,
            ["hidden_size"] = s.Dim,
            ["intermediate_size"] = s.FfnDim,
            ["num_hidden_layers"] = s.Layers,
            ["num_attention_heads"] = s.Attention.Heads,
            ["max_position_embeddings"] = s.ContextLength,
            ["type_vocab_size"] = s.Embedding.TokenTypes,
            ["layer_norm_eps"] = s.Norm.Epsilon,
            ["hidden_act"] = "gelu",
        };
        if (classifier) config["id2label"] = Id2Label(f);
        return config;
    }

    /// <summary>What head a BERT-family file has: a classifier (cls.output), and of every token (no cls pooler).</summary>
    private static (bool Classifier, bool Tokens) BertHead(GgufFile f)
    {
        bool classifier = f.FindTensor("cls.output.weight") is not null;
        return (classifier, classifier && f.FindTensor("cls.weight") is null);
    }

    /// <summary>id2label from bert.classifier.output_labels.</summary>
    private static JsonObject Id2Label(GgufFile f)
    {
        string[] labels = f.GetArray<string>("bert.classifier.output_labels");
        var id2label = new JsonObject();
        for (int i = 0; i < labels.Length; i++) id2label[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = labels[i];
        return id2label;
    }

    /// <summary>DistilBertConfig (dim, n_layers, n_heads, hidden_dim, activation); a classifier with id2label as BERT's.</summary>
    private static JsonObject DistilBertConfig(ModelSpec s, GgufFile f)
    {
        var (classifier, tokens) = BertHead(f);
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray(tokens ? "DistilBertForTokenClassification" : classifier ? "DistilBertForSequenceClassification" : "DistilBertModel"),
            ["model_type"] = "distilbert",
            ["vocab_size"] = s.VocabSize,
            ["dim"] = s.Dim,
            ["hidden_dim"] = s.FfnDim,
            ["n_layers"] = s.Layers,
            ["n_heads"] = s.Attention.Heads,
            ["max_position_embeddings"] = s.ContextLength,
            ["activation"] = "gelu",
            ["sinusoidal_pos_embds"] = false,
        };
        if (classifier) config["id2label"] = Id2Label(f);
        return config;
    }

    /// <summary>tokenizer.model (SentencePiece vocabularies) or tokenizer.json (byte-level BPE), and tokenizer_config.json.</summary>
    private static void WriteTokenizer(GgufFile f, ModelSpec s, string dir)
    {
        string[] tokens = f.GetArray<string>("tokenizer.ggml.tokens");
        int Id(string key) => f.TryGetInt(key, out long v) && v is >= 0 and < int.MaxValue ? (int)v : -1;
        switch (s.Tokenizer.Kind)
        {
            case "spm":
                SentencePieceModelWriter.Write(Path.Combine(dir, "tokenizer.model"), tokens, f.GetArray<float>("tokenizer.ggml.scores"), f.GetArray<int>("tokenizer.ggml.token_type"),
                    Id("tokenizer.ggml.unknown_token_id"), Id("tokenizer.ggml.bos_token_id"), Id("tokenizer.ggml.eos_token_id"), Id("tokenizer.ggml.padding_token_id"),
                    addDummyPrefix: f.GetBool("tokenizer.ggml.add_space_prefix", true));
                break;
            case "bpe":
                TokenizerJsonWriter.WriteByteLevel(Path.Combine(dir, "tokenizer.json"), f);
                break;
            case "wpm":
                TokenizerJsonWriter.WriteWordPiece(Path.Combine(dir, "tokenizer.json"), f);
                var wp = new JsonObject { ["cls_token"] = tokens[s.Tokenizer.Bos], ["sep_token"] = tokens[s.Tokenizer.Eos], ["unk_token"] = "[UNK]", ["pad_token"] = "[PAD]" };
                File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), wp.ToJsonString(new() { WriteIndented = true }));
                return;
            default:
                throw Unsupported(s, $"a '{s.Tokenizer.Kind}' tokenizer");
        }
        var config = new JsonObject { ["add_bos_token"] = s.Tokenizer.AddBos, ["add_eos_token"] = s.Tokenizer.AddEos };
        if (s.Tokenizer.Bos >= 0) config["bos_token"] = tokens[s.Tokenizer.Bos];
        if (s.Tokenizer.Eos >= 0) config["eos_token"] = tokens[s.Tokenizer.Eos];
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config.ToJsonString(new() { WriteIndented = true }));
    }
}
