using System.Runtime.Intrinsics;

namespace Ingot.Runtime.Kernels;

/// <summary>Elementwise helpers over float rows. Outputs may alias inputs.</summary>
public static unsafe class Vec
{
    /// <summary>y = a + b.</summary>
    public static void Add(float* a, float* b, float* y, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8) Vector256.Store(Vector256.Load(a + i) + Vector256.Load(b + i), y + i);
        else if (Vector128.IsHardwareAccelerated)
            for (; i <= n - 4; i += 4) Vector128.Store(Vector128.Load(a + i) + Vector128.Load(b + i), y + i);
        for (; i < n; i++) y[i] = a[i] + b[i];
    }

    /// <summary>y = a * b (elementwise).</summary>
    public static void Mul(float* a, float* b, float* y, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8) Vector256.Store(Vector256.Load(a + i) * Vector256.Load(b + i), y + i);
        else if (Vector128.IsHardwareAccelerated)
            for (; i <= n - 4; i += 4) Vector128.Store(Vector128.Load(a + i) * Vector128.Load(b + i), y + i);
        for (; i < n; i++) y[i] = a[i] * b[i];
    }

    /// <summary>y = x * s.</summary>
    public static void Scale(float* x, float s, float* y, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var v = Vector256.Create(s);
            for (; i <= n - 8; i += 8) Vector256.Store(Vector256.Load(x + i) * v, y + i);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var v = Vector128.Create(s);
            for (; i <= n - 4; i += 4) Vector128.Store(Vector128.Load(x + i) * v, y + i);
        }
        for (; i < n; i++) y[i] = x[i] * s;
    }

    /// <summary>y += x * s (axpy).</summary>
    public static void AddScaled(float* x, float s, float* y, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var v = Vector256.Create(s);
            for (; i <= n - 8; i += 8) Vector256.Store(Vector256.MultiplyAddEstimate(Vector256.Load(x + i), v, Vector256.Load(y + i)), y + i);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var v = Vector128.Create(s);
            for (; i <= n - 4; i += 4) Vector128.Store(Vector128.MultiplyAddEstimate(Vector128.Load(x + i), v, Vector128.Load(y + i)), y + i);
        }
        for (; i < n; i++) y[i] += x[i] * s;
    }

    /// <summary>Type conversions.</summary>
    public static class Convert
    {
        /// <summary>
        /// x (f32) → y (f16), round-to-nearest-even as F16C's vcvtps2ph (ggml's activation rounding): whole runs of 32 by
        /// vcvtps2ph where the machine code may run (MachineCode.F32Narrow512), the rest one by one.
        /// </summary>
        public static void F32ToF16(float* x, Half* y, int n)
        {
            int i = 0;
            if (n >= 32 && MachineCode.F32Narrow512 != null)
            {
                i = n & ~31;
                MachineCode.F32Narrow512(x, y, i);
            }
            ushort* h = (ushort*)y;
            for (; i < n; i++) h[i] = HalfBits.F32ToF16Bits(x[i]);
        }

        /// <summary>
        /// y[i] = x[i] rounded to F16 precision (nearest even) and widened back, i &lt; n (in place allowed): ggml's
        /// conversion of an operand to F16, as <see cref="F32ToF16"/> then <see cref="F16ToF32"/> give. Whole runs of 32
        /// in registers where the machine code may run (MachineCode.F32RoundF16_512), the rest through tmp (n halves).
        /// </summary>
        public static void RoundToF16(float* x, float* y, int n, Half* tmp)
        {
            int i = 0;
            if (n >= 32 && MachineCode.F32RoundF16_512 != null)
            {
                i = n & ~31;
                MachineCode.F32RoundF16_512(x, y, i);
            }
            if (i == n) return;
            F32ToF16(x + i, tmp, n - i);
            F16ToF32(tmp, y + i, n - i);
        }

        /// <summary>x (f16) → y (f32), exact: whole runs of 32 by vcvtph2ps where the machine code may run (MachineCode.F16Widen512), the rest with integer operations.</summary>
        public static void F16ToF32(Half* x, float* y, int n)
        {
            int i = 0;
            if (n >= 32 && MachineCode.F16Widen512 != null)
            {
                i = n & ~31;
                MachineCode.F16Widen512(x, y, i);
            }
            if (Vector512.IsHardwareAccelerated)
                for (; i <= n - 16; i += 16) HalfBits.Load16x512((ushort*)x + i).Store(y + i);
            if (Vector256.IsHardwareAccelerated)
                for (; i <= n - 8; i += 8) Vector256.Store(HalfBits.Load8x256((ushort*)x + i), y + i);
            for (; i < n; i++) y[i] = (float)x[i];
        }

        /// <summary>x (bf16 bits) → y (f32), exact.</summary>
        public static void BF16ToF32(ushort* x, float* y, int n)
        {
            int i = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; i <= n - 16; i += 16) HalfBits.LoadBF16x512(x + i).Store(y + i);
            for (; i < n; i++) y[i] = HalfBits.BF16ToF32(x[i]);
        }
    }
}
