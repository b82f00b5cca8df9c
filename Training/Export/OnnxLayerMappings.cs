using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Network.Layers;
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
        [typeof(BatchNorm2d)] = Typed<BatchNorm2d>(BatchNormalization),
        [typeof(ReLU)] = (_, path, input, graph) => graph.AddNode("Relu", path, [input]),
        [typeof(MaxPool2d)] = Typed<MaxPool2d>((pool, path, input, graph) => graph.AddNode("MaxPool", path, [input],
            Ints("kernel_shape", pool.Kernel.H, pool.Kernel.W), Ints("strides", pool.Kernel.H, pool.Kernel.W))),
        [typeof(Transpose12)] = (_, path, input, graph) => graph.AddNode("Transpose", path, [input], Ints("perm", 0, 2, 1, 3)),
        [typeof(Flatten)] = (_, path, input, graph) => graph.AddNode("Flatten", path, [input], Int("axis", 1)),
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
        var weight = graph.AddInitializer(Join(path, "weight"), shape, conv.Weight.Value.ToArray());
        return graph.AddNode("Conv", path, [input, weight],
            Ints("kernel_shape", shape[2], shape[3]),
            Ints("strides", conv.Stride.H, conv.Stride.W),
            Ints("pads", conv.Padding.H, conv.Padding.W, conv.Padding.H, conv.Padding.W));
    }

    /// <summary>BatchNormalization in inference mode: the running statistics, not the batch's.</summary>
    private static string BatchNormalization(BatchNorm2d norm, string path, string input, OnnxGraphBuilder graph)
    {
        int[] channels = [norm.Weight.Shape[0]];
        string Tensor(string name, DeviceTensor tensor) => graph.AddInitializer(Join(path, name), channels, tensor.ToArray());
        return graph.AddNode("BatchNormalization", path,
            [input, Tensor("weight", norm.Weight.Value), Tensor("bias", norm.Bias.Value),
             Tensor("running_mean", norm.RunningMean), Tensor("running_var", norm.RunningVar)],
            Float("epsilon", norm.Eps));
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
