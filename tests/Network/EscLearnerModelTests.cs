using EnvNet.Kernels;
using EnvNet.Network;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Tests;

/// <summary>esc-learner's raw-waveform networks composed from the blocks: shapes and the exact state_dict (names, order,
/// shapes) of its PyTorch modules, and a training step's passes running end to end.</summary>
[TestClass]
public sealed class EscLearnerModelTests
{
    [TestMethod]
    public void AbdoliNetHasEscLearnersStateDictAndTrains()
    {
        var config = new AbdoliNetConfig(Classes: 50);
        using var network = config.CreateNetwork(seed: 1);
        CollectionAssert.AreEqual(new[] { 50 }, network.Build(TestDevice.Cpu, config.InputShape, maxBatch: 2, needsInputGradient: false));
        var expected = new List<(string, int[])>();
        foreach (var (name, outChannels, inChannels, kernel) in new[] { ("conv1", 16, 1, 64), ("conv2", 32, 16, 32), ("conv3", 64, 32, 16), ("conv4", 128, 64, 8) })
        {
            expected.Add(($"feature_conv.{name}.module.0.weight", [outChannels, inChannels, kernel]));
            expected.Add(($"feature_conv.{name}.module.0.bias", [outChannels]));
            expected.AddRange(BatchNorm($"feature_conv.{name}.module.2", outChannels));
        }
        foreach (var (name, outFeatures, inFeatures) in new[] { ("fc5.module.0", 128, 128 * 8), ("fc6.module.0", 64, 128), ("fc7", 50, 64) })
        {
            expected.Add(($"classifier.{name}.weight", [outFeatures, inFeatures]));
            expected.Add(($"classifier.{name}.bias", [outFeatures]));
        }
        AssertStateDict(expected, network);

        network.ResetParameters(new Random(2));
        using var x = KernelCheck.Upload(TestData.Uniform(new Random(3), 2 * config.InputLength));
        var pass = new Pass(2, Training: true, Step: 0);
        var logits = Read(network.Forward(x.View, pass));
        Assert.AreEqual(100, logits.Length);
        Assert.IsTrue(logits.All(float.IsFinite));
        using var gradOutput = KernelCheck.Upload(TestData.Uniform(new Random(4), 100));
        network.Backward(gradOutput.View, pass);
        var conv1Grad = network.NamedParameters().First().Parameter.Grad.ToArray();
        Assert.IsTrue(conv1Grad.All(float.IsFinite) && conv1Grad.Any(g => g != 0), "the first convolution gets a gradient");
    }

    /// <summary>The CPU backend runs AbdoliNet's layers with its host kernels (Conv1d, pooling, ReLU, BatchNorm, Linear,
    /// dropout) on the same buffers as the plain kernels: a training step there must agree with the plain kernels' (the same weights, input and dropout masks), up to
    /// float32 summation order amplified through four normalisations: 1e-4 relative to each tensor's largest value.</summary>
    [TestMethod]
    public void AbdoliNetAgreesOnPlainAndHostKernels()
    {
        var config = new AbdoliNetConfig(Classes: 10);
        var input = TestData.Uniform(new Random(5), 2 * config.InputLength);
        var gradOutput = TestData.Uniform(new Random(6), 2 * 10);
        (float[] Logits, float[][] Gradients) Step(ComputeDevice device)
        {
            using var network = config.CreateNetwork(seed: 1);
            network.Build(device, config.InputShape, maxBatch: 2, needsInputGradient: false);
            network.ResetParameters(new Random(2));
            using var x = KernelCheck.Upload(input);
            using var dy = KernelCheck.Upload(gradOutput);
            var pass = new Pass(2, Training: true, Step: 3);
            var logits = Read(network.Forward(x.View, pass));
            network.Backward(dy.View, pass);
            return (logits, network.NamedParameters().Select(p => p.Parameter.Grad.ToArray()).ToArray());
        }
        var (plainLogits, plainGradients) = Step(TestDevice.Cpu);
        var (hostLogits, hostGradients) = Step(TestDevice.Host);
        AssertCloseRelative("AbdoliNet logits, host vs plain", plainLogits, hostLogits);
        for (var i = 0; i < plainGradients.Length; i++)
            AssertCloseRelative($"AbdoliNet gradient {i}, host vs plain", plainGradients[i], hostGradients[i]);
    }

    private static void AssertCloseRelative(string what, float[] expected, float[] actual)
    {
        var scale = expected.Max(Math.Abs);
        KernelCheck.AssertClose(what, expected.Select(v => (double)v).ToArray(), actual, _ => 1e-4 * scale);
    }

    /// <summary>Built on a shorter waveform (13311 samples, whose three branches all give 88 frames, a fifth of the
    /// real 440) so the test stays small: the names and shapes are esc-learner's but for fc1's input, which follows
    /// the frames (704·4·1 here, 704·4·5 at the real 66150). An eval forward runs through all of it.</summary>
    [TestMethod]
    public void MultiResCnnHasEscLearnersStateDict()
    {
        using var network = new MultiResCnnConfig(Classes: 50, InputLength: 13311).CreateNetwork(seed: 1);
        CollectionAssert.AreEqual(new[] { 50 }, network.Build(TestDevice.Cpu, [1, 13311], maxBatch: 1, needsInputGradient: false));
        var expected = new List<(string, int[])>();
        foreach (var (branch, kernel) in new[] { ("branch1", 11), ("branch2", 51), ("branch3", 101) })
        {
            foreach (var (conv, inChannels, convKernel) in new[] { ("conv1", 1, kernel), ("conv2", 32, 3) })
            {
                expected.Add(($"{branch}.{conv}.module.0.weight", [32, inChannels, convKernel]));
                expected.Add(($"{branch}.{conv}.module.0.bias", [32]));
                expected.AddRange(BatchNorm($"{branch}.{conv}.module.1", 32));
            }
        }
        foreach (var (block, filters) in new[] { ("feature1", 64), ("feature2", 128), ("feature3", 256), ("feature4", 256) })
        {
            expected.Add(($"{block}.conv.module.0.weight", [filters, 1, 3, 3]));
            expected.AddRange(BatchNorm($"{block}.conv.module.1", filters));
        }
        expected.Add(("fc1.module.0.weight", [4096, 704 * 4 * 1]));
        expected.Add(("fc1.module.0.bias", [4096]));
        expected.Add(("fc2.weight", [50, 4096]));
        expected.Add(("fc2.bias", [50]));
        AssertStateDict(expected, network);

        network.ResetParameters(new Random(2));
        using var x = KernelCheck.Upload(TestData.Uniform(new Random(3), 13311));
        Assert.IsTrue(Read(network.Forward(x.View, new Pass(1, Training: false, Step: 0))).All(float.IsFinite));
    }

    private static IEnumerable<(string, int[])> BatchNorm(string prefix, int channels) =>
    [
        ($"{prefix}.weight", [channels]), ($"{prefix}.bias", [channels]), ($"{prefix}.running_mean", [channels]),
        ($"{prefix}.running_var", [channels]), ($"{prefix}.num_batches_tracked", []),
    ];

    private static void AssertStateDict(List<(string Name, int[] Shape)> expected, Layer network)
    {
        var actual = network.StateDict().Select(e => (e.Name, e.Shape)).ToList();
        CollectionAssert.AreEqual(expected.Select(e => e.Name).ToArray(), actual.Select(e => e.Name).ToArray());
        for (var i = 0; i < expected.Count; i++)
            CollectionAssert.AreEqual(expected[i].Shape, actual[i].Shape, expected[i].Name);
    }

    private static float[] Read(ArrayView<float> view)
    {
        var values = new float[view.Length];
        view.CopyToCPU(values);
        return values;
    }
}
