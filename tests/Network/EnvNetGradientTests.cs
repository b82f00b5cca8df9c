using EnvNet.Kernels;
using EnvNet.Network;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Tests;

/// <summary>
/// Backpropagation through the whole network (every layer kind, both sections, the loss) against central
/// differences of the float32 forward pass, so the wiring of the layers is checked, not only each layer alone.
/// </summary>
[TestClass]
public sealed class EnvNetGradientTests
{
    // Small, so that the 37 passes of the check stay cheap, yet every layer kind has several outputs: strided and
    // unstrided convolutions, a 2x2 pooling over the learned spectrogram and a LinearBlock with dropout.
    private static readonly EnvNetConfig Config = new("gradient-check", 16000, InputLength: 40, Classes: 3,
        Features: new([new(3, 1, 4, 1, 2), new(6, 1, 3)], new(1, 2)),
        ClassifierStages: [new([new(3, 2, 3)], new(2, 2)), new([new(3, 1, 2)], new(1, 2))],
        HiddenFeatures: [8]);

    private const int Batch = 4;

    // Each tensor (the input and every parameter) is checked along a random Gaussian direction v, so every element
    // takes part: (L(x + h v) - L(x - h v)) / 2h against the backward pass's g . v. Random signs would not do: the
    // network is invariant to scaling conv1's BatchNorm weights together (ReLU, max pooling and the bias-free conv2
    // are positively homogeneous and conv2's BatchNorm removes the scale), so an all-equal-signs direction has a
    // derivative of exactly 0.
    // Step h = 3e-4: larger steps cross ReLU kinks and max-pool switches in the early layers, where a perturbation
    // moves every unit (conv1's directional quotient is 5% off at h = 1e-3 and converges below 3e-4). The loss is a
    // float32 value near 1, so each evaluation is off by about one ulp (1.2e-7), which is 2e-4 in the quotient.
    // Tolerance: 5e-4 absolute (that rounding) plus 3% of the derivative (the kinks still crossed); the derivatives
    // checked are mostly 1e-2 to 1, and a wrong index or missing term in any backward pass is off by far more.
    private const float Step = 3e-4f;
    private const double AbsoluteTolerance = 5e-4;
    private const double RelativeTolerance = 0.03;

    [TestMethod]
    public void WholeNetworkTrainingModeGradientsMatchCentralDifferences()
    {
        var accelerator = TestDevice.Cpu.Accelerator;
        using var network = NetworkModel.CreateNetwork(Config, seed: 3);
        network.Build(TestDevice.Cpu, [1, 1, Config.InputLength], Batch, needsInputGradient: true);
        network.ResetParameters(new Random(3));
        using var loss = new SoftmaxKlLoss(TestDevice.Cpu, Config.Classes, Batch);
        using var input = new DeviceTensor(accelerator, Batch, 1, 1, Config.InputLength);
        using var targets = new DeviceTensor(accelerator, Batch, Config.Classes);
        var rng = new Random(5);
        input.CopyFrom(Enumerable.Range(0, Batch * Config.InputLength).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray());
        targets.CopyFrom(SoftTargets(rng));

        // BatchNorm in training mode (batch statistics), dropout with the mask of a fixed step in every evaluation.
        var pass = new Pass(Batch, Training: true, Step: 11);
        double Loss() => loss.Compute(network.Forward(input.View, pass), targets.View, Batch);
        Loss();
        var inputGradient = ToArray(network.Backward(loss.Gradient, pass));

        var failures = new List<string>();
        void Check(string name, DeviceTensor tensor, float[] gradient)
        {
            var direction = gradient.Select(_ => Gaussian(rng)).ToArray();
            var (analytic, numeric) = DirectionalDerivative(tensor, gradient, direction, Loss);
            if (Math.Abs(numeric - analytic) > AbsoluteTolerance + RelativeTolerance * Math.Abs(numeric))
                failures.Add($"{name}: backward {analytic:G6}, central difference {numeric:G6}");
        }

        Check("input", input, inputGradient);
        var parameters = network.NamedParameters().ToList();
        var gradients = parameters.Select(p => p.Parameter.Grad.ToArray()).ToList();
        for (var i = 0; i < parameters.Count; i++) Check(parameters[i].Name, parameters[i].Parameter.Value, gradients[i]);

        // 4 conv weights + 4 BatchNorm weight/bias pairs + 2 Linear weight/bias pairs.
        Assert.AreEqual(16, parameters.Count, string.Join(", ", parameters.Select(p => p.Name)));
        Assert.AreEqual(0, failures.Count, $"{failures.Count} of {parameters.Count + 1} tensors differ:\n" + string.Join("\n", failures));
    }

    /// <summary>Random probability rows, as between-class learning produces, so the KL loss is exercised beyond one-hot.</summary>
    private static float[] SoftTargets(Random rng)
    {
        var targets = new float[Batch * Config.Classes];
        for (var row = 0; row < Batch; row++)
        {
            var weights = Enumerable.Range(0, Config.Classes).Select(_ => rng.NextDouble() + 0.1).ToArray();
            for (var c = 0; c < Config.Classes; c++) targets[row * Config.Classes + c] = (float)(weights[c] / weights.Sum());
        }
        return targets;
    }

    private static float Gaussian(Random rng) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));

    /// <summary>g . v from the backward pass and the central difference along v, both over the steps float32 actually took.</summary>
    private static (double Analytic, double Numeric) DirectionalDerivative(
        DeviceTensor tensor, float[] gradient, float[] direction, Func<double> loss)
    {
        var original = tensor.ToArray();
        var plus = original.Select((x, i) => x + Step * direction[i]).ToArray();
        var minus = original.Select((x, i) => x - Step * direction[i]).ToArray();
        tensor.CopyFrom(plus);
        var lossPlus = loss();
        tensor.CopyFrom(minus);
        var lossMinus = loss();
        tensor.CopyFrom(original);
        var analytic = gradient.Select((g, i) => g * ((double)plus[i] - minus[i])).Sum() / (2 * Step);
        return (analytic, (lossPlus - lossMinus) / (2 * Step));
    }

    private static float[] ToArray(ArrayView<float> view)
    {
        var values = new float[view.Length];
        view.CopyToCPU(values);
        return values;
    }
}
