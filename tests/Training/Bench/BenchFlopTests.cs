using EnvNet.Network;
using EnvNet.Training.Bench;

namespace EnvNet.Tests;

/// <summary>The FLOPs <c>envnet bench</c> counts per layer against the formula, written out for EnvNet's layers.</summary>
[TestClass]
public sealed class BenchFlopTests
{
    /// <summary>
    /// Convolution forward 2·N·Cout·OH·OW·Cin·KH·KW, fully connected 2·N·in·out; backward twice the forward (weight and
    /// input gradients), once for conv1 whose input (the waveform) needs no gradient. The step total is the issue's
    /// "about 151 GFLOP" at batch 64 (3 × 0.786 GFLOP × 64) less conv1's missing input gradient (0.98 GFLOP): 149.9.
    /// </summary>
    [TestMethod]
    public void EnvNetFlopsMatchTheFormulaPerLayer()
    {
        const int n = 64;
        var expectedForward = new Dictionary<string, long>
        {
            ["feature_conv.conv1.module"] = 2L * n * 40 * 24007 * 1 * 1 * 8,
            ["feature_conv.conv2.module"] = 2L * n * 40 * 24000 * 40 * 1 * 8,
            ["classifier.conv3.module"] = 2L * n * 50 * 33 * 138 * 1 * 8 * 13,
            ["classifier.conv4.module"] = 2L * n * 50 * 11 * 42 * 50 * 1 * 5,
            ["classifier.fc5.module.0"] = 2L * n * 7700 * 4096,
            ["classifier.fc6.module.0"] = 2L * n * 4096 * 4096,
            ["classifier.fc7"] = 2L * n * 4096 * 50,
        };
        using var network = NetworkModel.CreateNetwork(EnvNetConfig.ByName("envnet", 50), seed: 1);
        network.Build(TestDevice.Cpu, [1, 1, 24014], maxBatch: 1, needsInputGradient: false);

        long total = 0;
        foreach (var (name, layer) in BenchRunner.Leaves(network, ""))
        {
            // A block is timed whole when fused (GPU) and as its three layers otherwise (CPU): count it under its name.
            var key = expectedForward.Keys.FirstOrDefault(k => name == k || name == k + ".0") ?? name;
            var forward = FlopCount.Forward(layer, n);
            var backward = FlopCount.Backward(layer, n);
            total += forward + backward;
            if (!expectedForward.TryGetValue(key, out var expected))
            {
                Assert.AreEqual(0L, forward, $"{name} counts no FLOPs");
                continue;
            }
            Assert.AreEqual(expected, forward, $"{name} forward");
            Assert.AreEqual(key == "feature_conv.conv1.module" ? expected : 2 * expected, backward, $"{name} backward");
            expectedForward.Remove(key);
        }
        Assert.AreEqual(0, expectedForward.Count, "every convolution and linear layer was counted: " + string.Join(", ", expectedForward.Keys));
        Assert.IsTrue(total is > 149_500_000_000 and < 150_500_000_000, $"a training step of batch 64 is about 149.9 GFLOP, counted {total}");
    }

    [TestMethod]
    public void BenchResultRoundTripsThroughJsonWithTheReferenceScriptsFieldNames()
    {
        var result = new BenchResult("EnvNet.Gpu", "CPU test", "envnet-tiny", 8, 12.5, 640, 1000, 0.08, 4096, null,
            [new LayerTiming("feature_conv.conv1.module", "Conv2d+BatchNorm2d+ReLU", [8, 16, 1, 2002], 1.5, 2.5, 100, 200)]);
        var json = result.ToJson();
        StringAssert.Contains(json, "\"step_ms\"");
        StringAssert.Contains(json, "\"samples_per_second\"");
        StringAssert.Contains(json, "\"forward_ms\"");
        StringAssert.Contains(json, "\"forward_gflops\"");
        var back = BenchResult.FromJson(json);
        Assert.AreEqual(result.StepMs, back.StepMs);
        Assert.AreEqual("feature_conv.conv1.module", back.Layers[0].Layer);
        CollectionAssert.AreEqual(new[] { 8, 16, 1, 2002 }, back.Layers[0].OutputShape);
    }
}
