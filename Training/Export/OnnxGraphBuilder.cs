using EnvNet.Kernels;
using Google.Protobuf;
using Onnx;

namespace EnvNet.Training.Export;

/// <summary>
/// An ONNX graph under construction: the layer mappings add initializers (weights) and nodes to it, each naming its
/// values after the layer's state_dict path, so the exported file reads like the checkpoint it came from.
/// </summary>
public sealed class OnnxGraphBuilder
{
    private readonly HashSet<string> _names = [];

    public GraphProto Graph { get; } = new();

    public OnnxGraphBuilder(string name) => Graph.Name = name;

    /// <summary>Reserves <paramref name="name"/>, or the first free "name_2", "name_3", ...: ONNX needs every value
    /// name to be unique in the graph.</summary>
    public string UniqueName(string name)
    {
        var unique = name;
        for (var i = 2; !_names.Add(unique); i++) unique = $"{name}_{i}";
        return unique;
    }

    /// <summary>A float32 weight tensor, stored as raw little-endian bytes.</summary>
    public string AddInitializer(string name, int[] shape, float[] values)
    {
        if (values.LongLength != ShapeUtil.Elements(shape))
            throw new ArgumentException($"Initializer '{name}': {values.Length} values for shape {ShapeUtil.Format(shape)}.");
        var tensor = new TensorProto { Name = UniqueName(name), DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(shape.Select(d => (long)d));
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian) ReverseEachFloat(bytes);
        tensor.RawData = ByteString.CopyFrom(bytes);
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>A one-dimensional int64 constant, such as the target shape of a Reshape.</summary>
    public string AddInt64Initializer(string name, params long[] values)
    {
        var tensor = new TensorProto { Name = UniqueName(name), DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Adds a node with one output, named <paramref name="name"/> (made unique), and returns that output's name.</summary>
    public string AddNode(string opType, string name, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        // An empty name marks an omitted optional input in ONNX; a layer at the root of the tree has no path.
        var output = UniqueName(name.Length > 0 ? name : opType);
        var node = new NodeProto { OpType = opType, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return output;
    }

    /// <summary>A graph input or output: float32 with <paramref name="batch"/> as the first dimension (a fixed size, or
    /// a named dynamic one) and fixed sizes after it.</summary>
    public static ValueInfoProto FloatValue(string name, OnnxBatch batch, params int[] perSample)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(batch.Fixed is { } size
            ? new TensorShapeProto.Types.Dimension { DimValue = size }
            : new TensorShapeProto.Types.Dimension { DimParam = OnnxBatch.DynamicName });
        foreach (var d in perSample) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    private static void ReverseEachFloat(byte[] bytes)
    {
        for (var i = 0; i < bytes.Length; i += sizeof(float)) Array.Reverse(bytes, i, sizeof(float));
    }
}

/// <summary>The batch dimension of the exported input and output: dynamic (named "batch") or a fixed size.</summary>
public readonly record struct OnnxBatch(int? Fixed)
{
    public const string DynamicName = "batch";
    public static OnnxBatch Dynamic => new(null);
    public override string ToString() => Fixed?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "dynamic";
}
