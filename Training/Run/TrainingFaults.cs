using EnvNet.Kernels;
using EnvNet.Network;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace EnvNet.Training.Run;

/// <summary>
/// The loss became NaN or infinite: the weights are ruined, so training stops at once without writing a checkpoint
/// and the fold's last checkpoint (from the last finished epoch) stays as it was. Exit code 3.
/// </summary>
public sealed class TrainingDivergedException(string message) : Exception(message)
{
    /// <summary>The one-line report of a training batch whose loss is not finite.</summary>
    public static TrainingDivergedException AtBatch(int fold, int epoch, int batch, int batches, float loss, double learningRate, string checkpointNote) =>
        new($"training diverged at fold {fold}, epoch {epoch}, batch {batch} of {batches}: the loss is {loss} " +
            $"(learning rate {learningRate:G3}). {checkpointNote} Restart the fold with a smaller --lr.");

    /// <summary>The weights went non-finite in the epoch's last update: the validation loss shows it.</summary>
    public static TrainingDivergedException AtValidation(int fold, int epoch, double loss, double learningRate, string checkpointNote) =>
        new($"training diverged at fold {fold}, epoch {epoch}, validation after the last batch: the loss is {loss} " +
            $"(learning rate {learningRate:G3}). {checkpointNote} Restart the fold with a smaller --lr.");
}

/// <summary>The accelerator ran out of memory while training: the message names the batch size and the memory an
/// EnvNet training step needs by <see cref="NetworkModel.EstimateTrainingBytes"/>. Exit code 4.</summary>
public sealed class DeviceOutOfMemoryException(string message, Exception inner) : Exception(message, inner)
{
    /// <summary>Whether <paramref name="error"/> (or an exception inside it) is an allocation failure of the
    /// accelerator: CUDA's and OpenCL's out-of-memory codes; on the CPU accelerator, whose memory is the host's, an
    /// <see cref="OutOfMemoryException"/>.</summary>
    public static bool IsOutOfMemory(Exception error, AcceleratorType accelerator) => error switch
    {
        // ILGPU keeps CUDA's error code as its name (a string), OpenCL's as the enum.
        CudaException cuda => cuda.Error == nameof(CudaError.CUDA_ERROR_OUT_OF_MEMORY),
        CLException cl => cl.Error is CLError.CL_MEM_OBJECT_ALLOCATION_FAILURE or CLError.CL_OUT_OF_RESOURCES or CLError.CL_OUT_OF_HOST_MEMORY,
        OutOfMemoryException => accelerator == AcceleratorType.CPU,
        _ => error.InnerException is { } inner && IsOutOfMemory(inner, accelerator),
    };

    public static DeviceOutOfMemoryException For(Exception error, ComputeDevice device, ModelConfig config, int batch)
    {
        var needed = NetworkModel.EstimateTrainingBytes(config, batch);
        // The CPU accelerator reports no limit of its own (long.MaxValue): its memory is the host's.
        var available = device.Type == AcceleratorType.CPU
            ? $"the host has {Mebibytes(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)} MiB"
            : $"the device has {Mebibytes(device.Accelerator.MemorySize)} MiB";
        return new DeviceOutOfMemoryException(
            $"out of memory on {device.Type} {device.Name} with --batch {batch}: {config.Name} needs about {Mebibytes(needed)} MiB " +
            $"for a training step at that batch size, {available} ({error.GetType().Name}: {error.Message.Trim()}). Use a smaller --batch.", error);
    }

    private static long Mebibytes(long bytes) => (bytes + (1 << 20) - 1) >> 20;

    /// <summary>Refuses a batch whose estimated training memory (<see cref="NetworkModel.EstimateTrainingBytes"/>)
    /// exceeds what the device has, before anything is allocated.</summary>
    public static void CheckEstimate(ComputeDevice device, ModelConfig config, int batch)
    {
        var needed = NetworkModel.EstimateTrainingBytes(config, batch);
        if (device.Type == ILGPU.Runtime.AcceleratorType.CPU)
        {
            // Linux grants allocations beyond the host's memory and kills the process when the pages are touched, so
            // a batch that cannot fit is refused here, with the message an allocation failure gets.
            var hostBytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
            if (needed > hostBytes)
                throw For(new OutOfMemoryException($"the estimate exceeds the host's {hostBytes} bytes"), device, config, batch);
            return;
        }
        var available = device.Accelerator.MemorySize;
        if (needed > available)
            throw new UsageException(
                $"--batch: {batch} needs about {needed / (1 << 20)} MiB of device memory for {config.Name}, {device.Name} has {available / (1 << 20)} MiB; use a smaller batch.");
    }
}
