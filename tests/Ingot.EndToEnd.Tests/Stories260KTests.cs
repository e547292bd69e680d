using System.Text;
using System.Text.Json;
using Ingot.Formats;
using Ingot.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.EndToEnd.Tests;

/// <summary>The real trained stories260K: greedy generations and logits against llama2.c (float64 reference) and llama.cpp.</summary>
public class Stories260KTests(ITestOutputHelper output)
{
    private const int Vocab = 512;

    public static TheoryData<string, string, string> GreedyCases
    {
        get
        {
            var data = new TheoryData<string, string, string>();
            foreach (var (gguf, cls) in new[] { ("stories260K-f32.gguf", nameof(Stories260K)), ("stories260K-f16.gguf", nameof(Stories260KF16)) })
                foreach (var c in new[] { "bos_only", "tom_and_the_dog" })
                    data.Add(gguf, cls, c);
            return data;
        }
    }

    private static (int[] Prompt, int[] All, string LogitsFile) Case(string name)
    {
        using var doc = TestPaths.Json(TestPaths.Require("models", "llama2c", "testvectors", "stories260K_golden.json"));
        var c = doc.RootElement.GetProperty("cases").GetProperty(name);
        return (
            c.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            c.GetProperty("all_token_ids_including_prompt").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            c.GetProperty("logits_file").GetString()!);
    }

    /// <summary>Prefill the prompt, then argmax + Decode until the sequence is as long as the expected one.</summary>
    private static List<int> Greedy(ICompiledModel m, int[] prompt, int total)
    {
        var seq = new List<int>(prompt);
        var logits = new float[m.VocabSize];
        m.Prefill(prompt, logits);
        while (true)
        {
            int next = TestPaths.ArgMax(logits);
            seq.Add(next);
            if (seq.Count == total) return seq;
            m.Decode(next, logits);
        }
    }

    [Theory]
    [MemberData(nameof(GreedyCases))]
    public void GreedyMatchesLlama2c(string gguf, string className, string caseName)
    {
        var (prompt, all, _) = Case(caseName);
        using var file = GgufFile.Open(TestPaths.Require("models", "gguf", gguf));
        using var m = GoldenFamilyTests.Create(className);
        // The GGUF says context_length 128 but the model was trained at 512; the 200 positions need more than 128.
        m.Load(file, new InferenceOptions(ContextSize: 512));
        var got = Greedy(m, prompt, all.Length);
        int firstDiff = Enumerable.Range(0, all.Length).FirstOrDefault(i => got[i] != all[i], -1);
        output.WriteLine($"{gguf} {caseName}: {all.Length - prompt.Length} generated tokens, first difference at {firstDiff}");
        Assert.True(firstDiff < 0, $"{gguf} {caseName}: token {firstDiff} is {(firstDiff >= 0 ? got[firstDiff] : 0)}, expected {(firstDiff >= 0 ? all[firstDiff] : 0)}");
    }

    /// <summary>
    /// Q8_0 (with ffn_down F16: mixed types) against the llama2.c ids for as far as llama.cpp's own Q8_0 run is
    /// documented to agree with them (64 generated tokens, stories260K_llamacpp_greedy.json); past that,
    /// quantization error may legitimately change a near-tie (we diverge at step 115 / 110 of 200, reported below).
    /// </summary>
    [Theory]
    [InlineData("bos_only")]
    [InlineData("tom_and_the_dog")]
    public void Q8_0GreedyMatchesLlama2cForTheFirst64Tokens(string caseName)
    {
        var (prompt, all, _) = Case(caseName);
        using var file = GgufFile.Open(TestPaths.Require("models", "gguf", "stories260K-q8_0.gguf"));
        using var m = new Stories260KQ8_0();
        m.Load(file, new InferenceOptions(ContextSize: 512));
        var got = Greedy(m, prompt, all.Length);
        int firstDiff = Enumerable.Range(0, all.Length).FirstOrDefault(i => got[i] != all[i], -1);
        output.WriteLine($"stories260K-q8_0 {caseName}: first difference from llama2.c (f32) at sequence index {firstDiff} of {all.Length}");
        Assert.Equal(all.Take(prompt.Length + 64), got.Take(prompt.Length + 64));
    }

    [Theory]
    [InlineData("bos_only")]
    [InlineData("tom_and_the_dog")]
    public void LogitsMatchLlama2cReference(string caseName)
    {
        var (_, all, logitsFile) = Case(caseName);
        var expected = TestPaths.ReadRaw(TestPaths.Require("models", "llama2c", "testvectors", logitsFile), 16, Vocab);
        using var file = GgufFile.Open(TestPaths.Require("models", "gguf", "stories260K-f32.gguf"));
        using var m = new Stories260K();
        m.Load(file, new InferenceOptions());
        var logits = new float[16 * Vocab];
        m.Prefill(all.AsSpan(0, 16), logits);
        float maxAbs = 0;
        for (int t = 0; t < 16; t++)
            for (int v = 0; v < Vocab; v++)
                maxAbs = Math.Max(maxAbs, Math.Abs(logits[t * Vocab + v] - expected[t, v]));
        output.WriteLine($"stories260K {caseName}: logits max-abs {maxAbs:E3} (16x512)");
        Assert.True(maxAbs <= 1e-4f, $"max-abs {maxAbs}");
    }

    /// <summary>llama.cpp's greedy text for "Once upon a time" (64 tokens), decoded with tok512 (llama2.c format).</summary>
    /// <summary>With either cache: llama-cli ran with its default F16 cache (head size 8: kq in ggml_vec_dot_f16's order).</summary>
    [Theory]
    [InlineData("stories260K-q8_0.gguf", nameof(Stories260KQ8_0), KvCacheType.F32)]
    [InlineData("stories260K-q4_0.gguf", nameof(Stories260KQ4_0), KvCacheType.F32)]
    [InlineData("stories260K-q8_0.gguf", nameof(Stories260KQ8_0), KvCacheType.F16)]
    [InlineData("stories260K-q4_0.gguf", nameof(Stories260KQ4_0), KvCacheType.F16)]
    [InlineData("stories260K-f16.gguf", nameof(Stories260KF16), KvCacheType.F16)]
    public void QuantizedGreedyMatchesLlamaCpp(string gguf, string className, KvCacheType kvType)
    {
        using var doc = TestPaths.Json(TestPaths.Require("models", "gguf", "testvectors", "stories260K_llamacpp_greedy.json"));
        int[] prompt = doc.RootElement.GetProperty("prompt_token_ids_llama_tokenize").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        string expectedText = doc.RootElement.GetProperty("outputs").GetProperty(gguf).GetString()!;
        using var file = GgufFile.Open(TestPaths.Require("models", "gguf", gguf));
        using var m = GoldenFamilyTests.Create(className);
        m.Load(file, new InferenceOptions(ContextSize: 512, KvType: kvType));
        var ids = Greedy(m, prompt, prompt.Length + 64);
        string text = DecodeTok512(ids.Skip(1));
        output.WriteLine(text);
        // llama-cli prints the prompt (with SentencePiece's leading space) and the continuation, then its own "\n\n".
        Assert.Equal(expectedText.TrimEnd('\n'), text.TrimEnd('\n'));
    }

    private static string DecodeTok512(IEnumerable<int> ids)
    {
        var bytes = File.ReadAllBytes(TestPaths.Require("models", "llama2c", "tok512.bin"));
        var pieces = new string[Vocab];
        int pos = 4;
        for (int i = 0; i < Vocab; i++)
        {
            pos += 4; // score
            int len = BitConverter.ToInt32(bytes, pos);
            pos += 4;
            pieces[i] = Encoding.UTF8.GetString(bytes, pos, len);
            pos += len;
        }
        var sb = new StringBuilder();
        foreach (var id in ids)
        {
            string p = pieces[id];
            if (p.Length == 6 && p.StartsWith("<0x", StringComparison.Ordinal)) p = ((char)Convert.ToInt32(p.Substring(3, 2), 16)).ToString();
            sb.Append(p);
        }
        // llama.cpp's SPM detokenizer keeps the leading space of the first piece.
        return sb.ToString().StartsWith(' ') ? sb.ToString() : " " + sb;
    }
}
