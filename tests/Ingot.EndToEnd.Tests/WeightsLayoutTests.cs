using Ingot.Formats;
using Ingot.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.EndToEnd.Tests;

/// <summary>
/// <c>ingot build --weights-layout ingot</c> (<see cref="Q4_0x16"/>, <see cref="KQuantsX16"/>): every Q4_0 and Q4_K_M
/// golden model, rewritten in Ingot's interleaved layout, gives logits bit-identical to its GGUF file's, for a
/// prefill in one batch (AMX or the GEMMs where the machine has them) and for token-by-token decode. The models' head
/// sizes range from 8 rows (stories260K, tiles inside a 16-row group) to 64.
/// </summary>
public sealed class WeightsLayoutTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingot-layout-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, string> Models()
    {
        var data = new TheoryData<string, string>
        {
            { "golden/models/llama-gqa.q4_0.gguf", nameof(LlamaGqaQ4_0) },
            { "golden/models/llama-gqa.q4_k_m.gguf", nameof(LlamaGqaQ4_K_M) },
            { "models/gguf/stories260K-q4_0.gguf", nameof(Stories260KQ4_0) },
        };
        foreach (string shape in ShapeModels.Create.Keys.Where(k => k.EndsWith(".q4_0", StringComparison.Ordinal)))
            data.Add("golden/shapes/models/" + shape + ".gguf", shape);
        // the Q4_K_M shapes whose files have a tensor the layout applies to (with a width that is no multiple of 256,
        // llama.cpp's Q4_K_M quantizes the matrices to other types)
        foreach (string shape in ShapeModels.Create.Keys.Where(k => k.EndsWith(".q4_k_m", StringComparison.Ordinal)))
            if (Interleaves("golden/shapes/models/" + shape + ".gguf")) data.Add("golden/shapes/models/" + shape + ".gguf", shape);
        return data;
    }

    /// <summary>Whether Ingot's layout applies to a tensor of the shared file (a missing file: true, so the test names it).</summary>
    private static bool Interleaves(string path)
    {
        string full = Path.Combine(TestPaths.Shared, path);
        if (!File.Exists(full)) return true;
        using var file = GgufFile.Open(full);
        return file.Tensors.Any(t => Q4_0x16.Applies(t.Name, t.Type, t.Dims));
    }

    private static ICompiledModel Create(string model) =>
        ShapeModels.Create.TryGetValue(model, out var create) ? create() : GoldenFamilyTests.Create(model);

    [Theory]
    [MemberData(nameof(Models))]
    public unsafe void IngotLayout_GivesTheGgufLayoutsLogits(string path, string model)
    {
        string gguf = TestPaths.Require(path.Split('/'));
        string laid = Path.Combine(_dir, Path.GetFileName(gguf));
        Q4_0x16.Write(gguf, laid);
        using var plainFile = GgufFile.Open(gguf);
        using var laidFile = GgufFile.Open(laid);
        int interleaved = laidFile.Tensors.Count(t => Q4_0x16.TryFind(laidFile.GetTensorPointer(t), out _));
        Assert.True(interleaved > 0, "no tensor of the file is interleaved: the test would compare a layout with itself");

        int[] tokens = [.. Enumerable.Range(0, 40).Select(i => 1 + i * 7 % 200)];
        foreach (bool decode in new[] { false, true })
        {
            float[] expected = Logits(plainFile, model, tokens, decode), actual = Logits(laidFile, model, tokens, decode);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                    $"{model} {(decode ? "decode" : "prefill")}: logit {i}: {actual[i]} in Ingot's layout, {expected[i]} in GGUF's");
        }
        output.WriteLine($"{model}: {interleaved} tensors interleaved; prefill and decode logits bit-identical ({tokens.Length} tokens)");
    }

    private static float[] Logits(GgufFile file, string model, int[] tokens, bool decode)
    {
        using var m = Create(model);
        m.Load(file, new InferenceOptions(ContextSize: 64));
        int vocab = m.VocabSize;
        var logits = new float[tokens.Length * vocab];
        if (decode)
            for (int t = 0; t < tokens.Length; t++) m.Decode(tokens[t], logits.AsSpan(t * vocab, vocab));
        else
            m.Prefill(tokens, logits);
        return logits;
    }
}
