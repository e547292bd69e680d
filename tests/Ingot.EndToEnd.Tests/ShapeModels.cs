using Ingot.Runtime;

namespace Ingot.EndToEnd.Tests;

// One compiled class per model of golden/shapes (specs in ShapeSpecs/, written by `ingot import`; AdditionalFiles in the
// csproj). Not in modelspecs/: those are snapshot-tested, these are only run against llama.cpp's logits (ShapesTests).

[CompiledModel("shape-mqa-v300-f32")]
public partial class ShapeMqaV300F32 { }

[CompiledModel("shape-mqa-v300-q8_0")]
public partial class ShapeMqaV300Q8_0 { }

[CompiledModel("shape-mqa-v300-q4_0")]
public partial class ShapeMqaV300Q4_0 { }

[CompiledModel("shape-mqa-v300-q4_k_m")]
public partial class ShapeMqaV300Q4_K_M { }

[CompiledModel("shape-mqa-v300-q6_k")]
public partial class ShapeMqaV300Q6_K { }

[CompiledModel("shape-mqa-v300-q5_0")]
public partial class ShapeMqaV300Q5_0 { }

[CompiledModel("shape-mha-d256-q8_0")]
public partial class ShapeMhaD256Q8_0 { }

[CompiledModel("shape-mha-d256-q4_0")]
public partial class ShapeMhaD256Q4_0 { }

[CompiledModel("shape-mha-d256-q4_k_m")]
public partial class ShapeMhaD256Q4_K_M { }

[CompiledModel("shape-mha-d256-q6_k")]
public partial class ShapeMhaD256Q6_K { }

[CompiledModel("shape-mha-d256-q5_0")]
public partial class ShapeMhaD256Q5_0 { }

[CompiledModel("shape-gqa-d384-q8_0")]
public partial class ShapeGqaD384Q8_0 { }

[CompiledModel("shape-gqa-d384-q4_0")]
public partial class ShapeGqaD384Q4_0 { }

[CompiledModel("shape-gqa-d384-q4_k_m")]
public partial class ShapeGqaD384Q4_K_M { }

[CompiledModel("shape-gqa-d384-q6_k")]
public partial class ShapeGqaD384Q6_K { }

[CompiledModel("shape-gqa-d384-q5_0")]
public partial class ShapeGqaD384Q5_0 { }

[CompiledModel("shape-gqa-d512-q8_0")]
public partial class ShapeGqaD512Q8_0 { }

[CompiledModel("shape-gqa-d512-q4_0")]
public partial class ShapeGqaD512Q4_0 { }

[CompiledModel("shape-gqa-d512-q4_k_m")]
public partial class ShapeGqaD512Q4_K_M { }

[CompiledModel("shape-gqa-d512-q6_k")]
public partial class ShapeGqaD512Q6_K { }

[CompiledModel("shape-gqa-d512-q5_0")]
public partial class ShapeGqaD512Q5_0 { }

[CompiledModel("shape-odd-d320-q8_0")]
public partial class ShapeOddD320Q8_0 { }

[CompiledModel("shape-odd-d320-q4_0")]
public partial class ShapeOddD320Q4_0 { }

[CompiledModel("shape-odd-d320-q4_k_m")]
public partial class ShapeOddD320Q4_K_M { }

[CompiledModel("shape-odd-d320-q6_k")]
public partial class ShapeOddD320Q6_K { }

[CompiledModel("shape-odd-d320-q5_0")]
public partial class ShapeOddD320Q5_0 { }

internal static class ShapeModels
{
    /// <summary>File base name (NAME.TYPE) → a new instance of its compiled class.</summary>
    public static readonly IReadOnlyDictionary<string, Func<ICompiledModel>> Create = new Dictionary<string, Func<ICompiledModel>>(StringComparer.Ordinal)
    {
        ["mqa-v300.f32"] = () => new ShapeMqaV300F32(),
        ["mqa-v300.q8_0"] = () => new ShapeMqaV300Q8_0(),
        ["mqa-v300.q4_0"] = () => new ShapeMqaV300Q4_0(),
        ["mqa-v300.q4_k_m"] = () => new ShapeMqaV300Q4_K_M(),
        ["mqa-v300.q6_k"] = () => new ShapeMqaV300Q6_K(),
        ["mqa-v300.q5_0"] = () => new ShapeMqaV300Q5_0(),
        ["mha-d256.q8_0"] = () => new ShapeMhaD256Q8_0(),
        ["mha-d256.q4_0"] = () => new ShapeMhaD256Q4_0(),
        ["mha-d256.q4_k_m"] = () => new ShapeMhaD256Q4_K_M(),
        ["mha-d256.q6_k"] = () => new ShapeMhaD256Q6_K(),
        ["mha-d256.q5_0"] = () => new ShapeMhaD256Q5_0(),
        ["gqa-d384.q8_0"] = () => new ShapeGqaD384Q8_0(),
        ["gqa-d384.q4_0"] = () => new ShapeGqaD384Q4_0(),
        ["gqa-d384.q4_k_m"] = () => new ShapeGqaD384Q4_K_M(),
        ["gqa-d384.q6_k"] = () => new ShapeGqaD384Q6_K(),
        ["gqa-d384.q5_0"] = () => new ShapeGqaD384Q5_0(),
        ["gqa-d512.q8_0"] = () => new ShapeGqaD512Q8_0(),
        ["gqa-d512.q4_0"] = () => new ShapeGqaD512Q4_0(),
        ["gqa-d512.q4_k_m"] = () => new ShapeGqaD512Q4_K_M(),
        ["gqa-d512.q6_k"] = () => new ShapeGqaD512Q6_K(),
        ["gqa-d512.q5_0"] = () => new ShapeGqaD512Q5_0(),
        ["odd-d320.q8_0"] = () => new ShapeOddD320Q8_0(),
        ["odd-d320.q4_0"] = () => new ShapeOddD320Q4_0(),
        ["odd-d320.q4_k_m"] = () => new ShapeOddD320Q4_K_M(),
        ["odd-d320.q6_k"] = () => new ShapeOddD320Q6_K(),
        ["odd-d320.q5_0"] = () => new ShapeOddD320Q5_0(),
    };
}
