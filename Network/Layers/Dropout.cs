using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network.Layers;

/// <summary>
/// torch.nn.Dropout (inverted: kept values are scaled by 1/(1 − p); identity in eval). The mask of a training pass
/// is a pure function of (seed, pass.Step, element index) through Philox-4x32-10 (<see cref="DropoutKernels"/>), so
/// backward recomputes it instead of storing it and a checkpointed step reproduces it. Give each dropout layer of
/// a network its own seed, or two layers draw the same mask.
/// </summary>
public sealed class Dropout(float probability, ulong seed) : Layer
{
    private DeviceTensor? _output;
    private DeviceTensor? _gradInput;
    private IDropoutOps? _ops;

    public float Probability { get; } = probability >= 0 && probability < 1
        ? probability
        : throw new ArgumentOutOfRangeException(nameof(probability), $"Dropout probability must be in [0, 1), got {probability}.");

    public ulong Seed { get; } = seed;

    protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        var accelerator = device.Accelerator;
        var elements = maxBatch * ShapeUtil.Elements(inputShape);
        if (elements > int.MaxValue)
            throw new ArgumentException($"Dropout over {maxBatch} × {ShapeUtil.Format(inputShape)} exceeds 2^31-1 elements.");
        _output = new DeviceTensor(accelerator, (int)elements);
        _gradInput = needsInputGradient ? new DeviceTensor(accelerator, (int)elements) : null;
        _ops = device.Kernels.Dropout;
        return (int[])inputShape.Clone();
    }

    public override ArrayView<float> Forward(ArrayView<float> input, Pass pass)
    {
        if (!pass.Training) return input;
        var output = _output!.Slice(Elements(pass.Batch));
        _ops!.ApplyMask(input, output, Args(pass));
        return output;
    }

    public override ArrayView<float> Backward(ArrayView<float> gradOutput, Pass pass)
    {
        if (_gradInput is null) return ArrayView<float>.Empty;
        if (!pass.Training) return gradOutput;
        var gradInput = _gradInput.Slice(Elements(pass.Batch));
        _ops!.ApplyMask(gradOutput, gradInput, Args(pass));
        return gradInput;
    }

    private DropoutArgs Args(Pass pass) => new((int)Elements(pass.Batch), Probability, Seed, pass.Step);

    private long Elements(int batch)
    {
        if (_output is null) throw new InvalidOperationException("Dropout is used before Build.");
        if (batch <= 0 || batch > MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(batch), $"Dropout was built for batches of 1..{MaxBatch}, got {batch}.");
        return batch * ShapeUtil.Elements(InputShape);
    }

    public override void Dispose()
    {
        _output?.Dispose();
        _gradInput?.Dispose();
        base.Dispose();
    }
}
