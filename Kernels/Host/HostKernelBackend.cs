using System.Runtime.Intrinsics;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Host;

/// <summary>
/// The CPU backend: ops written as host C# over the CPU accelerator's buffers (plain host memory, read through
/// their host pointers, <see cref="HostView"/>), vectorised at one <see cref="VectorWidth"/> and parallel over the
/// cores (<see cref="HostParallel"/>), instead of ILGPU's simulated GPU threads. Whatever it does not override runs
/// the plain ILGPU kernels on the same CPU accelerator (<see cref="KernelBackend"/>).
/// <para>The width is chosen once, here (<see cref="Create"/>): the CPU's widest native width
/// (<see cref="VectorUnit.Chosen"/>) unless the caller names one. Every host op is generic over the width
/// (<see cref="ISimd{TVector}"/>), so one source runs AVX-512, AVX2 and NEON; where .NET accelerates no vector
/// type at all, the plain kernels run everything and the name says so.</para>
/// </summary>
public abstract class HostKernelBackend(Accelerator accelerator) : KernelBackend(accelerator)
{
    /// <summary>The width the host ops run at.</summary>
    public abstract VectorWidth Width { get; }

    public override string Name => Describe(Width);

    /// <summary>What the CPU backend runs at <paramref name="width"/> (null: no vector unit), in the words of the run
    /// log, <c>envnet devices</c> and <c>envnet bench</c>.</summary>
    public static string Describe(VectorWidth? width) => width is { } w
        ? $"CPU host kernels, {VectorUnit.Describe(w)}, {HostParallel.Workers} threads"
        : "CPU, plain ILGPU kernels (.NET accelerates no vector type on this CPU)";

    /// <summary>The CPU backend at <paramref name="width"/>, or at <see cref="VectorUnit.Chosen"/> when null.</summary>
    public static KernelBackend Create(Accelerator accelerator, VectorWidth? width = null) => (width ?? VectorUnit.Chosen) switch
    {
        VectorWidth.Bits512 => new HostKernelBackend<Simd512, Vector512<float>>(accelerator),
        VectorWidth.Bits256 => new HostKernelBackend<Simd256, Vector256<float>>(accelerator),
        VectorWidth.Bits128 => new HostKernelBackend<Simd128, Vector128<float>>(accelerator),
        _ => new WithoutVectorUnit(accelerator),
    };

    private sealed class WithoutVectorUnit(Accelerator accelerator) : KernelBackend(accelerator)
    {
        public override string Name => Describe(null);
    }
}

internal sealed class HostKernelBackend<TSimd, TVector>(Accelerator accelerator) : HostKernelBackend(accelerator)
    where TSimd : ISimd<TVector> where TVector : unmanaged
{
    private readonly HostPoolOps<TSimd, TVector> _pool = new();

    public override VectorWidth Width => TSimd.Width;

    public override IActivationOps Activation { get; } = new HostActivationOps<TSimd, TVector>();
    public override IBatchNormOps BatchNorm { get; } = new HostBatchNormOps<TSimd, TVector>();
    public override IPoolOps Pool => _pool;
    public override ITransposeOps Transpose => _pool;
    public override IDropoutOps Dropout { get; } = new HostDropoutOps();
    public override ILossOps Loss { get; } = new HostLossOps();
    public override ISgdOps Sgd { get; } = new HostSgdOps<TSimd, TVector>();
    public override IAdamOps Adam { get; } = new HostAdamOps<TSimd, TVector>();
    public override IAdadeltaOps Adadelta { get; } = new HostAdadeltaOps();
    public override IBranchOps Branch { get; } = new HostBranchOps<TSimd, TVector>();
    public override IWindowPoolOps WindowPool { get; } = new HostWindowPoolOps<TSimd, TVector>();
    public override IChannelBiasOps ChannelBias { get; } = new HostChannelBiasOps<TSimd, TVector>();

    public override IConv2dOp Conv2d(Conv2dShape shape, bool needsInputGradient) =>
        HostConv2dOp<TSimd, TVector>.Supports(shape) ? new HostConv2dOp<TSimd, TVector>(shape) : base.Conv2d(shape, needsInputGradient);

    public override IConvBatchNormReLUOp? ConvBatchNormReLU(Conv2dShape shape, bool convBias, bool needsInputGradient) =>
        HostConv2dOp<TSimd, TVector>.Supports(shape) ? new HostConvBatchNormReLUOp<TSimd, TVector>(Accelerator, shape, convBias) : null;

    public override ILinearOp Linear(int maxBatch, int inFeatures, int outFeatures, bool needsInputGradient) =>
        new HostLinearOp<TSimd, TVector>(maxBatch, inFeatures, outFeatures);
}
