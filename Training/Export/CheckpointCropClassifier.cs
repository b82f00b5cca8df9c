using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Training.Checkpoints;
using EnvNet.Training.Run;

namespace EnvNet.Training.Export;

/// <summary>A checkpoint's model on an ILGPU accelerator, in eval mode (<see cref="NetworkModel.PredictLogits"/>).</summary>
public sealed class CheckpointCropClassifier : ICropClassifier
{
    private readonly ComputeDevice _device;
    private readonly NetworkModel _model;
    private readonly CheckpointInfo _info;

    /// <param name="maxBatch">The most crops one forward pass takes.</param>
    public CheckpointCropClassifier(string checkpointPath, AcceleratorChoice accelerator, int maxBatch)
    {
        _device = ComputeDevice.Create(accelerator);
        try
        {
            (_model, _info) = ModelCheckpoint.LoadModel(checkpointPath, _device, maxBatch);
        }
        catch
        {
            _device.Dispose();
            throw;
        }
    }

    public string Model => _info.Model;
    public int SampleRate => _model.Config.SampleRate;
    public IReadOnlyList<string> ClassNames => _info.ClassNames;

    public float[] CropLogits(float[] samples, int testCrops) => new TestCropEvaluator(_model, testCrops).CropLogits(samples);

    public void Dispose()
    {
        _model.Dispose();
        _device.Dispose();
    }
}
