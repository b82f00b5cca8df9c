using ILGPU;
using ILGPU.Runtime;
using EnvNet.Kernels.Plain;

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
    public virtual IChannelBiasOps ChannelBias => ChannelBiasOps.For(Accelerator);
    public virtual IWindowPoolOps WindowPool => WindowPoolOps.For(Accelerator);
    public virtual IBranchOps Branch => BranchOps.For(Accelerator);

    /// <summary>A convolution for <paramref name="shape"/> (N = the largest batch).</summary>
    public virtual IConv2dOp Conv2d(Conv2dShape shape, bool needsInputGradient) => new PlainConv2dOp(Conv2dOps.For(Accelerator), shape);

    /// <summary>A fully connected layer x·Wᵀ + b for up to <paramref name="maxBatch"/> rows.</summary>
    public virtual ILinearOp Linear(int maxBatch, int inFeatures, int outFeatures, bool needsInputGradient) =>
        new PlainLinearOp(GemmOps.For(Accelerator), LinearOps.For(Accelerator), inFeatures, outFeatures);

    /// <summary>Conv2d (with a bias where <paramref name="convBias"/>) → BatchNorm2d → ReLU as one op for
    /// <paramref name="shape"/>, or null where this backend has no fused form: the layer then runs the three layers one
    /// after another.</summary>
    public virtual IConvBatchNormReLUOp? ConvBatchNormReLU(Conv2dShape shape, bool convBias, bool needsInputGradient) => null;

    /// <summary>Every kernel this backend can load: the entry points of each op class above, in their order. A backend
    /// that adds op classes adds their lists to this one (<c>TiledKernelBackend.EntryPoints</c>).</summary>
    public static IReadOnlyList<KernelEntryPoint> PlainEntryPoints { get; } =
    [
        .. ActivationOps.EntryPoints, .. BatchNormOps.EntryPoints, .. PoolOps.EntryPoints, .. TransposeOps.EntryPoints,
        .. DropoutOps.EntryPoints, .. LossOps.EntryPoints, .. SgdOps.EntryPoints, .. AdamOps.EntryPoints,
        .. AdadeltaOps.EntryPoints, .. ChannelBiasOps.EntryPoints, .. WindowPoolOps.EntryPoints,
        .. BranchOps.EntryPoints, .. Conv2dOps.EntryPoints, .. GemmOps.EntryPoints, .. LinearOps.EntryPoints,
    ];
}
