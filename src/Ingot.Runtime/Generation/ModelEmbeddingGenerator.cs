using Ingot.Runtime.Kernels;
using Ingot.Specs;
using Microsoft.Extensions.AI;

namespace Ingot.Runtime.Generation;

/// <summary>
/// A compiled encoder as Microsoft.Extensions.AI's <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>: each text is
/// tokenized as the model's file says ([CLS] … [SEP]), the texts run in batches of up to MaxTokens tokens (each sees
/// only its own), and each gets one vector, as `embed` gives it:
/// <list type="bullet">
/// <item>pooled the way the file asks (mean, CLS or last). A reranker's or token classifier's file asks for none of
/// these: it is pooled by CLS (rank) or mean (none).</item>
/// <item>L2-normalized unless constructed otherwise, as llama.cpp's embeddings are by default.</item>
/// </list>
/// A text longer than the model takes is a <see cref="ContextOverflowException"/> naming both lengths, not a silent
/// cut. <see cref="EmbeddingGenerationOptions.Dimensions"/> other than the model's width is a NotSupportedException.
/// One model: calls run one at a time.
/// </summary>
public sealed class ModelEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly IEncoder _model;
    private readonly ITokenCodec _codec;
    private readonly PoolingKind _pooling;
    private readonly bool _normalize;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public ModelEmbeddingGenerator(IEncoder model, ITokenCodec codec, bool normalize = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(codec);
        (_model, _codec, _normalize) = (model, codec, normalize);
        _pooling = model.Pooling switch
        {
            PoolingKind.Rank => PoolingKind.Cls,
            PoolingKind.None => PoolingKind.Mean,
            var p => p,
        };
    }

    /// <summary>The pooling the vectors get.</summary>
    public PoolingKind Pooling => _pooling;

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        int dim = _model.HiddenSize;
        if (options?.Dimensions is int d && d != dim)
            throw new NotSupportedException($"EmbeddingGenerationOptions.Dimensions {d}: {_model.Description.Name} gives vectors of {dim}");
        var inputs = new List<int[]>();
        int i = 0;
        foreach (string text in values)
        {
            ArgumentNullException.ThrowIfNull(text, $"values[{i}]");
            var ids = _codec.EncodePrompt(text);
            if (ids.Count > _model.MaxTokens)
                throw new ContextOverflowException($"text {i} has {ids.Count} tokens but {_model.Description.Name} takes at most {_model.MaxTokens}");
            inputs.Add([.. ids]);
            i++;
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Task.Yield(); // the encoding runs after the caller has the task
            var vectors = new float[inputs.Count][];
            EncoderBatches.Run(_model, inputs, withScores: false, (index, hidden, _) =>
            {
                var v = new float[dim];
                Kernels.Pooling.Pool(_pooling, hidden, inputs[index].Length, dim, v);
                if (_normalize) Kernels.Pooling.Normalize(v);
                vectors[index] = v;
            });
            var created = DateTimeOffset.UtcNow;
            string modelId = _model.Description.Name;
            var result = new GeneratedEmbeddings<Embedding<float>>(vectors.Select(v => new Embedding<float>(v) { ModelId = modelId, CreatedAt = created }))
            {
                Usage = new UsageDetails { InputTokenCount = inputs.Sum(x => x.Length), TotalTokenCount = inputs.Sum(x => x.Length) },
            };
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>EmbeddingGeneratorMetadata ("ingot", the model's name, its width), the model's <see cref="ModelDescription"/>, the model, or this generator.</summary>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata)) return new EmbeddingGeneratorMetadata("ingot", null, _model.Description.Name, _model.HiddenSize);
        if (serviceType == typeof(ModelDescription)) return _model.Description;
        if (serviceType.IsInstanceOfType(this)) return this;
        if (serviceType.IsInstanceOfType(_model)) return _model;
        return null;
    }

    /// <summary>The model stays its owner's.</summary>
    public void Dispose() => _gate.Dispose();
}
