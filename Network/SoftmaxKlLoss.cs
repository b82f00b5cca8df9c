using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network;

/// <summary>
/// The training loss: mean over the batch of KL(target ‖ softmax(logits)), which is the cross-entropy for one-hot
/// targets and the between-class learning loss for mixed ones. Owns the logits-gradient buffer and a per-row
/// result buffer for the largest batch; <see cref="Compute"/> launches one kernel and reads back 2·batch floats.
/// </summary>
public sealed class SoftmaxKlLoss : IDisposable
{
    private readonly DeviceTensor _gradient;
    private readonly DeviceTensor _rowResults;
    private readonly float[] _hostRowResults;
    private readonly ILossOps _ops;
    private int _batch;

    public SoftmaxKlLoss(ComputeDevice device, int classes, int maxBatch)
    {
        if (classes <= 0 || maxBatch <= 0)
            throw new ArgumentOutOfRangeException(nameof(classes), $"Softmax-KL loss needs positive classes and batch, got {classes} and {maxBatch}.");
        Classes = classes;
        MaxBatch = maxBatch;
        _gradient = new DeviceTensor(device.Accelerator, maxBatch, classes);
        _rowResults = new DeviceTensor(device.Accelerator, maxBatch, 2);
        _hostRowResults = new float[2 * maxBatch];
        _ops = device.Kernels.Loss;
    }

    public int Classes { get; }
    public int MaxBatch { get; }

    /// <summary>d(mean loss)/d(logits), batch × classes, of the last <see cref="Compute"/>.</summary>
    public ArrayView<float> Gradient => _gradient.Slice((long)_batch * Classes);

    /// <summary>Rows of the last <see cref="Compute"/> whose argmax logit is the argmax target (first index on ties).</summary>
    public int Correct { get; private set; }

    /// <summary>Losses per row of the last <see cref="Compute"/>.</summary>
    public IReadOnlyList<float> RowLosses => Enumerable.Range(0, _batch).Select(r => _hostRowResults[2 * r]).ToArray();

    /// <summary>Fills <see cref="Gradient"/> and returns the mean loss over the first <paramref name="batch"/> rows
    /// of logits and targets (batch × classes each, targets rows summing to 1).</summary>
    public float Compute(ArrayView<float> logits, ArrayView<float> targets, int batch)
    {
        if (batch <= 0 || batch > MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(batch), $"The loss was built for batches of 1..{MaxBatch}, got {batch}.");
        _ops.SoftmaxKl(logits, targets, _gradient.View, _rowResults.View, new SoftmaxKlArgs(batch, Classes));
        _rowResults.View.SubView(0, 2L * batch).CopyToCPU(_hostRowResults.AsSpan(0, 2 * batch));
        _batch = batch;

        double sum = 0;
        var correct = 0;
        for (var r = 0; r < batch; r++)
        {
            sum += _hostRowResults[2 * r];
            correct += _hostRowResults[2 * r + 1] > 0.5f ? 1 : 0;
        }
        Correct = correct;
        return (float)(sum / batch);
    }

    public void Dispose()
    {
        _gradient.Dispose();
        _rowResults.Dispose();
    }
}
