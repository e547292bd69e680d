using Ingot.Runtime;

namespace Ingot.EndToEnd.Tests;

// One compiled class per spec in modelspecs/ (the generator reads them as AdditionalFiles, see the csproj).
// The user picks the class name; the attribute carries the spec name.

[CompiledModel("stories260K")]
public partial class Stories260K { }

[CompiledModel("stories260K-f16")]
public partial class Stories260KF16 { }

[CompiledModel("stories260K-q8_0")]
public partial class Stories260KQ8_0 { }

[CompiledModel("llama-gqa-f32")]
public partial class LlamaGqaF32 { }

[CompiledModel("llama-gqa-f16")]
public partial class LlamaGqaF16 { }

[CompiledModel("llama-gqa-q8_0")]
public partial class LlamaGqaQ8_0 { }

[CompiledModel("llama-mqa-l3-f32")]
public partial class LlamaMqaL3F32 { }

[CompiledModel("stories260K-q4_0")]
public partial class Stories260KQ4_0 { }

[CompiledModel("llama-gqa-q4_0")]
public partial class LlamaGqaQ4_0 { }

[CompiledModel("llama-gqa-q6_k")]
public partial class LlamaGqaQ6_K { }

[CompiledModel("llama-gqa-q5_k_m")]
public partial class LlamaGqaQ5_K_M { }

[CompiledModel("llama-gqa-q4_k_m")]
public partial class LlamaGqaQ4_K_M { }

// Test-only spec (tests/Ingot.Generators.Tests/TestSpecs, snapshot-tested there): every weight type the generator compiles in one model.
[CompiledModel("llama-gqa-all-types")]
public partial class LlamaGqaAllTypes { }

// One spec per decoder family of ../shared/golden (modelspecs/*-f32.json, gemma-f16.json).

[CompiledModel("qwen2-f32")]
public partial class Qwen2F32 { }

[CompiledModel("phi3-f32")]
public partial class Phi3F32 { }

[CompiledModel("phi3-swa-f32")]
public partial class Phi3SwaF32 { }

[CompiledModel("gemma-f32")]
public partial class GemmaF32 { }

[CompiledModel("gemma-f16")]
public partial class GemmaF16 { }

[CompiledModel("gemma2-f32")]
public partial class Gemma2F32 { }

[CompiledModel("granite-f32")]
public partial class GraniteF32 { }

[CompiledModel("gpt2-f32")]
public partial class Gpt2F32 { }

[CompiledModel("gptneox-f32")]
public partial class GptNeoXF32 { }

[CompiledModel("starcoder2-f32")]
public partial class StarCoder2F32 { }

// Test-only spec (TestSpecs/): llama-gqa.f32 with llama.attention.sliding_window = 4 (SlidingWindowTests writes that file).
[CompiledModel("llama-gqa-swa4-f32")]
public partial class LlamaGqaSwa4F32 { }

// Test-only specs: a tiny ERNIE 4.5 imported from its Hugging Face config alone (Ingot.TestSupport's ErnieFolderWriter;
// tests/Ingot.Generators.Tests/TestSpecs) and the same weights as a llama GGUF (TestSpecs/, LlamaTwinWriter).
[CompiledModel("ernie4_5-tiny")]
public partial class Ernie45Tiny { }

[CompiledModel("ernie4_5-tiny-llama")]
public partial class Ernie45TinyLlamaTwin { }

[CompiledModel("bert-f32")]
public partial class BertF32 { }

[CompiledModel("bert-f16")]
public partial class BertF16 { }

[CompiledModel("t5-f32")]
public partial class T5F32 { }
