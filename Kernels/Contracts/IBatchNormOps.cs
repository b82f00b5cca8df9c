using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

/// <summary>BatchNorm2d: a training forward is <see cref="Statistics"/> then <see cref="Normalize"/>; eval is
/// <see cref="InvStdFromVariance"/> then <see cref="Normalize"/> with the running mean; backward is
/// <see cref="ParameterGradients"/> then <see cref="InputGradient"/>.</summary>
public interface IBatchNormOps
{
    /// <summary>Training statistics of input [N,C,H,W]: writes savedMean[C] and savedInvStd[C] = 1/√(biased var + eps),
    /// and updates runningMean/runningVar in place with <paramref name="momentum"/> and the unbiased variance.
    /// <paramref name="scratch"/> holds <see cref="BatchNormShape.ScratchLength"/> floats.</summary>
    void Statistics(BatchNormShape shape, ArrayView<float> input, float momentum, float eps,
        ArrayView<float> savedMean, ArrayView<float> savedInvStd, ArrayView<float> runningMean, ArrayView<float> runningVar,
        ArrayView<float> scratch);

    /// <summary>invStd[c] = 1/√(variance[c] + eps) for the first <paramref name="channels"/> channels.</summary>
    void InvStdFromVariance(int channels, ArrayView<float> variance, float eps, ArrayView<float> invStd);

    /// <summary>output = (input − mean[c])·invStd[c]·gamma[c] + beta[c] over [N,C,H,W].</summary>
    void Normalize(BatchNormShape shape, ArrayView<float> input, ArrayView<float> mean, ArrayView<float> invStd,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> output);

    /// <summary>gradGamma[c] = Σ dy·x̂ and gradBeta[c] = Σ dy, overwriting both.</summary>
    void ParameterGradients(BatchNormShape shape, ArrayView<float> input, ArrayView<float> gradOutput,
        ArrayView<float> mean, ArrayView<float> invStd, ArrayView<float> scratch, ArrayView<float> gradGamma, ArrayView<float> gradBeta);

    /// <summary>Training-mode gradInput from gradOutput and the gradients <see cref="ParameterGradients"/> wrote.</summary>
    void InputGradient(BatchNormShape shape, ArrayView<float> input, ArrayView<float> gradOutput,
        ArrayView<float> mean, ArrayView<float> invStd, ArrayView<float> gamma,
        ArrayView<float> gradGamma, ArrayView<float> gradBeta, ArrayView<float> gradInput);
}

/// <summary>
/// Sizes of a BatchNorm2d pass over an NCHW tensor: N samples, C channels, Spatial = H·W positions per channel and
/// sample. Per-channel statistics reduce over Count = N·H·W values, split into <see cref="Partials"/> strided chunks.
/// </summary>
public readonly struct BatchNormShape
{
    /// <summary>Most partial reductions per channel: C·1024 threads fill a GPU for EnvNet's 40–50 channels while the
    /// per-channel combine stays a short loop.</summary>
    public const int MaxPartials = 1024;

    public int N { get; }
    public int C { get; }
    public int Spatial { get; }

    public BatchNormShape(int n, int c, int spatial)
    {
        if (n < 0 || c < 1 || spatial < 1)
            throw new ArgumentException($"BatchNorm2d: need batch >= 0, channels >= 1, H·W >= 1; got N={n} C={c} H·W={spatial}.");
        (N, C, Spatial) = (n, c, spatial);
    }

    /// <summary>Values per channel (PyTorch's n in the unbiased variance n/(n−1)).</summary>
    public int Count => N * Spatial;

    /// <summary>Chunks per channel in the statistics reductions; chunk p holds positions p, p+Partials, ….</summary>
    public int Partials => Count < MaxPartials ? Count : MaxPartials;

    public long Length => (long)N * C * Spatial;

    /// <summary>Floats of scratch the reductions need for <paramref name="channels"/> channels, any batch size.</summary>
    public static int ScratchLength(int channels) => 2 * channels * MaxPartials;

    public BatchNormShape WithBatch(int n) => new(n, C, Spatial);

    public override string ToString() => $"N={N} C={C} H·W={Spatial}";
}
