using System.CommandLine;
using EnvNet.Kernels;
using EnvNet.Network;

namespace EnvNet.Training.Bench;

/// <summary>
/// <c>envnet bench</c>: per-layer forward and backward times, the training-step time, samples per second, FLOPs and
/// GFLOP/s per layer and the device memory of EnvNet on one accelerator (figures as bench/reference/envnet_reference.py
/// prints for PyTorch); and <c>envnet selfcheck</c>: the tiled kernels against the plain ones on that accelerator.
/// </summary>
public static class BenchCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "envnet, envnet-tiny, envnet-v2 or envnet-v2-tiny.", DefaultValueFactory = _ => "envnet" };
        var batch = new Option<int>("--batch") { Description = "Samples per training step.", DefaultValueFactory = _ => 64 };
        var accelerator = new Option<string>("--accelerator") { Description = "auto, cuda, opencl, cpu (host kernels) or ilgpu-cpu (ILGPU's simulated GPU).", DefaultValueFactory = _ => "auto" };
        var steps = new Option<int>("--steps") { Description = "Timed samples per figure (the median is reported).", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed calls before each figure.", DefaultValueFactory = _ => 3 };
        var json = new Option<string?>("--json") { Description = "Also write the figures to this JSON file." };
        var plainKernels = new Option<bool>("--plain-kernels") { Description = "Time the plain ILGPU kernels (one output per grid-stride iteration) instead of the device's best (the 'before' figures)." };
        var stepOnly = new Option<bool>("--step-only") { Description = "Time only the training step, not each layer (a third of the time on a slow device)." };
        var command = new Command("bench", "Time EnvNet's layers and training step on one accelerator.") { model, batch, accelerator, steps, warmup, json, plainKernels, stepOnly };
        command.SetAction(parsed =>
        {
            var name = parsed.GetValue(model)!;
            if (!EnvNetConfig.ModelNames.Contains(name))
                return Usage(error, $"--model: unknown model '{name}'; expected one of {string.Join(", ", EnvNetConfig.ModelNames)}.");
            if (parsed.GetValue(batch) < 1) return Usage(error, "--batch: must be at least 1.");
            if (parsed.GetValue(steps) < 1) return Usage(error, "--steps: must be at least 1.");
            if (parsed.GetValue(warmup) < 0) return Usage(error, "--warmup: must not be negative.");
            if (parsed.GetValue(json) is { } jsonPath)
            {
                if (Directory.Exists(jsonPath)) return Usage(error, $"--json: expected a file to write; '{jsonPath}' is a folder.");
                if (Cli.OptionChecks.WritableFolder("--json", Path.GetDirectoryName(Path.GetFullPath(jsonPath))!) is { } unwritable)
                    return Usage(error, unwritable);
            }
            if (ParseAccelerator(parsed.GetValue(accelerator), error) is not { } choice) return 2;
            using var device = ComputeDevice.Create(choice, parsed.GetValue(plainKernels) ? KernelChoice.Plain : KernelChoice.Best);
            var result = Run(device, name, parsed.GetValue(batch), parsed.GetValue(steps), parsed.GetValue(warmup), output.WriteLine,
                timeLayers: !parsed.GetValue(stepOnly));
            Print(output, result);
            if (parsed.GetValue(json) is { } path) File.WriteAllText(path, result.ToJson());
            return 0;
        });
        return command;
    }

    public static Command CreateSelfCheck(TextWriter output, TextWriter error)
    {
        var batch = new Option<int>("--batch") { Description = "Samples per convolution.", DefaultValueFactory = _ => 2 };
        var accelerator = new Option<string>("--accelerator") { Description = "auto, cuda, opencl, cpu (host kernels) or ilgpu-cpu (ILGPU's simulated GPU).", DefaultValueFactory = _ => "auto" };
        var command = new Command("selfcheck", "Compare the tiled convolution kernels and the split GEMM with the plain ones on random data (max relative error).")
        {
            batch, accelerator,
        };
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(batch) < 1) return Usage(error, "--batch: must be at least 1.");
            if (ParseAccelerator(parsed.GetValue(accelerator), error) is not { } choice) return 2;
            using var device = ComputeDevice.Create(choice);
            output.WriteLine($"selfcheck on {device.Type} {device.Name}, tolerance {KernelSelfCheck.Tolerance:E0}");
            var rows = KernelSelfCheck.Run(device, parsed.GetValue(batch),
                row => output.WriteLine($"{row.Shape,-26} {row.Kernel,-16} max rel error {row.MaxRelativeError:E2} {(row.Passed ? "ok" : "FAILED")}"),
                output.WriteLine);
            var failed = rows.Count(r => !r.Passed);
            output.WriteLine(failed == 0 ? $"selfcheck: all {rows.Count} comparisons within tolerance" : $"selfcheck: {failed} of {rows.Count} FAILED");
            return failed == 0 ? 0 : 1;
        });
        return command;
    }

    /// <summary>Builds <paramref name="modelName"/> twice on the device (a model for the training step, a bare network
    /// for the per-layer times) and runs the benchmark on random waveforms and one-hot targets.</summary>
    public static BenchResult Run(ComputeDevice device, string modelName, int batch, int samples, int warmup, Action<string>? log = null,
        bool timeLayers = true)
    {
        const int classes = 50, seed = 1;
        var config = EnvNetConfig.ByName(modelName, classes);
        var before = DeviceTensor.LiveBytes;
        using var model = EnvNetModel.Create(device, config, batch, seed);
        var modelBytes = DeviceTensor.LiveBytes - before;
        var rng = new Random(seed);
        var inputs = new float[batch * config.InputLength];
        for (var i = 0; i < inputs.Length; i++) inputs[i] = (float)((rng.NextDouble() * 2 - 1) * 0.1);
        var targets = new float[batch * classes];
        for (var n = 0; n < batch; n++) targets[n * classes + rng.Next(classes)] = 1f;

        using var network = EnvNetModel.CreateNetwork(config, seed);
        int[] inputShape = [1, 1, config.InputLength];
        network.Build(device, inputShape, batch, needsInputGradient: false);
        network.ResetParameters(new Random(seed));
        var subject = new BenchSubject(modelName, batch, network, inputShape,
            () => model.TrainStep(inputs, targets, batch, 0.01f, 0.9f, 5e-4f), modelBytes);
        return BenchRunner.Run(device, subject, samples, warmup, log, timeLayers);
    }

    public static void Print(TextWriter output, BenchResult r)
    {
        output.WriteLine($"{"layer",-40} {"fwd ms",9} {"bwd ms",9} {"fwd GF/s",9} {"bwd GF/s",9}");
        foreach (var l in r.Layers)
            output.WriteLine($"{l.Layer,-40} {l.ForwardMs,9:F3} {l.BackwardMs,9:F3} {Rate(l.ForwardGflops),9} {Rate(l.BackwardGflops),9}");
        if (r.Layers.Count == 0) output.WriteLine("(per-layer times not measured: --step-only)");
        output.WriteLine($"{r.Framework} on {r.Device}: {r.Model} batch {r.Batch}: training step {r.StepMs:F2} ms" +
                         (r.StepCpuMs is { } cpu ? $" ({cpu:F0} ms of CPU time)" : "") + ", " +
                         $"{Figure(r.SamplesPerSecond)} samples/s, {Figure(r.StepGflops)} GFLOP/s, model buffers {r.ModelBytes / (double)(1 << 30):F2} GiB" +
                         (r.DeviceUsedBytes is { } used ? $", device memory in use {used / (double)(1 << 30):F2} GiB" : ""));
    }

    private static string Rate(double? gflops) => gflops is { } g ? Figure(g) : "-";

    /// <summary>Whole numbers from 10 up, two decimals below (the CPU accelerator's rates are around 1).</summary>
    private static string Figure(double value) => value >= 10 ? value.ToString("F0") : value.ToString("F2");

    private static AcceleratorChoice? ParseAccelerator(string? text, TextWriter error)
    {
        var errors = new List<string>();
        var choice = Cli.TrainOptionsValidator.ParseAccelerator(text, errors);
        foreach (var message in errors) Usage(error, message);
        return choice;
    }

    private static int Usage(TextWriter error, string message)
    {
        error.WriteLine($"error: {message}");
        return 2;
    }
}
