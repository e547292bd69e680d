using System.Text.Json;
using Ingot.Cli.Building;
using Ingot.Formats;
using Ingot.Runtime;
using Ingot.Specs;
using Xunit;

namespace Ingot.Host.Tests;

/// <summary>`classify` on a compiled sequence classifier (the synth BERT with a three-label head): labels and probabilities agree with the head's scores.</summary>
public class ClassifyVerbTests
{
    [Fact]
    public void TheLabelIsTheArgmaxAndTheProbabilitiesAreTheSoftmaxOfTheHeadsScores()
    {
        string path = Path.Combine(Path.GetTempPath(), $"bert-classify-{Environment.ProcessId}.gguf");
        try
        {
            SynthModel.Write(path, BertReferenceTests.ClassifierOptions, null);
            int[] ids = [1, 40, 41, 42, 2];
            var (code, o, e) = HostProgramTests.Run(new BertSynthClassifier(), "classify", "--tokens", string.Join(' ', ids), "--all", "--model", path);
            Assert.True(code == 0, e);
            using var doc = JsonDocument.Parse(o.Trim());
            var all = doc.RootElement.GetProperty("labels").EnumerateArray().ToArray();
            Assert.Equal(3, all.Length);
            Assert.Equal(["LABEL_0", "LABEL_1", "LABEL_2"], all.Select(l => l.GetProperty("label").GetString()).Order());

            // The scores the model gives directly, and their softmax.
            using var file = GgufFile.Open(path);
            using var model = new BertSynthClassifier();
            model.Load(file, new InferenceOptions(Threads: 1));
            var scores = new float[3];
            model.Encode(ids, new float[ids.Length * model.HiddenSize], scores);
            double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
            for (int k = 0; k < 3; k++)
            {
                var entry = all.Single(l => l.GetProperty("label").GetString() == "LABEL_" + k);
                Assert.Equal(scores[k], entry.GetProperty("score").GetSingle());
                Assert.Equal(Math.Exp(scores[k] - max) / sum, entry.GetProperty("probability").GetDouble(), 12);
            }
            int best = Array.IndexOf(scores, scores.Max());
            Assert.Equal("LABEL_" + best, doc.RootElement.GetProperty("label").GetString());
            Assert.Equal(all[0].GetProperty("probability").GetDouble(), doc.RootElement.GetProperty("probability").GetDouble());
            Assert.True(all[0].GetProperty("probability").GetDouble() >= all[1].GetProperty("probability").GetDouble());
            Assert.Equal(1.0, all.Sum(l => l.GetProperty("probability").GetDouble()), 12);

            // Texts: one line per input, each with its best label.
            (code, o, e) = HostProgramTests.Run(new BertSynthClassifier(), "classify", "a b", "c", "--model", path);
            Assert.True(code == 0, e);
            Assert.Equal(2, o.Trim().Split('\n').Length);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void AMissingLabelMapOrAModelWithoutAClassifierIsOneClearLine()
    {
        string bert = TestPaths.Require(Path.Combine(TestPaths.Shared, "golden", "models", "bert.f32.gguf"));
        var (code, _, e) = HostProgramTests.Run(new FakeEncoder(scores: 3), "classify", "--tokens", "101 102", "--model", bert);
        Assert.Equal(1, code);
        Assert.Single(e.Trim().Split('\n'));
        Assert.Contains("bert.classifier.output_labels", e);
        Assert.Contains("missing", e);
        (code, _, e) = HostProgramTests.Run(new FakeEncoder(scores: 1, pooling: PoolingKind.Rank), "classify", "--tokens", "101 102", "--model", bert);
        Assert.Equal(1, code);
        Assert.Contains("use rerank", e);
        (code, _, e) = HostProgramTests.Run(new FakeEncoder(), "classify", "--tokens", "101 102", "--model", bert);
        Assert.Equal(1, code);
        Assert.Contains("no classification head", e);
    }
}
