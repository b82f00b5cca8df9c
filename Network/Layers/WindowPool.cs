using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network.Layers;

public enum PoolKind { Max, Average }

/// <summary>
/// PyTorch's pooling modules with all their sizes: <see cref="MaxPool1d"/>, <see cref="AvgPool1d"/> on (C,L) samples,
/// <see cref="MaxPool2d"/>, <see cref="AvgPool2d"/> on (C,H,W), and <see cref="GlobalAvgPool"/>
/// (AdaptiveAvgPool1d/2d(1)) on either; kernels from the device (<see cref="KernelBackend.WindowPool"/>, semantics in
/// <see cref="WindowPoolKernels"/>). A 1-D pool is a 2-D one over a 1-high image. Max keeps the forward's argmax for
/// backward. EnvNet's non-overlapping 2-D pools stay <see cref="Layers.MaxPool2d"/>.
/// </summary>
public sealed class WindowPool : Layer
{
    private readonly PoolKind _kind;
    private readonly int _dimensions;
    private readonly int _kernelH, _kernelW, _strideH, _strideW, _padH, _padW;
    private readonly bool _ceilMode, _global;
    private IWindowPoolOps? _ops;
    private WindowPoolShape _shape;
    private DeviceTensor? _output, _gradInput;
    private MemoryBuffer1D<int, Stride1D.Dense>? _argmax;
    private int _forwardBatch;

    private WindowPool(PoolKind kind, int dimensions, int kernelH, int kernelW, int strideH, int strideW, int padH, int padW,
        bool ceilMode, bool global)
    {
        if (!global && (kernelH < 1 || kernelW < 1 || strideH < 1 || strideW < 1))
            throw new ArgumentException($"{kind} pooling: kernel and stride must be positive; got kernel {kernelH}x{kernelW}, stride ({strideH},{strideW}).");
        if (padH < 0 || padW < 0 || 2 * padH > kernelH || 2 * padW > kernelW)
            throw new ArgumentException($"{kind} pooling: padding must be between 0 and half the kernel, as in PyTorch; got ({padH},{padW}).");
        (_kind, _dimensions, _kernelH, _kernelW, _strideH, _strideW, _padH, _padW, _ceilMode, _global) =
            (kind, dimensions, kernelH, kernelW, strideH, strideW, padH, padW, ceilMode, global);
    }

    /// <summary>torch.nn.MaxPool1d(kernel, stride = kernel, padding, ceil_mode); padding is −∞.</summary>
    public static WindowPool MaxPool1d(int kernel, int? stride = null, int padding = 0, bool ceilMode = false) =>
        new(PoolKind.Max, 1, 1, kernel, 1, stride ?? kernel, 0, padding, ceilMode, global: false);

    /// <summary>torch.nn.AvgPool1d(kernel, stride = kernel, padding, ceil_mode), count_include_pad=True.</summary>
    public static WindowPool AvgPool1d(int kernel, int? stride = null, int padding = 0, bool ceilMode = false) =>
        new(PoolKind.Average, 1, 1, kernel, 1, stride ?? kernel, 0, padding, ceilMode, global: false);

    /// <summary>torch.nn.MaxPool2d((kernelH, kernelW), stride = kernel, padding, ceil_mode); padding is −∞.</summary>
    public static WindowPool MaxPool2d(int kernelH, int kernelW, int? strideH = null, int? strideW = null, int padH = 0, int padW = 0,
        bool ceilMode = false) =>
        new(PoolKind.Max, 2, kernelH, kernelW, strideH ?? kernelH, strideW ?? kernelW, padH, padW, ceilMode, global: false);

    /// <summary>torch.nn.AvgPool2d((kernelH, kernelW), stride = kernel, padding, ceil_mode), count_include_pad=True.</summary>
    public static WindowPool AvgPool2d(int kernelH, int kernelW, int? strideH = null, int? strideW = null, int padH = 0, int padW = 0,
        bool ceilMode = false) =>
        new(PoolKind.Average, 2, kernelH, kernelW, strideH ?? kernelH, strideW ?? kernelW, padH, padW, ceilMode, global: false);

    /// <summary>torch.nn.AdaptiveAvgPool1d(1) on (C,L) → (C,1), AdaptiveAvgPool2d(1) on (C,H,W) → (C,1,1): the mean of
    /// each channel, a window as large as the input.</summary>
    public static WindowPool GlobalAvgPool() => new(PoolKind.Average, 0, 0, 0, 0, 0, 0, 0, ceilMode: false, global: true);

    public PoolKind Kind => _kind;
    /// <summary>1 or 2 for a windowed pool; 0 for <see cref="GlobalAvgPool"/>, whose window is the whole input.</summary>
    public int Dimensions => _dimensions;
    public bool IsGlobal => _global;
    public (int H, int W) Kernel => (_kernelH, _kernelW);
    public (int H, int W) Stride => (_strideH, _strideW);
    public (int H, int W) Padding => (_padH, _padW);
    public bool CeilMode => _ceilMode;

    protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        var accelerator = device.Accelerator;
        var dimensions = _global ? inputShape.Length - 1 : _dimensions;
        var name = $"{_kind}Pool{dimensions}d";
        var (c, h, w) = dimensions == 1 ? SignalAsImage(LayerGuards.RequireSignal(name, inputShape)) : LayerGuards.RequireImage(name, inputShape);
        _shape = _global
            ? new WindowPoolShape(maxBatch, c, h, w, h, w, h, w)
            : new WindowPoolShape(maxBatch, c, h, w, _kernelH, _kernelW, _strideH, _strideW, _padH, _padW, _ceilMode);
        _ops = device.Kernels.WindowPool;
        _output = new DeviceTensor(accelerator, (int)_shape.OutputLength);
        if (_kind == PoolKind.Max) _argmax = accelerator.Allocate1D<int>(_shape.OutputLength);
        if (needsInputGradient) _gradInput = new DeviceTensor(accelerator, (int)_shape.InputLength);
        return dimensions == 1 ? [c, _shape.OutW] : [c, _shape.OutH, _shape.OutW];
    }

    private static (int C, int H, int W) SignalAsImage((int C, int L) signal) => (signal.C, 1, signal.L);

    public override ArrayView<float> Forward(ArrayView<float> input, Pass pass)
    {
        LayerGuards.RequireInput(this, pass, input);
        var shape = _shape.WithBatch(pass.Batch);
        var output = LayerGuards.Built(_output, this).Slice(shape.OutputLength);
        if (_kind == PoolKind.Max) _ops!.MaxForward(shape, input, output, _argmax!.View);
        else _ops!.AverageForward(shape, input, output);
        _forwardBatch = pass.Batch;
        return output;
    }

    public override ArrayView<float> Backward(ArrayView<float> gradOutput, Pass pass)
    {
        LayerGuards.RequireGradOutput(this, pass, gradOutput, _forwardBatch);
        if (_gradInput is null) return ArrayView<float>.Empty;
        var shape = _shape.WithBatch(pass.Batch);
        var gradInput = _gradInput.Slice(shape.InputLength);
        if (_kind == PoolKind.Max) _ops!.MaxBackward(shape, gradOutput, _argmax!.View, gradInput);
        else _ops!.AverageBackward(shape, gradOutput, gradInput);
        return gradInput;
    }

    public override void Dispose()
    {
        _output?.Dispose();
        _argmax?.Dispose();
        _gradInput?.Dispose();
        base.Dispose();
    }
}
