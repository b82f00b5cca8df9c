using EnvNet.Kernels;
using EnvNet.Network;
using ILGPU.Runtime;

namespace EnvNet.Tests;

/// <summary>
/// Finite-difference check of a built layer's Backward, through the Layer API: with the scalar L = Σ r·Forward(x)
/// for a fixed random r, Backward(r) must equal the central differences (L(v+h) − L(v−h)) / (v+h − (v−h)) for each
/// checked input element and element v of every parameter below the layer (a container's children included). L is
/// summed in float64 from the float32 outputs; the denominator uses the perturbed float32 values actually fed in, so
/// no rounding of v ± h enters the quotient.
/// </summary>
public static class LayerGradientCheck
{
    /// <summary>Checks input and parameter gradients; |fd − backward| ≤ absTolerance + relTolerance·|fd| for each.
    /// <paramref name="maxChecksPerTensor"/> picks that many random elements per tensor (all if smaller).</summary>
    public static void Check(Layer layer, float[] input, int batch, bool training, Random rng, double step,
        double absTolerance, double relTolerance, int maxChecksPerTensor = int.MaxValue)
    {
        var accelerator = TestDevice.Cpu.Accelerator;
        var pass = new Pass(batch, training, Step: 0);
        using var x = KernelCheck.Upload(input);
        var outputLength = (int)(batch * ShapeUtil.Elements(layer.OutputShape));
        var weights = TestData.Uniform(rng, outputLength);

        double Loss()
        {
            var y = new float[outputLength];
            layer.Forward(x.View, pass).SubView(0, outputLength).CopyToCPU(y);
            accelerator.Synchronize();
            double sum = 0;
            for (var j = 0; j < outputLength; j++) sum += (double)weights[j] * y[j];
            return sum;
        }

        Loss();
        using var gradOutput = KernelCheck.Upload(weights);
        var gradInputView = layer.Backward(gradOutput.View, pass);
        var gradInput = new float[input.Length];
        if (layer.NeedsInputGradient) gradInputView.SubView(0, input.Length).CopyToCPU(gradInput);
        var parameters = layer.NamedParameters().Select(p => (p.Name, p.Parameter, Grad: p.Parameter.Grad.ToArray())).ToList();

        double worst = 0;
        if (layer.NeedsInputGradient)
        {
            var values = (float[])input.Clone();
            foreach (var i in Pick(rng, values.Length, maxChecksPerTensor))
                worst = Math.Max(worst, CheckOne($"input[{i}]", values, i, v => x.CopyFrom(v), Loss, step, gradInput[i], absTolerance, relTolerance));
            x.CopyFrom(input);
        }
        foreach (var (name, parameter, grad) in parameters)
        {
            var values = parameter.Value.ToArray();
            var original = (float[])values.Clone();
            foreach (var i in Pick(rng, values.Length, maxChecksPerTensor))
                worst = Math.Max(worst, CheckOne($"{name}[{i}]", values, i, v => parameter.Value.CopyFrom(v), Loss, step, grad[i], absTolerance, relTolerance));
            parameter.Value.CopyFrom(original);
        }
        Console.WriteLine($"[gradcheck] {layer.GetType().Name}: max |finite difference − backward| {worst:E2}");
    }

    private static double CheckOne(string what, float[] values, int i, Action<float[]> upload, Func<double> loss,
        double step, float analytic, double absTolerance, double relTolerance)
    {
        var original = values[i];
        var plus = (float)(original + step);
        var minus = (float)(original - step);
        values[i] = plus;
        upload(values);
        var lossPlus = loss();
        values[i] = minus;
        upload(values);
        var lossMinus = loss();
        values[i] = original;
        var numeric = (lossPlus - lossMinus) / ((double)plus - minus);
        var error = Math.Abs(numeric - analytic);
        if (!(error <= absTolerance + relTolerance * Math.Abs(numeric)))
            Assert.Fail($"{what}: backward {analytic:R}, finite difference {numeric:R} (error {error:E2}).");
        return error;
    }

    private static IEnumerable<int> Pick(Random rng, int length, int count) =>
        count >= length ? Enumerable.Range(0, length) : Enumerable.Range(0, length).OrderBy(_ => rng.Next()).Take(count).ToList();
}
