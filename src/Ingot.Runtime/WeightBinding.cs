using System.Globalization;
using Ingot.Formats;

namespace Ingot.Runtime;

/// <summary>
/// What a compiled model's Load uses to check a GGUF file against its spec and bind tensors: every mismatch is one
/// <see cref="WeightMismatchException"/> naming the key or tensor with the file's value and the compiled one. Library
/// code (its speed does not depend on the model), so generated files call it rather than carry a copy.
/// </summary>
public static unsafe class WeightBinding
{
    /// <summary>Finds a tensor and checks type and shape (ne order: [row length, rows]; rows 0 = a vector); adds its bytes to <paramref name="bytes"/>.</summary>
    public static byte* Bind(GgufFile file, string name, GgmlType type, long cols, long rows, ref long bytes)
    {
        var t = file.FindTensor(name) ?? throw new WeightMismatchException(name + ": missing from the file (the compiled spec needs it)");
        if (t.Type != type)
            throw new WeightMismatchException(name + ": type " + TypeName(t.Type) + " in the file, " + TypeName(type) + " in the compiled spec");
        long[] expected = rows == 0 ? [cols] : [cols, rows];
        bool same = t.Dims.Length >= expected.Length;
        for (int i = 0; same && i < t.Dims.Length; i++) same = t.Dims[i] == (i < expected.Length ? expected[i] : 1);
        if (!same)
            throw new WeightMismatchException(name + ": shape [" + string.Join(", ", t.Dims) + "] in the file, [" + string.Join(", ", expected) + "] compiled");
        bytes += t.ByteSize;
        return file.GetTensorPointer(t);
    }

    private static string TypeName(GgmlType type) => GgmlTypeTraits.IsKnown(type) ? GgmlTypeTraits.Name(type) : "ggml type " + ((uint)type).ToString(CultureInfo.InvariantCulture);

    public static void CheckString(GgufFile file, string key, string expected)
    {
        if (!file.TryGetValue(key, out var v)) throw new WeightMismatchException(key + ": missing from the file, " + expected + " compiled");
        if (v.Value is not string s) throw new WeightMismatchException(key + ": not a string in the file");
        if (!string.Equals(s, expected, StringComparison.Ordinal)) throw new WeightMismatchException(key + ": " + s + " in the file, " + expected + " compiled");
    }

    /// <summary>An integer key; a missing one is an error when required, else it takes <paramref name="fallback"/> (null: no check).</summary>
    public static void CheckInt(GgufFile file, string key, long expected, bool required, long? fallback = null)
    {
        long actual;
        if (!file.TryGetValue(key, out var v))
        {
            if (required) throw new WeightMismatchException(key + ": missing from the file, " + expected.ToString(CultureInfo.InvariantCulture) + " compiled");
            if (fallback is null) return;
            actual = fallback.Value;
        }
        else
        {
            actual = v.Value switch
            {
                byte x => x, sbyte x => x, ushort x => x, short x => x, uint x => x, int x => x, ulong x => (long)x, long x => x,
                _ => throw new WeightMismatchException(key + ": not an integer in the file (" + v.Type + ")"),
            };
        }
        if (actual != expected)
            throw new WeightMismatchException(key + ": " + actual.ToString(CultureInfo.InvariantCulture) + " in the file, " + expected.ToString(CultureInfo.InvariantCulture) + " compiled");
    }

    /// <summary>A float key; a missing one takes <paramref name="fallback"/> (llama.cpp's default), or is an error when that is null.</summary>
    public static void CheckFloat(GgufFile file, string key, float expected, float? fallback)
    {
        float actual;
        if (file.TryGetValue(key, out var v))
            actual = v.Value switch { float f => f, double d => (float)d, _ => throw new WeightMismatchException(key + ": not a number in the file (" + v.Type + ")") };
        else if (fallback is null)
            throw new WeightMismatchException(key + ": missing from the file, " + expected.ToString("R", CultureInfo.InvariantCulture) + " compiled");
        else
            actual = fallback.Value;
        if (actual != expected)
            throw new WeightMismatchException(key + ": " + actual.ToString("R", CultureInfo.InvariantCulture) + " in the file, " + expected.ToString("R", CultureInfo.InvariantCulture) + " compiled");
    }

    public static void CheckBool(GgufFile file, string key, bool expected)
    {
        if (!file.TryGetValue(key, out var v)) throw new WeightMismatchException(key + ": missing from the file, " + (expected ? "true" : "false") + " compiled");
        if (v.Value is not bool b) throw new WeightMismatchException(key + ": not a boolean in the file (" + v.Type + ")");
        if (b != expected) throw new WeightMismatchException(key + ": " + (b ? "true" : "false") + " in the file, " + (expected ? "true" : "false") + " compiled");
    }
}
