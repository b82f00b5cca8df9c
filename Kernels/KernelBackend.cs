using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

/// <summary>
/// The kernels one <see cref="ComputeDevice"/> runs: a strategy picked once, with the accelerator, in
/// <see cref="ComputeDevice.Create"/>. A layer gets its kernels from <c>device.Kernels</c> in its Build: an op family
/// shared by every layer (<see cref="Activation"/>, <see cref="BatchNorm"/>, …), or an op planned for the layer's
/// shapes and largest batch that owns its scratch buffers (<see cref="Conv2d"/>, <see cref="Linear"/>,
/// <see cref="ConvBatchNormReLU"/>); Forward and Backward then only call it.
/// <para>This base class is the plain ILGPU kernels (one output per grid-stride iteration), which run on every
/// accelerator. Every other backend derives from it and overrides what it has faster code for; whatever it does not
/// override falls back to the plain kernels on the same accelerator. So a new op is added here first, as a plain
/// ILGPU kernel, and works on every device before a backend gives it faster code.</para>
/// </summary>
public class KernelBackend(Accelerator accelerator)
{
    public Accelerator Accelerator { get; } = accelerator;

    /// <summary>What <c>envnet devices</c>, the run log and <c>envnet bench</c> call this backend.</summary>
    public virtual string Name => "ILGPU plain kernels";

    public virtual IActivationOps Activation => ActivationOps.For(Accelerator);
    public virtual IBatchNormOps BatchNorm => BatchNormOps.For(Accelerator);
    public virtual IPoolOps Pool => PoolOps.For(Accelerator);
    public virtual ITransposeOps Transpose => TransposeOps.For(Accelerator);
    public virtual IDropoutOps Dropout => DropoutOps.For(Accelerator);
    public virtual ILossOps Loss => LossOps.For(Accelerator);
    public virtual ISgdOps Sgd => SgdOps.For(Accelerator);
    public virtual IAdamOps Adam => AdamOps.For(Accelerator);
    public virtual IAdadeltaOps Adadelta => AdadeltaOps.For(Accelerator);
    public virtual IConv1dOps Conv1d => Conv1dOps.For(Accelerator);
    public virtual IChannelBiasOps ChannelBias => ChannelBiasOps.For(Accelerator);
    public virtual IWindowPoolOps WindowPool => WindowPoolOps.For(Accelerator);
    public virtual IBranchOps Branch => BranchOps.For(Accelerator);

    /// <summary>A convolution for <paramref name="shape"/> (N = the largest batch).</summary>
    public virtual IConv2dOp Conv2d(Conv2dShape shape, bool needsInputGradient) => new PlainConv2dOp(Conv2dOps.For(Accelerator), shape);

    /// <summary>A fully connected layer x·Wᵀ + b for up to <paramref name="maxBatch"/> rows.</summary>
    public virtual ILinearOp Linear(int maxBatch, int inFeatures, int outFeatures, bool needsInputGradient) =>
        new PlainLinearOp(GemmOps.For(Accelerator), LinearOps.For(Accelerator), inFeatures, outFeatures);

    /// <summary>Conv2d → BatchNorm2d → ReLU as one op for <paramref name="shape"/>, or null where this backend has no
    /// fused form: the layer then runs the three layers one after another.</summary>
    public virtual IConvBatchNormReLUOp? ConvBatchNormReLU(Conv2dShape shape, bool needsInputGradient) => null;
}

public interface IActivationOps
{
    /// <summary>output[i] = max(input[i], 0) for the first <paramref name="count"/> elements.</summary>
    void ReluForward(long count, ArrayView<float> input, ArrayView<float> output);

    /// <summary>gradInput[i] = output[i] &gt; 0 ? gradOutput[i] : 0, from the forward's output.</summary>
    void ReluBackward(long count, ArrayView<float> output, ArrayView<float> gradOutput, ArrayView<float> gradInput);
}

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

public interface IPoolOps
{
    /// <summary>output and argmax (index h·W + w in the input's (n, c) plane), both [N, C, OutH, OutW].</summary>
    void MaxPoolForward(MaxPool2dShape shape, ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax);

    /// <summary>gradInput = gradOutput routed to each window's argmax, zero elsewhere; overwrites gradInput.</summary>
    void MaxPoolBackward(MaxPool2dShape shape, ArrayView<float> gradOutput, ArrayView<int> argmax, ArrayView<float> gradInput);
}

public interface ITransposeOps
{
    /// <summary>output [N, B, A, W] = input [N, A, B, W]; the backward is this call with <see cref="TransposeShape.Swapped"/>.</summary>
    void Transpose12(TransposeShape shape, ArrayView<float> input, ArrayView<float> output);
}

public interface IDropoutOps
{
    /// <summary>output[i] = input[i]·mask(i)·scale for i &lt; args.Length (forward and backward alike).</summary>
    void ApplyMask(ArrayView<float> input, ArrayView<float> output, DropoutArgs args);
}

public interface ILossOps
{
    /// <summary>Fills gradLogits (rows × classes) and rowResults (rows × 2: loss, argmax hit); see
    /// <see cref="LossKernels.SoftmaxKl"/>.</summary>
    void SoftmaxKl(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> gradLogits, ArrayView<float> rowResults, SoftmaxKlArgs args);
}

public interface ISgdOps
{
    /// <summary>Updates the parameter and its momentum buffer in place; all three views have the same length.</summary>
    void Step(ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> momentumBuffer, SgdArgs args);
}

/// <summary>A convolution planned for one layer (its shape at the largest batch); owns its scratch buffers.</summary>
public interface IConv2dOp : IDisposable
{
    /// <summary>output[N,Cout,OutH,OutW] = conv(input[N,Cin,H,W], weight[Cout,Cin,KH,KW]) for the first <paramref name="batch"/> samples.</summary>
    void Forward(int batch, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> output);

    /// <summary>gradWeight = ∂L/∂weight summed over the batch; overwrites gradWeight.</summary>
    void BackwardWeight(int batch, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradWeight);

    /// <summary>gradInput = ∂L/∂input; overwrites gradInput.</summary>
    void BackwardInput(int batch, ArrayView<float> gradOutput, ArrayView<float> weight, ArrayView<float> gradInput);
}

/// <summary>A fully connected layer y = x·Wᵀ + b planned for one layer; owns its scratch buffers.</summary>
public interface ILinearOp : IDisposable
{
    void Forward(int batch, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> output);

    /// <summary>gradWeight = dyᵀ·x, gradBias = Σ_rows dy; overwrites both.</summary>
    void BackwardParameters(int batch, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradWeight, ArrayView<float> gradBias);

    /// <summary>gradInput = dy·W; overwrites gradInput.</summary>
    void BackwardInput(int batch, ArrayView<float> gradOutput, ArrayView<float> weight, ArrayView<float> gradInput);
}

/// <summary>The tensors of a Conv2d(bias=False) → BatchNorm2d → ReLU block that its fused op reads and writes.</summary>
public readonly record struct ConvBatchNormReLUParameters(
    ArrayView<float> ConvWeight, ArrayView<float> ConvWeightGrad,
    ArrayView<float> Gamma, ArrayView<float> GammaGrad, ArrayView<float> Beta, ArrayView<float> BetaGrad,
    ArrayView<float> RunningMean, ArrayView<float> RunningVar, float Momentum, float Eps);

/// <summary>Conv2d → BatchNorm2d → ReLU as one op planned for one layer; owns its intermediate buffers.</summary>
public interface IConvBatchNormReLUOp : IDisposable
{
    /// <summary>output = ReLU(BN(conv(input))); a training pass uses the batch's statistics and updates the running ones,
    /// an eval pass the running ones.</summary>
    void Forward(int batch, bool training, ArrayView<float> input, ConvBatchNormReLUParameters p, ArrayView<float> output);

    /// <summary>After a training Forward of the same input: writes the three parameter gradients and, unless
    /// <paramref name="gradInput"/> is empty, the input gradient.</summary>
    void Backward(int batch, ArrayView<float> input, ArrayView<float> gradOutput, ConvBatchNormReLUParameters p, ArrayView<float> gradInput);
}

/// <summary>The plain convolution kernels, one output per grid-stride iteration.</summary>
internal sealed class PlainConv2dOp(Conv2dOps ops, Conv2dShape shape) : IConv2dOp
{
    public void Forward(int batch, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> output) =>
        ops.Forward(shape.WithBatch(batch), input, weight, output);

    public void BackwardWeight(int batch, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradWeight) =>
        ops.BackwardWeight(shape.WithBatch(batch), input, gradOutput, gradWeight);

    public void BackwardInput(int batch, ArrayView<float> gradOutput, ArrayView<float> weight, ArrayView<float> gradInput) =>
        ops.BackwardInput(shape.WithBatch(batch), gradOutput, weight, gradInput);

    public void Dispose() { }
}

/// <summary>The naive GEMM (one output per iteration) and the plain bias kernels.</summary>
internal sealed class PlainLinearOp(GemmOps gemm, LinearOps bias, int inFeatures, int outFeatures) : ILinearOp
{
    public void Forward(int batch, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> b, ArrayView<float> output)
    {
        gemm.MultiplyNaive(input, weight, output, new GemmShape(batch, outFeatures, inFeatures, false, true));
        bias.AddBias(output, b, batch, outFeatures);
    }

    public void BackwardParameters(int batch, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradWeight, ArrayView<float> gradBias)
    {
        gemm.MultiplyNaive(gradOutput, input, gradWeight, new GemmShape(outFeatures, inFeatures, batch, true, false));
        bias.BiasGradient(gradOutput, gradBias, batch, outFeatures);
    }

    public void BackwardInput(int batch, ArrayView<float> gradOutput, ArrayView<float> weight, ArrayView<float> gradInput) =>
        gemm.MultiplyNaive(gradOutput, weight, gradInput, new GemmShape(batch, inFeatures, outFeatures, false, false));

    public void Dispose() { }
}
