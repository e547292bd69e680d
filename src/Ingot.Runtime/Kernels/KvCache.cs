using System.Runtime.InteropServices;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// F32 key/value cache: per layer, K and V are ctx · kvDim floats (kvDim = kv_heads · head_dim), laid out by the
/// generated code: a decoder's self-attention cache head-major, (kv_heads, ctx, head_dim), so that each head's keys
/// and values are one contiguous stream for attention (the key of cell t, KV head g at K(layer) + (g · ctx + t) ·
/// head_dim); an encoder's and the cross-attention caches token-major, (ctx, kvDim). Native, 64-byte aligned,
/// zeroed, never moved by the GC; Dispose frees it.
/// </summary>
public sealed unsafe class KvCache : IDisposable
{
    private float* _data;
    private readonly nint _layerFloats;

    public KvCache(int layers, int ctx, int kvDim)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ctx);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvDim);
        Layers = layers;
        Context = ctx;
        KvDim = kvDim;
        _layerFloats = (nint)ctx * kvDim;
        nuint bytes = (nuint)(2 * layers * _layerFloats * sizeof(float));
        _data = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(_data, bytes);
        ByteSize = (long)bytes;
    }

    public int Layers { get; }
    public int Context { get; }
    public int KvDim { get; }
    public long ByteSize { get; }

    /// <summary>Keys of a layer: (ctx, kvDim).</summary>
    public float* K(int layer) => Base(layer);

    /// <summary>Values of a layer: (ctx, kvDim).</summary>
    public float* V(int layer) => Base(layer) + _layerFloats;

    private float* Base(int layer)
    {
        ObjectDisposedException.ThrowIf(_data == null, this);
        if ((uint)layer >= (uint)Layers) throw new ArgumentOutOfRangeException(nameof(layer));
        return _data + 2 * layer * _layerFloats;
    }

    /// <summary>Zeroes the cache (not needed for correctness: positions ≥ nKv are never read).</summary>
    public void Clear() => NativeMemory.Clear(_data, (nuint)ByteSize);

    public void Dispose()
    {
        if (_data != null)
        {
            NativeMemory.AlignedFree(_data);
            _data = null;
        }
        GC.SuppressFinalize(this);
    }

    ~KvCache()
    {
        if (_data != null) NativeMemory.AlignedFree(_data);
    }
}
