using ILGPU;
using ILGPU.Runtime;
using EnvNet.Kernels.Plain;

namespace EnvNet.Kernels.Tiled;

/// <summary>
/// The tiled shared-memory kernels for GPUs: convolutions and the fused Conv→BN→ReLU block through
/// <see cref="TiledConvKernels"/> where <see cref="TiledConvOps.Plan"/> finds a plan (else the plain kernels), the
/// fully connected layers through the tiled GEMM split along K. The default on CUDA. Not on OpenCL: the tiled
/// convolutions reduce with warp shuffles, which ILGPU 1.5.3's OpenCL backend does not generate for a device without
/// sub-groups (<see cref="CompilesOn"/>). On ILGPU's CPU accelerator they run with GPU group shapes, for the tests.
/// </summary>
public sealed class TiledKernelBackend : KernelBackend
{
    public TiledKernelBackend(Accelerator accelerator) : base(accelerator)
    {
        if (!CompilesOn(accelerator))
            throw new NotSupportedException($"The tiled kernels use warp shuffles, which ILGPU does not generate on {accelerator.AcceleratorType}.");
    }

    /// <summary>Whether kernels with warp shuffles compile: on CUDA and on the CPU accelerator (which simulates them),
    /// not on OpenCL (measured on an Intel/PoCL CPU OpenCL device reporting warp size 0:
    /// InvalidCodeGenerationException at CLCodeGenerator.GenerateCode(WarpShuffle)).</summary>
    public static bool CompilesOn(Accelerator accelerator) => accelerator.AcceleratorType != AcceleratorType.OpenCL;

    public override string Name => "ILGPU tiled kernels";

    public override IConv2dOp Conv2d(Conv2dShape shape, bool needsInputGradient)
    {
        var tiled = TiledConvOps.For(Accelerator);
        // No plan (TiledConvPlanner.Plan says why: strides, shared memory, a wider right padding): the plain kernels.
        return tiled.Plan(shape) is { } plan
            ? new TiledConv2dOp(tiled, plan, Accelerator, needsInputGradient)
            : base.Conv2d(shape, needsInputGradient);
    }

    public override ILinearOp Linear(int maxBatch, int inFeatures, int outFeatures, bool needsInputGradient) =>
        new TiledLinearOp(GemmOps.For(Accelerator), LinearOps.For(Accelerator), Accelerator, maxBatch, inFeatures, outFeatures, needsInputGradient);

    /// <summary>The fused kernels have no bias: a convolution with one runs as the three layers.</summary>
    public override IConvBatchNormReLUOp? ConvBatchNormReLU(Conv2dShape shape, bool convBias, bool needsInputGradient)
    {
        var tiled = TiledConvOps.For(Accelerator);
        return !convBias && tiled.Plan(shape) is { } plan ? new TiledConvBatchNormReLUOp(tiled, BatchNormFusedOps.For(Accelerator), plan, Accelerator) : null;
    }

    /// <summary>Every kernel this backend can load, with the tiled convolutions specialised for
    /// <paramref name="plans"/> (the plans of the layers it is to run): the plain kernels it falls back to, the fused
    /// BatchNorm kernels of <see cref="TiledConvBatchNormReLUOp"/> and the tiled convolutions.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints(IEnumerable<TiledConvPlan> plans) =>
        [.. PlainEntryPoints, .. BatchNormFusedOps.EntryPoints, .. TiledConvOps.EntryPoints(plans)];
}
