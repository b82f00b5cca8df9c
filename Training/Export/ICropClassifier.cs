namespace EnvNet.Training.Export;

/// <summary>
/// Something that gives the logits of a clip's test crops: a checkpoint on an ILGPU accelerator
/// (<see cref="CheckpointCropClassifier"/>) or an exported ONNX file in ONNX Runtime (<see cref="OnnxCropClassifier"/>).
/// <c>envnet predict</c> only picks which; the crops (<see cref="Esc50Dataset.Crops.PaddedTestCrops"/>) and the
/// averaging of their probabilities are the same for both.
/// </summary>
public interface ICropClassifier : IDisposable
{
    /// <summary>The model's name ("envnet", "envnet-v2-tiny", ...).</summary>
    string Model { get; }

    /// <summary>The rate, in Hz, the clip must be resampled to.</summary>
    int SampleRate { get; }

    IReadOnlyList<string> ClassNames { get; }

    /// <summary>Logits of each test crop of <paramref name="samples"/> (a clip at <see cref="SampleRate"/>): crops x classes.</summary>
    float[] CropLogits(float[] samples, int testCrops);
}
