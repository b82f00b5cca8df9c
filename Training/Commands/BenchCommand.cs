using System.CommandLine;
using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Training.Bench;
using EnvNet.Training.Run;

namespace EnvNet.Training.Commands;

/// <summary>
/// <c>envnet bench</c>: per-layer forward and backward times, the training-step time, samples per second, FLOPs and
/// GFLOP/s per layer and the device memory of EnvNet on one accelerator (figures as bench/reference/envnet_reference.py
/// prints for PyTorch); and <c>envnet selfcheck</c>: the tiled kernels against the plain ones on that accelerator.
/// </summary>
public static class BenchCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = CommonOptions.Model("envnet");
        var batch = new Option<int>("--batch") { HelpName = "N", Description = "Samples per training step.", DefaultValueFactory = _ => 64 };
        var accelerator = CommonOptions.Accelerator();
        var steps = new Option<int>("--steps") { HelpName = "N", Description = "Timed samples per figure (the median is reported).", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { HelpName = "N", Description = "Untimed calls before each figure.", DefaultValueFactory = _ => 3 };
        var json = new Option<string?>("--json") { HelpName = "FILE", Description = "Also write the figures to this JSON file." };
        var plainKernels = new Option<bool>("--plain-kernels") { Description = "Time the plain ILGPU kernels (one output per grid-stride iteration) instead of the device's best (the 'before' figures)." };
        var stepOnly = new Option<bool>("--step-only") { Description = "Time only the training step, not each layer (a third of the time on a slow device)." };
        var command = new Command("bench", "Time EnvNet's layers and training step on one accelerator.") { model, batch, accelerator, steps, warmup, json, plainKernels, stepOnly };
        command.SetAction(parsed =>
        {
            var name = parsed.GetValue(model)!;
            if (!ModelRegistry.Contains(name)) return Usage(error, ModelRegistry.UnknownModelMessage("--model", name));
            if (OptionChecks.Positive("--batch", parsed.GetValue(batch), "batch size") is { } badBatch) return Usage(error, badBatch);
            if (OptionChecks.Positive("--steps", parsed.GetValue(steps), "number of timed samples") is { } badSteps) return Usage(error, badSteps);
            if (parsed.GetValue(warmup) < 0) return Usage(error, $"--warmup: expected 0 or a positive number of calls; got {parsed.GetValue(warmup)}.");
            if (Accelerator(parsed.GetValue(accelerator), error) is not { } choice) return ExitCodes.Usage;
            if (parsed.GetValue(json) is { } jsonPath)
            {
                if (Directory.Exists(jsonPath)) return Usage(error, $"--json: expected a file to write; '{jsonPath}' is a folder.");
                if (OptionChecks.WritableFolder("--json", Path.GetDirectoryName(Path.GetFullPath(jsonPath))!) is { } unwritable)
                    return Usage(error, unwritable);
            }
            using var device = ComputeDevice.Create(choice, parsed.GetValue(plainKernels) ? KernelChoice.Plain : KernelChoice.Best);
            BenchResult result = null!;
            // The per-layer lines as they are measured are progress; the table below is the result, printed once.
            RunConsole.Activity("timing layers and the training step", output, error.WriteLine, (status, _) =>
                result = Run(device, name, parsed.GetValue(batch), parsed.GetValue(steps), parsed.GetValue(warmup),
                    layer => status($"measured {layer.Trim()}"), timeLayers: !parsed.GetValue(stepOnly)));
            Print(output, result);
            if (parsed.GetValue(plainKernels))
                output.WriteLine($"kernels: {device.Kernels.Name}, as asked (--plain-kernels).");
            else if (device.Type != ILGPU.Runtime.AcceleratorType.Cuda)
                output.WriteLine($"kernels: {device.Kernels.Name}; the tiled kernels are CUDA-only (they rely on warp shuffles), so {device.Type} runs these.");
            if (parsed.GetValue(json) is { } path)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                File.WriteAllText(path, result.ToJson());
            }
            return 0;
        });
        return command;
    }

    public static Command CreateSelfCheck(TextWriter output, TextWriter error)
    {
        var batch = new Option<int>("--batch") { HelpName = "N", Description = "Samples per convolution.", DefaultValueFactory = _ => 2 };
        var accelerator = CommonOptions.Accelerator();
        var command = new Command("selfcheck", "Compare the tiled convolution kernels and the split GEMM with the plain ones on random data (max relative error).")
        {
            batch, accelerator,
        };
        command.SetAction(parsed =>
        {
            if (OptionChecks.Positive("--batch", parsed.GetValue(batch), "batch size") is { } badBatch) return Usage(error, badBatch);
            if (Accelerator(parsed.GetValue(accelerator), error) is not { } choice) return ExitCodes.Usage;
            using var device = ComputeDevice.Create(choice);
            output.WriteLine($"selfcheck on {device.Type} {device.Name}, tolerance {KernelSelfCheck.Tolerance:E0}");
            IReadOnlyList<SelfCheckRow> rows = [];
            RunConsole.Activity("selfcheck", output, error.WriteLine, (status, print) =>
            {
                var done = 0;
                status("comparing the first kernels");
                rows = KernelSelfCheck.Run(device, parsed.GetValue(batch), row =>
                    {
                        print($"{row.Shape,-48} {row.Kernel,-16} max rel error {row.MaxRelativeError:E2} {(row.Passed ? "ok" : "FAILED")}");
                        status($"{Wording.Count(++done, "comparison")} done");
                    },
                    print);
            });
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
        var config = ModelRegistry.Config(modelName, classes);
        var before = DeviceTensor.LiveBytes;
        using var model = NetworkModel.Create(device, config, batch, seed);
        var modelBytes = DeviceTensor.LiveBytes - before;
        var rng = new Random(seed);
        var inputs = new float[batch * config.InputLength];
        for (var i = 0; i < inputs.Length; i++) inputs[i] = (float)((rng.NextDouble() * 2 - 1) * 0.1);
        var targets = new float[batch * classes];
        for (var n = 0; n < batch; n++) targets[n * classes + rng.Next(classes)] = 1f;

        using var network = NetworkModel.CreateNetwork(config, seed);
        var inputShape = config.InputShape;
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
        if (r.Layers.Count > 0)
            output.WriteLine("Each layer is timed alone (the median of repeated calls on its own input), so the layer times do not add up to " +
                             "the training step: the step also copies the batch to the device, computes the loss, updates the weights " +
                             "and reads the loss back, one launch after another.");
    }

    private static string Rate(double? gflops) => gflops is { } g ? Figure(g) : "-";

    /// <summary>Whole numbers from 10 up, two decimals below (the CPU accelerator's rates are around 1).</summary>
    private static string Figure(double value) => value >= 10 ? value.ToString("F0") : value.ToString("F2");

    private static int Usage(TextWriter error, string message)
    {
        error.WriteLine($"error: {message}");
        return ExitCodes.Usage;
    }

    private static AcceleratorChoice? Accelerator(string? text, TextWriter error)
    {
        var errors = new List<string>();
        var choice = TrainOptionsValidator.ParseAccelerator(text, errors);
        foreach (var message in errors) Usage(error, message);
        return choice;
    }
}
