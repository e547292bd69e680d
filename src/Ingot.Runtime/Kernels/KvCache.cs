using System.Runtime.InteropServices;
using Ingot.Formats;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// Key/value cache: per layer, K and V are ctx · kvDim elements (kvDim = kv_heads · head_dim), F32 or F16
/// (<see cref="KvCacheType"/>), laid out by the generated code: a decoder's self-attention cache head-major,
/// (kv_heads, ctx, head_dim), so that each head's keys and values are one contiguous stream for attention (the key of
/// cell t, KV head g at K(layer) + (g · ctx + t) · head_dim); an encoder's and the cross-attention caches token-major,
/// (ctx, kvDim), and always F32. Native, 64-byte aligned, zeroed, in 2 MB pages where Linux grants them
/// (<see cref="LargePages"/>), never moved by the GC; Dispose frees it.
/// </summary>
public sealed unsafe class KvCache : IDisposable
{
    private byte* _data;
    private readonly void* _mapping;
    private readonly nuint _mappedBytes;
    private readonly nint _layerBytes;

    public KvCache(int layers, int ctx, int kvDim, KvCacheType type = KvCacheType.F32)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ctx);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvDim);
        if (type is not (KvCacheType.F32 or KvCacheType.F16)) throw new ArgumentOutOfRangeException(nameof(type), type, "the KV cache holds F32 or F16");
        Layers = layers;
        Context = ctx;
        KvDim = kvDim;
        Type = type;
        _layerBytes = (nint)ctx * kvDim * (type == KvCacheType.F16 ? sizeof(ushort) : sizeof(float));
        nuint bytes = (nuint)(2 * layers * _layerBytes);
        _data = LargePages.Alloc(bytes, out _mapping, out _mappedBytes);
        ByteSize = (long)bytes;
    }

    public int Layers { get; }
    public int Context { get; }
    public int KvDim { get; }
    public KvCacheType Type { get; }
    public long ByteSize { get; }

    /// <summary>Keys of an F32 cache's layer: (ctx, kvDim) floats.</summary>
    public float* K(int layer) => (float*)Floats(layer);

    /// <summary>Values of an F32 cache's layer: (ctx, kvDim) floats.</summary>
    public float* V(int layer) => (float*)(Floats(layer) + _layerBytes);

    /// <summary>Keys of a layer in the cache's own element type (float or Half).</summary>
    public void* Keys(int layer) => Base(layer);

    /// <summary>Values of a layer in the cache's own element type (float or Half).</summary>
    public void* Values(int layer) => Base(layer) + _layerBytes;

    private byte* Floats(int layer) =>
        Type == KvCacheType.F32 ? Base(layer) : throw new InvalidOperationException("an F16 KV cache has no float rows: use Keys and Values");

    private byte* Base(int layer)
    {
        ObjectDisposedException.ThrowIf(_data == null, this);
        if ((uint)layer >= (uint)Layers) throw new ArgumentOutOfRangeException(nameof(layer));
        return _data + 2 * layer * _layerBytes;
    }

    /// <summary>
    /// A chunk's keys and values into a head-major layer, converted to the cache's type (F16: rounded to nearest even,
    /// as ggml's copy into an F16 cache): row t of <paramref name="kRows"/> and <paramref name="vRows"/> (n, kvHeads ·
    /// headDim) goes to the cell <paramref name="tok"/> gives it (first cell + position), KV head g's headDim elements
    /// at (g · Context + cell) · headDim. For chunks whose cells are not consecutive (several sequences in one step),
    /// and every chunk of an F16 cache.
    /// </summary>
    public void ScatterHeads(int layer, float* kRows, float* vRows, int* tok, int n, int kvHeads, int headDim)
    {
        byte* k = Base(layer), v = k + _layerBytes;
        nint headStride = (nint)Context * headDim;
        for (int t = 0; t < n; t++)
        {
            nint cell = ((nint)tok[2 * t] + tok[2 * t + 1]) * headDim, row = (nint)t * kvHeads * headDim;
            for (int g = 0; g < kvHeads; g++)
            {
                nint at = g * headStride + cell;
                if (Type == KvCacheType.F16)
                {
                    NarrowRow(kRows + row + g * headDim, (Half*)k + at, headDim);
                    NarrowRow(vRows + row + g * headDim, (Half*)v + at, headDim);
                }
                else
                {
                    long bytes = (long)headDim * sizeof(float);
                    Buffer.MemoryCopy(kRows + row + g * headDim, (float*)k + at, bytes, bytes);
                    Buffer.MemoryCopy(vRows + row + g * headDim, (float*)v + at, bytes, bytes);
                }
            }
        }
        // the non-temporal stores are weakly ordered: visible to the attention's threads before they read the rows
        if (Type == KvCacheType.F16 && MachineCode.F32Narrow512Nt != null) System.Runtime.Intrinsics.X86.Sse.StoreFence();
    }

    /// <summary>
    /// One new F16 row: non-temporal stores where the machine code runs and the row is whole runs of 32 at a 32-byte
    /// aligned address (a cold line is then written without being read first), else <see cref="Vec.Convert.F32ToF16"/>.
    /// </summary>
    private static void NarrowRow(float* x, Half* dst, int n)
    {
        if (MachineCode.F32Narrow512Nt != null && n % 32 == 0 && ((nint)dst & 31) == 0) MachineCode.F32Narrow512Nt(x, dst, n);
        else Vec.Convert.F32ToF16(x, dst, n);
    }

    /// <summary>Zeroes the cache (not needed for correctness: positions ≥ nKv are never read).</summary>
    public void Clear() => NativeMemory.Clear(_data, (nuint)ByteSize);

    public void Dispose()
    {
        if (_data != null)
        {
            LargePages.Free(_data, _mapping, _mappedBytes);
            _data = null;
        }
        GC.SuppressFinalize(this);
    }

    ~KvCache()
    {
        if (_data != null) LargePages.Free(_data, _mapping, _mappedBytes);
    }
}
