using System.Globalization;
using EnvNet.Kernels;
using EnvNet.Kernels.Plain;
using EnvNet.Kernels.Tiled;
using EnvNet.Network;
using EnvNet.Network.Layers;

namespace EnvNet.Training.Commands;

/// <summary>A layer of a model that asks the kernel backend for an op planned for its shapes: a convolution (2-D, 1-D as
/// a 2-D one over (C, 1, L), or fused with BatchNorm and ReLU) or a fully connected layer. <see cref="Conv"/> is for one sample.</summary>
public sealed record PlannedLayer(string Name, string Kind, Conv2dShape? Conv, bool Fusable, int InFeatures, int OutFeatures);

/// <summary>One layer as the CUDA backend (<see cref="TiledKernelBackend"/>) runs it: which kernels and, for the
/// planned ones, every explicitly grouped launch of a training step.</summary>
public sealed record CudaLayerPlan(string Name, string Kind, string Kernels, TiledConvPlan? ConvPlan, IReadOnlyList<TiledLaunch> Launches);

/// <summary>
/// What each layer of a model gets on CUDA, made without a GPU: the convolutions through <see cref="TiledConvPlanner"/>
/// (the planner <see cref="TiledKernelBackend"/> calls), the fully connected layers through the tiled GEMM split
/// (<see cref="GemmOps.PlanSplit(GemmShape, int, int?)"/>), every other layer through the plain, auto-grouped kernels.
/// <c>envnet shapes --plan cuda</c> prints it; the tests check it against CUDA's limits.
/// </summary>
public static class CudaPlanView
{
    /// <summary>Every leaf layer of <paramref name="config"/>'s network (a Conv→BN→ReLU block counts as one) by its
    /// full name, with the planned ones' shapes, read off the network built for one sample on the CPU.</summary>
    public static IReadOnlyList<PlannedLayer> Layers(ModelConfig config) =>
        NetworkModel.Inspect(config, network => Leaves(network, "").ToList());

    private static IEnumerable<PlannedLayer> Leaves(Layer layer, string name)
    {
        switch (layer)
        {
            case ConvBatchNormReLU { Conv.HasBias: false } block: // CUDA's fused kernels have no bias: others run as their children
                yield return new PlannedLayer(name, block.Kind, block.SampleShape, true, 0, 0);
                yield break;
            case Conv2d conv:
                yield return new PlannedLayer(name, "Conv2d", conv.SampleShape, false, 0, 0);
                yield break;
            case Conv1d conv:
                // The Conv2d op over (C, 1, L) the layer asks for, rebuilt from what the built layer shows.
                var (channels, length, weight) = (conv.InputShape[0], conv.InputShape[1], conv.Weight.Shape);
                yield return new PlannedLayer(name, "Conv1d", new Conv1dShape(1, channels, length, weight[0], weight[2], conv.Stride,
                    conv.Padding.Left, conv.Padding.Right).AsConv2d(), false, 0, 0);
                yield break;
            case Linear linear:
                yield return new PlannedLayer(name, "Linear", null, false, linear.InFeatures, linear.OutFeatures);
                yield break;
        }
        var children = layer.Children.ToList();
        if (children.Count == 0)
        {
            yield return new PlannedLayer(name, layer.GetType().Name, null, false, 0, 0);
            yield break;
        }
        foreach (var (childName, child) in children)
            foreach (var leaf in Leaves(child, name.Length == 0 ? childName : $"{name}.{childName}"))
                yield return leaf;
    }

    /// <summary>The tiled plan <paramref name="conv"/> (any batch) gets on <paramref name="target"/>'s reference device.</summary>
    public static TiledConvPlan? ConvPlan(Conv2dShape conv, CudaTarget target) =>
        TiledConvPlanner.Plan(conv, CudaTarget.MaxSharedBytesPerGroup, target.Multiprocessors);

    /// <summary>Each layer of <paramref name="config"/> as CUDA runs it at <paramref name="batch"/> (plans are made for
    /// the largest batch, here <paramref name="batch"/>).</summary>
    public static IReadOnlyList<CudaLayerPlan> Plans(ModelConfig config, int batch, CudaTarget target) =>
        Layers(config).Select(layer => Plan(layer, batch, target)).ToList();

    public static CudaLayerPlan Plan(PlannedLayer layer, int batch, CudaTarget target)
    {
        if (layer.Conv is { } sample)
        {
            var conv = sample.WithBatch(batch);
            if (ConvPlan(conv, target) is { } plan)
                return new CudaLayerPlan(layer.Name, layer.Kind,
                    layer.Fusable ? "tiled convolution, BatchNorm statistics in its epilogue, fused BN+ReLU passes" : "tiled convolution",
                    plan, [.. plan.Launches(batch), .. layer.Fusable ? FusedBatchNormLaunches(batch, conv.Cout, conv.OutH * conv.OutW) : []]);
            return new CudaLayerPlan(layer.Name, layer.Kind,
                "plain kernels (no tiled plan: a vertical stride, a horizontal stride over several rows, tiles over the shared memory or a wider right padding)",
                null, []);
        }
        if (layer.Kind == "Linear")
        {
            var forward = new GemmShape(batch, layer.OutFeatures, layer.InFeatures, false, true);
            var inputGradient = new GemmShape(batch, layer.InFeatures, layer.OutFeatures, false, false);
            var weightGradient = new GemmShape(layer.OutFeatures, layer.InFeatures, batch, true, false);
            return new CudaLayerPlan(layer.Name, layer.Kind, "tiled GEMM, split along K where the blocks would not fill the GPU", null,
            [
                GemmLaunch("forward", forward, GemmOps.PlanSplit(forward, target.Multiprocessors, null)),
                GemmLaunch("input gradient", inputGradient, GemmOps.PlanSplit(inputGradient, target.Multiprocessors, null)),
                GemmLaunch("weight gradient", weightGradient, GemmSplit.None(weightGradient)),
            ]);
        }
        return new CudaLayerPlan(layer.Name, layer.Kind, "plain kernels (auto-grouped)", null, []);
    }

    /// <summary>The explicitly grouped passes of <see cref="BatchNormFusedOps"/> after a fused convolution, with the
    /// static shared memory each kernel allocates (a float, or three, per thread for its reductions).</summary>
    private static IReadOnlyList<TiledLaunch> FusedBatchNormLaunches(int batch, int channels, int spatial)
    {
        var elements = BatchNormFusedOps.ElementPassGrid(batch, channels, spatial);
        var elementGrid = new ILGPU.Index3D(elements.X, elements.Y, 1);
        var elementGroup = new ILGPU.Index3D(BatchNormFusedKernels.ElementThreads, 1, 1);
        var combine = new ILGPU.Index3D(BatchNormFusedKernels.CombineThreads, 1, 1);
        var perChannel = new ILGPU.Index3D(channels, 1, 1);
        return
        [
            new("BN statistics", nameof(BatchNormFusedKernels.CombineStatistics), perChannel, combine, 0, 3 * BatchNormFusedKernels.CombineThreads * sizeof(float)),
            new("BN+ReLU", nameof(BatchNormFusedKernels.NormalizeRelu), elementGrid, elementGroup, 0, 0),
            new("BN parameter gradients", nameof(BatchNormFusedKernels.GradientPartial), elementGrid, elementGroup, 0, 2 * BatchNormFusedKernels.ElementThreads * sizeof(float)),
            new("BN parameter gradient sum", nameof(BatchNormFusedKernels.GradientCombine), perChannel, combine, 0, 2 * BatchNormFusedKernels.CombineThreads * sizeof(float)),
            new("BN input gradient", nameof(BatchNormFusedKernels.InputGradient), elementGrid, elementGroup, 0, 0),
        ];
    }

    private static TiledLaunch GemmLaunch(string step, GemmShape shape, GemmSplit split) =>
        new(step, nameof(GemmKernels.Tiled), GemmOps.Grid(shape, split), new ILGPU.Index3D(GemmKernels.GroupSize, 1, 1), 0, GemmKernels.SharedBytes);

    /// <summary>The plan as <c>envnet shapes --plan cuda</c> prints it.</summary>
    public static void Write(TextWriter o, ModelConfig config, int batch, CudaTarget target)
    {
        var plans = Plans(config, batch, target);
        o.WriteLine();
        o.WriteLine($"on CUDA ({target.Name}, planned for a {target.ReferenceDevice} with {target.Multiprocessors} multiprocessors, " +
                    $"{CudaTarget.MaxSharedBytesPerGroup / 1024} KiB shared memory per group), batch {batch}:");
        var width = Math.Max(8, plans.Max(p => p.Name.Length) + 2);
        foreach (var plan in plans)
        {
            o.WriteLine($"{plan.Name.PadRight(width)}{plan.Kind}: {plan.Kernels}");
            foreach (var launch in plan.Launches)
                o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{"",-4}{launch.Step,-26} {launch.Kernel,-22} grid ({launch.Grid.X}, {launch.Grid.Y}, {launch.Grid.Z}) " +
                    $"group ({launch.Group.X}, {launch.Group.Y}, {launch.Group.Z}) shared {launch.SharedBytes / 1024.0:F1} KiB"));
        }
        var tiled = plans.Count(p => p.ConvPlan is not null);
        o.WriteLine($"{tiled} of {plans.Count(p => p.Kind.StartsWith("Conv", StringComparison.Ordinal))} convolutions tiled; " +
                    "the tests compile every kernel to PTX for " + string.Join(" and ", CudaTarget.Checked.Select(t => t.Name)) +
                    " and check these launches against CUDA's limits.");
    }
}
