using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Network.Layers;
using Onnx;
using static EnvNet.Training.Export.OnnxGraphBuilder;

namespace EnvNet.Training.Export;

/// <summary>How one layer kind becomes ONNX nodes in inference form: adds the nodes that compute the layer from the
/// value named <paramref name="input"/> and returns the name of the value it outputs. <paramref name="path"/> is
/// the layer's state_dict prefix ("classifier.fc5.module.0"), used to name its weights and nodes.</summary>
public delegate string OnnxLayerMapping(Layer layer, string path, string input, OnnxGraphBuilder graph);

/// <summary>
/// One mapping per layer kind, keyed by type. A layer takes the mapping of its own type or, failing that, of the
/// nearest base type that has one: <see cref="Sequential"/> containers (ConvBlock, LinearBlock, the fused
/// ConvBatchNormReLU, whose children hold its parameters) recurse into their children in order. A new layer kind
/// needs one entry here; a layer without one stops the export with its path and kind named.
/// </summary>
public static class OnnxLayerMappings
{
    private static readonly Dictionary<Type, OnnxLayerMapping> ByKind = new()
    {
        [typeof(Sequential)] = (layer, path, input, graph) => layer.Children.Aggregate(input,
            (value, child) => Map(child.Layer, Join(path, child.Name), value, graph)),
        [typeof(Conv2d)] = Typed<Conv2d>(Conv),
        [typeof(Conv1d)] = Typed<Conv1d>(Conv),
        [typeof(BatchNorm2d)] = Typed<BatchNorm2d>((norm, path, input, graph) =>
            BatchNormalization(norm.Weight, norm.Bias, norm.RunningMean, norm.RunningVar, norm.Eps, path, input, graph)),
        [typeof(BatchNorm1d)] = Typed<BatchNorm1d>((norm, path, input, graph) =>
            BatchNormalization(norm.Weight, norm.Bias, norm.RunningMean, norm.RunningVar, norm.Eps, path, input, graph)),
        [typeof(ReLU)] = (_, path, input, graph) => graph.AddNode("Relu", path, [input]),
        [typeof(MaxPool2d)] = Typed<MaxPool2d>((pool, path, input, graph) => graph.AddNode("MaxPool", path, [input],
            Ints("kernel_shape", pool.Kernel.H, pool.Kernel.W), Ints("strides", pool.Kernel.H, pool.Kernel.W))),
        [typeof(Transpose12)] = (_, path, input, graph) => graph.AddNode("Transpose", path, [input], Ints("perm", 0, 2, 1, 3)),
        [typeof(Flatten)] = (_, path, input, graph) => graph.AddNode("Flatten", path, [input], Int("axis", 1)),
        // Squeeze and Unsqueeze: the same values in the shape the layer was built to give.
        [typeof(Reshape)] = (layer, path, input, graph) => graph.AddNode("Reshape", path,
            [input, graph.AddInt64Initializer(Join(path, "shape"), [-1, .. layer.OutputShape.Select(d => (long)d)])]),
        [typeof(WindowPool)] = Typed<WindowPool>(Pool),
        [typeof(Concat)] = Typed<Concat>(Concatenate),
        [typeof(Residual)] = Typed<Residual>(Residual),
        [typeof(Linear)] = Typed<Linear>(Gemm),
        // Inference form: dropout is the identity.
        [typeof(Dropout)] = (_, _, input, _) => input,
    };

    /// <summary>Adds the nodes of <paramref name="layer"/> (and of everything below it) and returns its output value's name.</summary>
    public static string Map(Layer layer, string path, string input, OnnxGraphBuilder graph)
    {
        for (var kind = layer.GetType(); kind is not null; kind = kind.BaseType)
            if (ByKind.TryGetValue(kind, out var mapping))
                return mapping(layer, path, input, graph);
        throw new NotSupportedException(
            $"ONNX export: layer '{path}' is a {layer.GetType().Name}, a kind with no ONNX mapping (see {nameof(OnnxLayerMappings)}).");
    }

    private static string Conv(Conv2d conv, string path, string input, OnnxGraphBuilder graph)
    {
        var shape = conv.Weight.Shape; // [out, in, kernelH, kernelW]
        return graph.AddNode("Conv", path, ConvInputs(conv.Weight, conv.Bias, path, input, graph),
            Ints("kernel_shape", shape[2], shape[3]),
            Ints("strides", conv.Stride.H, conv.Stride.W),
            Ints("pads", conv.Padding.H, conv.Padding.W, conv.Padding.H, conv.Padding.W));
    }

    private static string Conv(Conv1d conv, string path, string input, OnnxGraphBuilder graph) =>
        graph.AddNode("Conv", path, ConvInputs(conv.Weight, conv.Bias, path, input, graph),
            Ints("kernel_shape", conv.Weight.Shape[2]), // [out, in, kernel]
            Ints("strides", conv.Stride),
            Ints("pads", conv.Padding.Left, conv.Padding.Right));

    private static string[] ConvInputs(Parameter weight, Parameter? bias, string path, string input, OnnxGraphBuilder graph)
    {
        var weightName = graph.AddInitializer(Join(path, "weight"), weight.Shape, weight.Value.ToArray());
        return bias is null
            ? [input, weightName]
            : [input, weightName, graph.AddInitializer(Join(path, "bias"), bias.Shape, bias.Value.ToArray())];
    }

    /// <summary>BatchNormalization in inference mode: the running statistics, not the batch's.</summary>
    private static string BatchNormalization(Parameter weight, Parameter bias, DeviceTensor runningMean, DeviceTensor runningVar,
        float eps, string path, string input, OnnxGraphBuilder graph)
    {
        int[] channels = [weight.Shape[0]];
        string Tensor(string name, DeviceTensor tensor) => graph.AddInitializer(Join(path, name), channels, tensor.ToArray());
        return graph.AddNode("BatchNormalization", path,
            [input, Tensor("weight", weight.Value), Tensor("bias", bias.Value),
             Tensor("running_mean", runningMean), Tensor("running_var", runningVar)],
            Float("epsilon", eps));
    }

    /// <summary>MaxPool (padding −∞) or AveragePool (padding counted, as PyTorch's count_include_pad), 1-D or 2-D;
    /// GlobalAveragePool for a window as large as the input.</summary>
    /// <remarks>ONNX's ceil_mode keeps a last window that starts in the right padding, which PyTorch drops, so ceil mode
    /// is written as floor mode with as much extra right padding as the layer's own output size needs. A max pool
    /// ignores that padding (−∞); an average pool would count it, so one that needs it is refused.</remarks>
    private static string Pool(WindowPool pool, string path, string input, OnnxGraphBuilder graph)
    {
        if (pool.IsGlobal) return graph.AddNode("GlobalAveragePool", path, [input]);
        var (inputSizes, outputSizes) = (pool.InputShape[1..], pool.OutputShape[1..]); // (L) or (H, W)
        (int Kernel, int Stride, int Pad)[] axes = pool.Dimensions == 1
            ? [(pool.Kernel.W, pool.Stride.W, pool.Padding.W)]
            : [(pool.Kernel.H, pool.Stride.H, pool.Padding.H), (pool.Kernel.W, pool.Stride.W, pool.Padding.W)];
        var extra = axes.Select((a, i) => Math.Max(0, (outputSizes[i] - 1) * a.Stride + a.Kernel - (inputSizes[i] + 2 * a.Pad))).ToArray();
        if (pool.Kind == PoolKind.Average && extra.Any(e => e > 0))
            throw new NotSupportedException(
                $"ONNX export: average pool '{path}' in ceil mode has a last window past its right padding, which ONNX's AveragePool would count.");
        AttributeProto[] window =
        [
            Ints("kernel_shape", axes.Select(a => (long)a.Kernel).ToArray()),
            Ints("strides", axes.Select(a => (long)a.Stride).ToArray()),
            Ints("pads", [.. axes.Select(a => (long)a.Pad), .. axes.Select((a, i) => (long)(a.Pad + extra[i]))]),
        ];
        return pool.Kind == PoolKind.Max
            ? graph.AddNode("MaxPool", path, [input], window)
            : graph.AddNode("AveragePool", path, [input], [.. window, Int("count_include_pad", 1)]);
    }

    /// <summary>The branches on the same input, joined along channels; where the layer stacks (C, L) branch outputs as
    /// the rows of one image, its output has one axis more than theirs and a Reshape adds it.</summary>
    private static string Concatenate(Concat concat, string path, string input, OnnxGraphBuilder graph)
    {
        var branches = concat.Children.Select(b => Map(b.Layer, Join(path, b.Name), input, graph)).ToList();
        var stacksRows = concat.OutputShape.Length != concat.Children.First().Layer.OutputShape.Length;
        var joined = graph.AddNode("Concat", stacksRows ? Join(path, "cat") : path, branches, Int("axis", 1));
        if (!stacksRows) return joined;
        var shape = graph.AddInt64Initializer(Join(path, "shape"), [-1, .. concat.OutputShape.Select(d => (long)d)]);
        return graph.AddNode("Reshape", path, [joined, shape]);
    }

    /// <summary>body(x) + shortcut(x), the shortcut being the identity or a layer, then ReLU where the block has one.</summary>
    private static string Residual(Residual block, string path, string input, OnnxGraphBuilder graph)
    {
        var body = block.Body.Aggregate(input, (value, layer) => Map(layer.Layer, Join(path, layer.Name), value, graph));
        var shortcut = block.Shortcut is { } s ? Map(s.Layer, Join(path, s.Name), input, graph) : input;
        if (!block.ReluAfter) return graph.AddNode("Add", path, [body, shortcut]);
        var sum = graph.AddNode("Add", Join(path, "add"), [body, shortcut]);
        return graph.AddNode("Relu", path, [sum]);
    }

    /// <summary>y = x·Wᵀ + b as Gemm with transB, so the weight keeps PyTorch's [out, in] layout.</summary>
    private static string Gemm(Linear linear, string path, string input, OnnxGraphBuilder graph)
    {
        var weight = graph.AddInitializer(Join(path, "weight"), linear.Weight.Shape, linear.Weight.Value.ToArray());
        var bias = graph.AddInitializer(Join(path, "bias"), linear.Bias.Shape, linear.Bias.Value.ToArray());
        return graph.AddNode("Gemm", path, [input, weight, bias], Int("transB", 1));
    }

    private static OnnxLayerMapping Typed<TLayer>(Func<TLayer, string, string, OnnxGraphBuilder, string> mapping) where TLayer : Layer =>
        (layer, path, input, graph) => mapping((TLayer)layer, path, input, graph);

    /// <summary>The state_dict path of a child; a child named "" has its parent's (see <see cref="Layer.Children"/>).</summary>
    private static string Join(string path, string name) => path.Length == 0 ? name : name.Length == 0 ? path : $"{path}.{name}";
}
