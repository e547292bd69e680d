using System.Runtime.InteropServices;

namespace Ingot.Runtime.Quants;

// ggml block layouts, one struct per type (ggml-common.h order; every field little-endian, no padding).
// Sizes are asserted in tests against GgmlTypeTraits.BlockBytes. "QK" = elements per block.

/// <summary>Q4_0 (32 elements, 18 bytes): value = d*(c-8), c = 4-bit code in the nibble-pair layout.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_0 { public const int QK = 32; public Half D; public fixed byte Qs[16]; }

/// <summary>Q4_1 (32 elements, 20 bytes): value = d*c + m.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_1 { public const int QK = 32; public Half D; public Half M; public fixed byte Qs[16]; }

/// <summary>Q5_0 (32 elements, 22 bytes): c = nibble + 16*bit(qh, i), value = d*(c-16).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_0 { public const int QK = 32; public Half D; public uint Qh; public fixed byte Qs[16]; }

/// <summary>Q5_1 (32 elements, 24 bytes): c as Q5_0, value = d*c + m.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_1 { public const int QK = 32; public Half D; public Half M; public uint Qh; public fixed byte Qs[16]; }

/// <summary>Q8_0 (32 elements, 34 bytes): value = d*q.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_0 { public const int QK = 32; public Half D; public fixed sbyte Qs[32]; }

/// <summary>Q8_1 (32 elements, 36 bytes, activations): value = d*q; s = f16(d_f32 * sum(q)).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_1 { public const int QK = 32; public Half D; public Half S; public fixed sbyte Qs[32]; }

/// <summary>Q8_K (256 elements, 292 bytes, activations): float d, q[256], bsums[g] = sum q[16g..16g+15].</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_K { public const int QK = 256; public float D; public fixed sbyte Qs[256]; public fixed short BSums[16]; }

/// <summary>Q2_K (256 elements, 84 bytes): 16 sub-blocks of 16; scales low nibble = scale, high nibble = min.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ2_K { public const int QK = 256; public fixed byte Scales[16]; public fixed byte Qs[64]; public Half D; public Half DMin; }

/// <summary>Q3_K (256 elements, 110 bytes): 2 low bits in qs, high bit in hmask, 16 packed 6-bit signed scales.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ3_K { public const int QK = 256; public fixed byte HMask[32]; public fixed byte Qs[64]; public fixed byte Scales[12]; public Half D; }

/// <summary>Q4_K (256 elements, 144 bytes): 8 sub-blocks of 32, 6-bit scale and min packed in 12 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_K { public const int QK = 256; public Half D; public Half DMin; public fixed byte Scales[12]; public fixed byte Qs[128]; }

/// <summary>Q5_K (256 elements, 176 bytes): Q4_K plus a fifth bit per element in qh.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_K { public const int QK = 256; public Half D; public Half DMin; public fixed byte Scales[12]; public fixed byte Qh[32]; public fixed byte Qs[128]; }

/// <summary>Q6_K (256 elements, 210 bytes): 4 low bits in ql, 2 high bits in qh, int8 scale per 16.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ6_K { public const int QK = 256; public fixed byte Ql[128]; public fixed byte Qh[64]; public fixed sbyte Scales[16]; public Half D; }

/// <summary>IQ4_NL (32 elements, 18 bytes): value = d*K[i], K = <see cref="QuantTraits.IQ4NLValues"/>.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockIQ4_NL { public const int QK = 32; public Half D; public fixed byte Qs[16]; }

/// <summary>IQ4_XS (256 elements, 136 bytes): 8 sub-blocks of 32 with 6-bit scales (ls-32), values from the IQ4_NL table.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockIQ4_XS { public const int QK = 256; public Half D; public ushort ScalesH; public fixed byte ScalesL[4]; public fixed byte Qs[128]; }
