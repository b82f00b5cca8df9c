using EnvNet.Kernels;
using EnvNet.Kernels.Host;
using EnvNet.Network;
using EnvNet.Training.Checkpoints;
using ILGPU.Runtime;

namespace EnvNet.Tests;

/// <summary>
/// The product's training step against what PyTorch computed for the same model, weights and batch, frozen in
/// tests/data/frozen-step/ by bench/reference/frozen_step.py (as llm.c's test_gpt2 freezes GPT-2): the training-mode
/// logits, the loss, every parameter's gradient, and the whole state (weights and BatchNorm statistics) after a few
/// steps of the model's recipe optimiser. The float64 references of the other tests are this project's own reading of
/// PyTorch; this one is PyTorch itself.
/// </summary>
[TestClass]
public sealed class FrozenPyTorchStepTests
{
    public TestContext TestContext { get; set; } = null!;

    // Each tensor is compared by its largest difference over its largest PyTorch value, so a bound reads the same for
    // small and large tensors. Both sides compute in float32 and sum in different orders, so values differ by rounding
    // that grows with the length of the sums and with the depth it passes through. A wrong index, a missing term or a
    // wrong scale is off by a large fraction of the value, far above these bounds.
    // Forward (logits, loss): a few float32 roundings per layer.
    private const double ForwardBound = 2e-5;

    // Gradients sum over the batch and every position of a convolution (thousands of terms) and pass back through
    // every layer, BatchNorm's division by the batch deviation included.
    private const double GradientBound = 1e-4;

    // After the steps, what is compared is the change of each tensor (after − initial), so that a wrong update is not
    // hidden by weights that barely move. SGD's change is a sum of gradients, off by their rounding; Adam divides each
    // gradient by its running magnitude, which carries the gradients' relative error into the change element by
    // element, so small gradients weigh as much as large ones.
    private const double StepBound = 1e-3;

    // A convolution bias followed by BatchNorm in training mode has an exact gradient of zero (BatchNorm subtracts the
    // batch mean), so both sides hold rounding noise there: a parameter whose PyTorch gradient is below this fraction
    // of the model's largest gradient is one, and its gradient is compared on the model's largest gradient instead.
    // Adam scales any gradient, noise too, up to a step of about the learning rate, so under Adam neither its change
    // nor the running mean of the BatchNorm it feeds (which the bias shifts) can be compared.
    private const double ZeroGradient = 1e-4;

    public static IEnumerable<object?[]> Cases =>
        from model in new[] { "envnet-tiny", "m5" }
        from backend in TestDevice.Backends
        select new object?[] { model, backend.Kernels, backend.Width };

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void TrainingStepMatchesFrozenPyTorch(string modelName, KernelChoice kernels, VectorWidth? width)
    {
        var device = TestDevice.For(kernels, width);
        var backend = width is { } w ? $"{kernels} {(int)w}-bit" : $"{kernels}";
        var frozen = FrozenStep.Read(modelName);
        var recipe = ModelRegistry.Definition(modelName).Recipe;
        frozen.CheckRecipe(recipe);
        var config = FrozenStep.Config(modelName, frozen.Classes);
        var batch = frozen.Batch;
        var inputs = frozen.Content["input"].ToFloats();
        var targets = frozen.Content["target"].ToFloats();

        using var model = NetworkModel.Create(device, config, batch, seed: 0, recipe.Optimizer);
        var deviations = new List<Deviation>();

        // The training-mode forward pass on its own; it moves BatchNorm's running statistics, so the initial state is
        // loaded again before the steps.
        frozen.LoadInto(model, "initial.");
        using (var input = new DeviceTensor(device.Accelerator, [batch, .. config.InputShape]))
        {
            input.CopyFrom(inputs);
            var logits = new float[batch * config.Classes];
            model.Network.Forward(input.View, new Pass(batch, Training: true, Step: 0)).SubView(0, logits.Length).CopyToCPU(logits);
            var expectedLogits = frozen.Content["logits"].ToFloats();
            deviations.Add(Deviation.Of("logits", logits, expectedLogits, ForwardBound, MaxAbs(expectedLogits)));
        }
        frozen.LoadInto(model, "initial.");

        var lr = (float)recipe.LearningRate;
        var momentum = (float)recipe.Momentum;
        var weightDecay = (float)recipe.WeightDecay;
        var loss = model.TrainStep(inputs, targets, batch, lr, momentum, weightDecay).MeanLoss;
        var expectedLoss = frozen.Content["loss"].ToFloats();
        deviations.Add(Deviation.Of("loss", [loss], expectedLoss, ForwardBound, MaxAbs(expectedLoss)));
        // The optimiser reads the gradients without changing them, so they are still those of the first step.
        var gradients = model.Network.NamedParameters()
            .Select(p => (p.Name, Actual: p.Parameter.Grad.ToArray(), Expected: frozen.Content[$"grad.{p.Name}"].ToFloats()))
            .ToList();
        var largestGradient = gradients.Max(g => MaxAbs(g.Expected));
        var zeroGradients = gradients.Where(g => MaxAbs(g.Expected) < ZeroGradient * largestGradient).Select(g => g.Name).ToHashSet();
        foreach (var (name, actual, expected) in gradients)
            deviations.Add(Deviation.Of($"grad.{name}", actual, expected, GradientBound,
                scale: zeroGradients.Contains(name) ? largestGradient : MaxAbs(expected)));
        var notComparable = recipe.Optimizer == OptimizerKind.Adam
            ? zeroGradients.SelectMany(name => new[] { name, FollowingBatchNormMean(name) }).ToHashSet()
            : [];

        for (var step = 1; step < frozen.Steps; step++) model.TrainStep(inputs, targets, batch, lr, momentum, weightDecay);
        foreach (var entry in model.StateDict.Where(e => !notComparable.Contains(e.Name)))
        {
            var after = frozen.Content[$"after.{entry.Name}"];
            switch (entry)
            {
                case TensorState t:
                    var initial = frozen.Content[$"initial.{entry.Name}"].ToFloats();
                    var expected = Change(after.ToFloats(), initial);
                    deviations.Add(Deviation.Of($"after.{entry.Name} − initial", Change(t.Tensor.ToArray(), initial), expected,
                        StepBound, MaxAbs(expected)));
                    break;
                case CounterState c:
                    Assert.AreEqual(after.ToInt64(), c.Get(), $"{modelName}: {entry.Name} after {frozen.Steps} steps");
                    break;
            }
        }

        foreach (var kind in deviations.GroupBy(d => d.Name.Split('.')[0]))
            TestContext.WriteLine($"{modelName} on {backend}: largest {kind.Key} deviation {kind.Max(d => d.Relative):G3}");
        var failures = deviations.Where(d => d.Relative > d.Bound).Select(d => d.ToString()).ToList();
        Assert.AreEqual(0, failures.Count, $"{modelName} on {backend} differs from PyTorch {frozen.TorchVersion}:\n{string.Join("\n", failures)}");
    }

    private static float[] Change(float[] after, float[] initial) => after.Select((v, i) => v - initial[i]).ToArray();

    private static double MaxAbs(float[] values) => values.Max(v => Math.Abs((double)v));

    /// <summary>"module.0.module.0.bias" (Conv, BatchNorm, ReLU as "module") → "module.0.module.1.running_mean".</summary>
    private static string FollowingBatchNormMean(string convolutionBias) =>
        convolutionBias.EndsWith(".0.bias", StringComparison.Ordinal)
            ? convolutionBias[..^"0.bias".Length] + "1.running_mean"
            : throw new InvalidOperationException($"{convolutionBias} has a zero gradient but is no convolution bias before BatchNorm.");

    /// <summary>The largest difference of a tensor from PyTorch's over <c>scale</c>, and where it is.</summary>
    private sealed record Deviation(string Name, double Relative, double Bound, int Index, float Actual, float Expected)
    {
        public static Deviation Of(string name, float[] actual, float[] expected, double bound, double scale)
        {
            Assert.AreEqual(expected.Length, actual.Length, $"{name}: element count");
            var (worst, index) = (0.0, 0);
            for (var i = 0; i < actual.Length; i++)
            {
                var difference = Math.Abs((double)actual[i] - expected[i]);
                if (difference > worst || double.IsNaN(difference)) (worst, index) = (double.IsNaN(difference) ? double.PositiveInfinity : difference, i);
            }
            // An all-zero tensor (a change no step makes) must then be matched exactly.
            var relative = scale > 0 ? worst / scale : worst > 0 ? double.PositiveInfinity : 0;
            return new Deviation(name, relative, bound, index, actual[index], expected[index]);
        }

        public override string ToString() =>
            $"{Name}: off by {Relative:G3} of its scale (bound {Bound:G3}); at [{Index}] product {Actual:G9}, PyTorch {Expected:G9}";
    }
}

/// <summary>One file of tests/data/frozen-step/ and the product config of the model it freezes.</summary>
internal sealed record FrozenStep(SafeTensorsContent Content)
{
    public static FrozenStep Read(string model) =>
        new(SafeTensors.ReadFile(Path.Combine(Esc50TestData.RepositoryRoot, "tests", "data", "frozen-step", $"{model}.safetensors")));

    public int Batch => int.Parse(Content.Metadata["batch"]);
    public int Classes => int.Parse(Content.Metadata["classes"]);
    public int Steps => int.Parse(Content.Metadata["steps"]);
    public string TorchVersion => Content.Metadata["torch"];

    /// <summary>The registered model's layers at the sizes frozen_step.py gives them (see its docstring): envnet-tiny
    /// with fully connected layers of 64 units, m5 at an eighth of its channels; dropout off, as frozen.</summary>
    public static ModelConfig Config(string model, int classes) => ModelRegistry.Config(model, classes) switch
    {
        EnvNetConfig envNet => envNet with { HiddenFeatures = [64, 64], DropoutProbability = 0 },
        WaveMxNetConfig waveMxNet => waveMxNet with
        {
            Steps = waveMxNet.Steps.Select(s => s is ConvStep conv ? conv with { Channels = conv.Channels / 8 } : s).ToArray(),
        },
        var other => throw new ArgumentException($"No frozen step for {other.Name}.", nameof(model)),
    };

    /// <summary>Fails unless PyTorch stepped with the recipe's optimiser and hyper-parameters.</summary>
    public void CheckRecipe(TrainingRecipe recipe)
    {
        var optimizer = recipe.Optimizer switch
        {
            OptimizerKind.SgdNesterov => "sgd-nesterov",
            OptimizerKind.Adam => "adam",
            var other => throw new AssertFailedException($"frozen_step.py has no {other} optimiser."),
        };
        Assert.AreEqual(optimizer, Content.Metadata["optimizer"]);
        Assert.AreEqual(recipe.LearningRate, double.Parse(Content.Metadata["lr"]), "lr");
        Assert.AreEqual(recipe.Momentum, double.Parse(Content.Metadata["momentum"]), "momentum");
        Assert.AreEqual(recipe.WeightDecay, double.Parse(Content.Metadata["weight_decay"]), "weight_decay");
    }

    /// <summary>Copies every state_dict entry stored under <paramref name="prefix"/> into the model.</summary>
    public void LoadInto(NetworkModel model, string prefix)
    {
        foreach (var entry in model.StateDict) ModelCheckpoint.CopyInto(entry, Content[prefix + entry.Name], "frozen step");
    }
}
