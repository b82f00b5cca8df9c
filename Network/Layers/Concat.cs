using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network.Layers;

/// <summary>
/// Parallel branches on one input, their outputs joined along the channel axis: torch.cat([b(x) for b in branches],
/// dim=1). Branch outputs must agree in every axis but the channels. With <paramref name="stackAsImageRows"/>, (C_i, L)
/// branch outputs become one (1, ΣC_i, L) image, torch.unsqueeze(torch.cat(..., dim=1), dim=1) as WaveMsNet does: the
/// same values, one more axis. The branches are named children, so their state keeps its PyTorch names. Backward
/// hands each branch its channels of the gradient and adds the branches' input gradients.
/// </summary>
public sealed class Concat(IEnumerable<(string Name, Layer Layer)> branches, bool stackAsImageRows = false) : Layer
{
    private readonly List<(string Name, Layer Layer)> _branches = branches.ToList();
    private readonly bool _stackAsImageRows = stackAsImageRows;
    private IBranchOps? _ops;
    private int[] _branchChannels = [];
    private int _channels, _spatial;
    private DeviceTensor? _output, _gradInput;
    private readonly List<DeviceTensor> _branchGradOutputs = [];
    private int _forwardBatch;

    public override IEnumerable<(string Name, Layer Layer)> Children => _branches;

    protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        if (_branches.Count == 0) throw new ArgumentException("Concat needs at least one branch.");
        var outputs = _branches.Select(b => b.Layer.Build(device, inputShape, maxBatch, needsInputGradient)).ToList();
        var rest = outputs[0][1..];
        for (var i = 0; i < outputs.Count; i++)
        {
            if (outputs[i].Length < 2 || !outputs[i][1..].SequenceEqual(rest))
                throw new ArgumentException(
                    $"Concat: branch '{_branches[i].Name}' gives {ShapeUtil.Format(outputs[i])}, branch '{_branches[0].Name}' " +
                    $"{ShapeUtil.Format(outputs[0])}; they must agree in every axis but the channels.");
        }
        if (_stackAsImageRows && rest.Length != 1)
            throw new ArgumentException($"Concat: stacking as image rows needs (C,L) branch outputs; got {ShapeUtil.Format(outputs[0])}.");
        _ops = device.Kernels.Branch;
        _branchChannels = outputs.Select(o => o[0]).ToArray();
        _channels = _branchChannels.Sum();
        _spatial = checked((int)ShapeUtil.Elements(rest));
        _output = new DeviceTensor(device.Accelerator, maxBatch * _channels * _spatial);
        foreach (var channels in _branchChannels)
            _branchGradOutputs.Add(new DeviceTensor(device.Accelerator, maxBatch * channels * _spatial));
        if (needsInputGradient) _gradInput = new DeviceTensor(device.Accelerator, checked((int)(maxBatch * ShapeUtil.Elements(inputShape))));
        return _stackAsImageRows ? [1, _channels, rest[0]] : [_channels, .. rest];
    }

    public override ArrayView<float> Forward(ArrayView<float> input, Pass pass)
    {
        LayerGuards.RequireInput(this, pass, input);
        var output = LayerGuards.Built(_output, this).Slice((long)pass.Batch * _channels * _spatial);
        for (var i = 0; i < _branches.Count; i++)
            _ops!.InsertChannels(Slice(i, pass.Batch), _branches[i].Layer.Forward(input, pass), output);
        _forwardBatch = pass.Batch;
        return output;
    }

    public override ArrayView<float> Backward(ArrayView<float> gradOutput, Pass pass)
    {
        LayerGuards.RequireGradOutput(this, pass, gradOutput, _forwardBatch);
        var inputLength = pass.Batch * ShapeUtil.Elements(InputShape);
        var gradInput = _gradInput?.Slice(inputLength) ?? ArrayView<float>.Empty;
        for (var i = 0; i < _branches.Count; i++)
        {
            var slice = Slice(i, pass.Batch);
            var branchGradOutput = _branchGradOutputs[i].Slice(slice.PartLength);
            _ops!.ExtractChannels(slice, gradOutput, branchGradOutput);
            var branchGradInput = _branches[i].Layer.Backward(branchGradOutput, pass);
            if (_gradInput is null) continue;
            if (i == 0) branchGradInput.SubView(0, inputLength).CopyTo(gradInput);
            else _ops.Add(inputLength, gradInput, branchGradInput, gradInput);
        }
        return gradInput;
    }

    private ChannelSliceShape Slice(int branch, int batch) =>
        new(batch, _channels, _branchChannels[..branch].Sum(), _branchChannels[branch], _spatial);

    public override void Dispose()
    {
        _output?.Dispose();
        _gradInput?.Dispose();
        foreach (var buffer in _branchGradOutputs) buffer.Dispose();
        base.Dispose();
    }
}
