using ILGPU.Runtime;
using EnvNet.Kernels.Plain;

namespace EnvNet.Kernels.Host;

/// <summary>
/// The CPU backend: ops written as host C# over the CPU accelerator's buffers (plain host memory, read through
/// their host pointers, <see cref="HostView"/>), vectorised with AVX-512 and parallel over the cores
/// (<see cref="HostParallel"/>), instead of ILGPU's simulated GPU threads. Whatever it does not override runs the
/// plain ILGPU kernels on the same CPU accelerator (<see cref="KernelBackend"/>), and so do the convolutions and fully
/// connected layers on a CPU without AVX-512 (<see cref="HostTile.Supported"/>).
/// </summary>
public sealed class HostKernelBackend(Accelerator accelerator) : KernelBackend(accelerator)
{
    private readonly HostPoolOps _pool = new();
    private IConv1dOps? _conv1d;

    public override string Name => HostTile.Supported ? "CPU host kernels" : "CPU host kernels (no AVX-512: convolutions and GEMMs on the plain kernels)";

    public override IActivationOps Activation { get; } = new HostActivationOps();
    public override IBatchNormOps BatchNorm { get; } = new HostBatchNormOps();
    public override IPoolOps Pool => _pool;
    public override ITransposeOps Transpose => _pool;
    public override IDropoutOps Dropout { get; } = new HostDropoutOps();
    public override ILossOps Loss { get; } = new HostLossOps();
    public override ISgdOps Sgd { get; } = new HostSgdOps();
    public override IAdamOps Adam { get; } = new HostAdamOps();
    public override IAdadeltaOps Adadelta { get; } = new HostAdadeltaOps();
    public override IBranchOps Branch { get; } = new HostBranchOps();
    public override IWindowPoolOps WindowPool { get; } = new HostWindowPoolOps();
    public override IChannelBiasOps ChannelBias { get; } = new HostChannelBiasOps();
    public override IConv1dOps Conv1d => _conv1d ??= HostTile.Supported ? new HostConv1dOps(base.Conv1d) : base.Conv1d;

    public override IConv2dOp Conv2d(Conv2dShape shape, bool needsInputGradient) =>
        HostTile.Supported && HostConv2dOp.Supports(shape) ? new HostConv2dOp(shape) : base.Conv2d(shape, needsInputGradient);

    public override IConvBatchNormReLUOp? ConvBatchNormReLU(Conv2dShape shape, bool needsInputGradient) =>
        HostTile.Supported && HostConv2dOp.Supports(shape) ? new HostConvBatchNormReLUOp(Accelerator, shape) : null;

    public override ILinearOp Linear(int maxBatch, int inFeatures, int outFeatures, bool needsInputGradient) =>
        HostTile.Supported ? new HostLinearOp(maxBatch, inFeatures, outFeatures) : base.Linear(maxBatch, inFeatures, outFeatures, needsInputGradient);
}
