using EnvNet.Esc50Dataset;
using EnvNet.Network;
using EnvNet.Training.Results;

namespace EnvNet.Training.Run;

/// <summary>Validation over test crops: loss is the cross-entropy of the crop-averaged probabilities, accuracy
/// and the confusion matrix count the argmax of those probabilities.</summary>
public sealed record EvaluationResult(double Loss, double Accuracy, ConfusionMatrix Confusion);

/// <summary>
/// Evaluates clips as the EnvNet authors test: each clip is padded with half an input of zeros on both sides and cut
/// into <c>crops</c> evenly spaced windows of the model's input length (<see cref="Crops.PaddedTestCrops"/>; the
/// same number for every clip, however short), the softmax probabilities of the windows are averaged, and the clip's
/// prediction is the class of highest mean probability. Crops of several clips share a batch so the device sees
/// full batches.
/// </summary>
public sealed class TestCropEvaluator
{
    private readonly NetworkModel _model;
    private readonly int _crops;
    private readonly float[] _inputs;
    private readonly float[] _logits;

    public TestCropEvaluator(NetworkModel model, int crops)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(crops, 1);
        _model = model;
        _crops = crops;
        _inputs = new float[model.MaxBatch * model.Config.InputLength];
        _logits = new float[model.MaxBatch * model.Config.Classes];
    }

    /// <param name="clipsDone">Called with the number of clips evaluated so far (for progress).</param>
    /// <param name="cancel">Checked before each clip: a stop request ends the evaluation (an <see cref="OperationCanceledException"/>).</param>
    public EvaluationResult Evaluate(IReadOnlyList<LoadedClip> clips, IReadOnlyList<string> classNames, Action<int>? clipsDone = null,
        CancellationToken cancel = default)
    {
        var classes = _model.Config.Classes;
        var inputLength = _model.Config.InputLength;
        var probabilitySums = new double[clips.Count * classes];
        var cropCounts = new int[clips.Count];
        var owners = new int[_model.MaxBatch];
        var rows = 0;

        void Flush()
        {
            _model.PredictLogits(_inputs.AsSpan(0, rows * inputLength), rows, _logits.AsSpan(0, rows * classes));
            for (var r = 0; r < rows; r++)
                AddSoftmax(_logits.AsSpan(r * classes, classes), probabilitySums.AsSpan(owners[r] * classes, classes));
            rows = 0;
        }

        for (var c = 0; c < clips.Count; c++)
        {
            cancel.ThrowIfCancellationRequested();
            var crops = Crops.PaddedTestCrops(clips[c].Samples, inputLength, _crops);
            cropCounts[c] = crops.Length / inputLength;
            for (var k = 0; k < cropCounts[c]; k++)
            {
                crops.AsSpan(k * inputLength, inputLength).CopyTo(_inputs.AsSpan(rows * inputLength));
                owners[rows++] = c;
                if (rows == _model.MaxBatch) Flush();
            }
            clipsDone?.Invoke(c + 1);
        }
        if (rows > 0) Flush();

        var confusion = new ConfusionMatrix(classNames);
        double lossSum = 0;
        for (var c = 0; c < clips.Count; c++)
        {
            var mean = probabilitySums.AsSpan(c * classes, classes);
            var label = clips[c].Label;
            // Probabilities are sums over crops here; divide to get the mean. The floor keeps log finite when a
            // class gets zero probability in float arithmetic.
            lossSum -= Math.Log(Math.Max(mean[label] / cropCounts[c], 1e-12));
            confusion.Add(label, ArgMax(mean));
        }
        return new EvaluationResult(clips.Count == 0 ? double.NaN : lossSum / clips.Count, confusion.Accuracy, confusion);
    }

    /// <summary>Logits of each test crop of one clip (crops x Classes), for <c>envnet predict</c>.</summary>
    public float[] CropLogits(float[] samples)
    {
        var inputLength = _model.Config.InputLength;
        var classes = _model.Config.Classes;
        var crops = Crops.PaddedTestCrops(samples, inputLength, _crops);
        var cropCount = crops.Length / inputLength;
        var logits = new float[cropCount * classes];
        for (var start = 0; start < cropCount; start += _model.MaxBatch)
        {
            var count = Math.Min(_model.MaxBatch, cropCount - start);
            _model.PredictLogits(crops.AsSpan(start * inputLength, count * inputLength), count,
                logits.AsSpan(start * classes, count * classes));
        }
        return logits;
    }

    /// <summary>Adds softmax(logits) to <paramref name="sum"/>, computed in double with the max subtracted.</summary>
    public static void AddSoftmax(ReadOnlySpan<float> logits, Span<double> sum)
    {
        double max = double.NegativeInfinity;
        foreach (var l in logits) max = Math.Max(max, l);
        double total = 0;
        foreach (var l in logits) total += Math.Exp(l - max);
        for (var i = 0; i < logits.Length; i++) sum[i] += Math.Exp(logits[i] - max) / total;
    }

    public static int ArgMax(ReadOnlySpan<double> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
