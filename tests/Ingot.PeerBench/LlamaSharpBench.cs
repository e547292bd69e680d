using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Ingot.PeerBench;

/// <summary>ppN and tgN through LLamaSharp, measured as Ingot's bench and llama-bench measure them.</summary>
internal static class LlamaSharpBench
{
    private static bool s_configured;

    /// <summary>("llamasharp", pp t/s, tg t/s), each the mean of <paramref name="reps"/> timed runs after one warm-up.</summary>
    public static (string Engine, double Pp, double Tg) Run(string model, int pp, int tg, int reps, int threads, bool f16Cache)
    {
        // llama.cpp's load log would bury the table; the configuration is fixed once the library has loaded (a second pass)
        if (!s_configured) NativeLibraryConfig.All.WithLogCallback((_, _) => { });
        s_configured = true;
        var parameters = new ModelParams(model)
        {
            ContextSize = (uint)(pp + tg + 1),
            BatchSize = (uint)pp,
            UBatchSize = (uint)pp,
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
            TypeK = f16Cache ? GGMLType.GGML_TYPE_F16 : GGMLType.GGML_TYPE_F32,
            TypeV = f16Cache ? GGMLType.GGML_TYPE_F16 : GGMLType.GGML_TYPE_F32,
        };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        var rng = new Random(1234);
        var tokens = new LLamaToken[Math.Max(pp, tg + 1)];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = rng.Next(weights.Vocab.Count);
        var batch = new LLamaBatch();

        double Prefill(int n)
        {
            context.NativeHandle.MemoryClear(true);
            batch.Clear();
            batch.AddRange(tokens.AsSpan(0, n), 0, LLamaSeqId.Zero, true);
            long t0 = Stopwatch.GetTimestamp();
            Check(context.NativeHandle.Decode(batch));
            return n / Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }

        double Decode(int n)
        {
            context.NativeHandle.MemoryClear(true);
            batch.Clear();
            batch.Add(tokens[0], 0, LLamaSeqId.Zero, true); // the one-token prompt, untimed
            Check(context.NativeHandle.Decode(batch));
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 1; i <= n; i++)
            {
                batch.Clear();
                batch.Add(tokens[i], i, LLamaSeqId.Zero, true);
                Check(context.NativeHandle.Decode(batch));
            }
            return n / Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }

        Prefill(Math.Min(pp, 8));
        double ppRate = Enumerable.Range(0, reps).Select(_ => Prefill(pp)).Average();
        Decode(Math.Min(tg, 2));
        double tgRate = Enumerable.Range(0, reps).Select(_ => Decode(tg)).Average();
        return ("llamasharp", ppRate, tgRate);
    }

    private static void Check(DecodeResult result)
    {
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode returned {result}");
    }
}
