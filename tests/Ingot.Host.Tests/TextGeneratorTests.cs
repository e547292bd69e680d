using System.Text;
using Ingot.Runtime;
using Ingot.Runtime.Generation;
using Ingot.Runtime.Sampling;
using Xunit;

namespace Ingot.Host.Tests;

public class TextGeneratorTests
{
    private static GenerationOptions Greedy(int maxNew) => new(maxNew, SamplerOptions.Greedy);

    /// <summary>The greedy chain of the bigram model from a start token.</summary>
    private static List<int> Chain(BigramModel m, int start, int n)
    {
        var ids = new List<int>();
        int t = start;
        for (int i = 0; i < n; i++) { t = m.Next(t); ids.Add(t); }
        return ids;
    }

    [Fact]
    public void Generate_StreamsTheGreedyContinuation_PromptNotRepeated()
    {
        var model = new BigramModel(vocab: 29).WithContext(64);
        model.Next = prev => prev >= 28 ? 3 : prev + 1; // "abc…z" then wraps; never BOS/EOS
        var codec = new ByteCodec(29);
        var gen = new TextGenerator(model, codec);
        var pieces = new List<string>();
        var r = gen.Generate("ab", Greedy(5), pieces.Add);

        Assert.Equal(["c", "d", "e", "f", "g"], pieces);
        Assert.Equal(StopReason.MaxTokens, r.StopReason);
        Assert.Equal(3, r.PromptTokens); // BOS a b
        Assert.Equal(5, r.GeneratedTokens);
        // Prefill once; the 5th sampled token is not fed back (no wasted decode).
        Assert.Equal(1, model.PrefillCalls);
        Assert.Equal(4, model.DecodeCalls);
        Assert.Equal([0, 3, 4, 5, 6, 7, 8], model.Fed);
    }

    [Fact]
    public void Generate_ZeroNewTokens_OnlyPrefills()
    {
        var model = new BigramModel().WithContext(16);
        var pieces = new List<string>();
        var r = new TextGenerator(model, new ByteCodec(16)).Generate("abc", Greedy(0), pieces.Add);
        Assert.Empty(pieces);
        Assert.Equal(StopReason.MaxTokens, r.StopReason);
        Assert.Equal(0, r.GeneratedTokens);
        Assert.Equal(0, model.DecodeCalls);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Generate_StopsAtEndOfGeneration_WithoutPrintingIt(int endId)
    {
        var model = new BigramModel(vocab: 20).WithContext(64);
        model.Next = prev => prev == 5 ? endId : prev + 1; // … d e (id 5 → end)
        var pieces = new List<string>();
        var r = new TextGenerator(model, new ByteCodec(20)).Generate("a", Greedy(100), pieces.Add);
        Assert.Equal("bc", string.Concat(pieces)); // a(3) → b(4) → c(5) → end
        Assert.Equal(StopReason.EndOfGeneration, r.StopReason);
        Assert.Equal(3, r.GeneratedTokens);
    }

    [Fact]
    public void Generate_StopsAtBos_LikeRunC_UnlessTurnedOff()
    {
        var model = new BigramModel(vocab: 20).WithContext(64);
        model.Next = prev => prev == 4 ? 0 : prev == 0 ? 3 : prev + 1; // … b(4) → BOS → a …
        var codec = new ByteCodec(20);
        var r = new TextGenerator(model, codec).Generate("a", Greedy(10), _ => { });
        Assert.Equal(StopReason.EndOfGeneration, r.StopReason);
        var r2 = new TextGenerator(model, codec).Generate("a", Greedy(10) with { StopAtBos = false }, _ => { });
        Assert.Equal(StopReason.MaxTokens, r2.StopReason);
    }

    [Fact]
    public void Generate_ContextFull_StopsCleanly()
    {
        var model = new BigramModel(vocab: 29).WithContext(6);
        model.Next = prev => prev >= 28 ? 3 : prev + 1;
        var pieces = new List<string>();
        var r = new TextGenerator(model, new ByteCodec(29)).Generate("ab", Greedy(100), pieces.Add);
        Assert.Equal(StopReason.ContextFull, r.StopReason);
        // 3 prompt positions + 3 decodes fill 6; the 4th sampled token is printed but has no slot.
        Assert.Equal(6, model.Fed.Count);
        Assert.Equal("cdef", string.Concat(pieces));
    }

    [Fact]
    public void Generate_PromptLongerThanContext_IsAContextOverflowError()
    {
        var model = new BigramModel().WithContext(3);
        var e = Assert.Throws<ContextOverflowException>(() => new TextGenerator(model, new ByteCodec(16)).Generate("abcdef", Greedy(1), _ => { }));
        Assert.Contains("--ctx", e.Message);
        Assert.Equal(0, model.PrefillCalls);
    }

    [Fact]
    public void Generate_Cancellation_StopsBetweenTokens()
    {
        var model = new BigramModel(vocab: 29).WithContext(100);
        model.Next = prev => prev >= 28 ? 3 : prev + 1;
        using var cts = new CancellationTokenSource();
        model.OnDecode = _ => { if (model.DecodeCalls == 3) cts.Cancel(); };
        var pieces = new List<string>();
        var r = new TextGenerator(model, new ByteCodec(29)).Generate("a", Greedy(50), pieces.Add, cts.Token);
        Assert.Equal(StopReason.Cancelled, r.StopReason);
        Assert.Equal(3, pieces.Count);
    }

    [Fact]
    public async Task GenerateAsync_YieldsTheSamePiecesAsGenerate()
    {
        var model = new BigramModel(vocab: 29).WithContext(64);
        model.Next = prev => prev >= 28 ? 3 : prev + 1;
        var gen = new TextGenerator(model, new ByteCodec(29));
        var sync = new List<string>();
        gen.Generate("xy", Greedy(8), sync.Add);
        var async = new List<string>();
        await foreach (var piece in gen.GenerateAsync("xy", Greedy(8))) async.Add(piece);
        Assert.Equal(sync, async);
        Assert.Equal(StopReason.MaxTokens, gen.LastResult!.StopReason);
    }

    [Fact]
    public async Task GenerateAsync_Cancellation_Throws()
    {
        var model = new BigramModel(vocab: 29).WithContext(100);
        model.Next = prev => prev >= 28 ? 3 : prev + 1;
        var gen = new TextGenerator(model, new ByteCodec(29));
        using var cts = new CancellationTokenSource();
        var got = new List<string>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var piece in gen.GenerateAsync("a", Greedy(50), cts.Token))
            {
                got.Add(piece);
                if (got.Count == 2) cts.Cancel();
            }
        });
        Assert.Equal(2, got.Count);
    }

    [Fact]
    public void Generate_NeverSplitsUtf8_AcrossTokens()
    {
        // Tokens 3..6 are the four bytes of U+1F600 (😀), token 7 is 'é' (two bytes) split over 7 and 8.
        var model = new BigramModel(vocab: 12).WithContext(64);
        int[] chain = [3, 4, 5, 6, 7, 8, 9, 1];
        model.Next = prev => prev == 0 ? 3 : prev == 9 ? 1 : chain[Array.IndexOf(chain, prev) + 1];
        var codec = new ByteCodec(12);
        byte[] emoji = Encoding.UTF8.GetBytes("😀"), e = Encoding.UTF8.GetBytes("é");
        codec.Pieces[3] = [emoji[0]]; codec.Pieces[4] = [emoji[1]]; codec.Pieces[5] = [emoji[2]]; codec.Pieces[6] = [emoji[3]];
        codec.Pieces[7] = [e[0]]; codec.Pieces[8] = [e[1]]; codec.Pieces[9] = "!"u8.ToArray();
        var pieces = new List<string>();
        var r = new TextGenerator(model, codec).Generate("", Greedy(20), pieces.Add);
        Assert.Equal(["😀", "é", "!"], pieces);
        Assert.Equal(StopReason.EndOfGeneration, r.StopReason);
    }

    [Fact]
    public void Generate_SeededSampling_IsReproducible()
    {
        var model = new BigramModel(vocab: 30).WithContext(200);
        model.Next = prev => (prev * 7 + 4) % 30;
        var codec = new ByteCodec(30);
        var gen = new TextGenerator(model, codec);
        var o = new GenerationOptions(60, new SamplerOptions(Temperature: 30f, TopK: 0, TopP: 1f, MinP: 0f, Seed: 5)) { StopAtBos = false };
        string Run() { var sb = new StringBuilder(); gen.Generate("abc", o with { Sampling = o.Sampling! with { } }, p => sb.Append(p)); return sb.ToString(); }
        string a = Run(), b = Run();
        Assert.Equal(a, b);
        Assert.NotEqual(string.Concat(Chain(model, 5, 10).Select(i => (char)('a' + i - 3))), a[..Math.Min(10, a.Length)]); // temperature 30 wanders off the greedy chain
    }

    [Fact]
    public void Generate_LoopAllocatesOnlyTheReturnedStrings()
    {
        var model = new BigramModel(vocab: 29).WithContext(5000);
        model.Next = prev => prev >= 28 ? 3 : prev + 1;
        var gen = new TextGenerator(model, new ByteCodec(29));
        var o = new GenerationOptions(0, new SamplerOptions(Seed: 1)) { StopAtBos = false };
        gen.Generate("a", o with { MaxNewTokens = 50 }, _ => { }); // warm-up
        model.Fed.Capacity = 5000;
        long Measure(int n)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            gen.Generate("a", o with { MaxNewTokens = n }, _ => { });
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Measure(10);
        long small = Measure(100), large = Measure(1100);
        // 1000 extra tokens: each yields one 1-char string from the fake codec (~26 bytes), nothing else.
        Assert.InRange((large - small) / 1000.0, 0, 40);
    }
}
