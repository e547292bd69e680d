using Ingot.Formats;
using Ingot.Generators.Planning;
using Ingot.Runtime.Quants;
using Xunit;

namespace Ingot.Generators.Tests;

/// <summary>The generator's own traits table (it cannot reference the runtime) agrees with the runtime's, type by type.</summary>
public class WeightKindsTests
{
    public static TheoryData<string> Kinds()
    {
        var d = new TheoryData<string>();
        foreach (var k in WeightKinds.All) d.Add(WeightKinds.Name(k));
        return d;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TraitsMatchTheRuntime(string name)
    {
        Assert.True(WeightKinds.TryParse(name, out var kind));
        Assert.True(GgmlTypeTraits.TryParse(name, out var type));
        Assert.Equal(GgmlTypeTraits.BlockSize(type), WeightKinds.BlockSize(kind));
        Assert.Equal(GgmlTypeTraits.BlockBytes(type), WeightKinds.BlockBytes(kind));
        Assert.Equal(type.ToString(), kind.ToString()); // the emitted GgmlType.X names exist
        Assert.True(QuantTraits.IsSupportedWeight(type));
        // The activation partner is ggml's vec_dot_type, and its row size is the runtime's.
        var act = QuantTraits.ActivationType(type);
        Assert.Equal(GgmlTypeTraits.Name(act), WeightKinds.ActName(WeightKinds.Act(kind)), ignoreCase: true);
        Assert.Equal(QuantTraits.RowBytes(act, 512), WeightKinds.ActRowBytes(WeightKinds.Act(kind), 512));
        // The kernel the emitter calls exists on the runtime's VecDot / Dot classes.
        string kernel = WeightKinds.Kernel(kind);
        var cls = kernel.StartsWith("Dot.", StringComparison.Ordinal) ? typeof(Ingot.Runtime.Kernels.Dot) : typeof(VecDot);
        Assert.NotNull(cls.GetMethod(kernel[(kernel.IndexOf('.') + 1)..]));
    }

    [Fact]
    public void EveryRuntimeWeightTypeIsCompiled()
    {
        foreach (var t in QuantTraits.WeightTypes.ToArray())
            Assert.True(WeightKinds.TryParse(GgmlTypeTraits.Name(t), out _), GgmlTypeTraits.Name(t) + " has no WeightKind");
    }
}
