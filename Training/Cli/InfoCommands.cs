using System.CommandLine;
using EnvNet.Kernels;
using EnvNet.Network;

namespace EnvNet.Training.Cli;

/// <summary><c>envnet devices</c> and <c>envnet shapes</c>: what ILGPU sees, and what a model looks like.</summary>
public static class InfoCommands
{
    public static Command Devices(CliContext context)
    {
        var command = new Command("devices", "List the devices ILGPU finds (CUDA, OpenCL, CPU): name, memory, warp size.");
        command.SetAction(_ =>
        {
            context.Out.WriteLine($"{"type",-7} {"memory",11} {"warp",5} {"max group",9}  {"kernels",-7}  name");
            foreach (var d in ComputeDevice.ListDevices())
            {
                // The CPU accelerator reports no real limit (long.MaxValue): it uses host memory.
                var memory = d.Type == ILGPU.Runtime.AcceleratorType.CPU ? "host" : $"{d.MemoryBytes / (1 << 20)} MiB";
                var kernels = ComputeDevice.BestKernels(d.Type, AcceleratorChoice.Auto).ToString().ToLowerInvariant();
                context.Out.WriteLine($"{d.Type,-7} {memory,11} {d.WarpSize,5} {d.MaxThreadsPerGroup,9}  {kernels,-7}  {d.Name}");
            }
            context.Out.WriteLine("'--accelerator auto' picks CUDA (tiled kernels), then OpenCL (plain kernels), then the CPU (host kernels);");
            context.Out.WriteLine("'--accelerator ilgpu-cpu' runs the plain ILGPU kernels on ILGPU's CPU accelerator, a simulated GPU.");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Shapes(CliContext context)
    {
        var model = new Option<string>("--model") { Description = ModelsCommand.OptionDescription, DefaultValueFactory = _ => "envnet" };
        var classes = new Option<int>("--classes") { Description = "Number of classes.", DefaultValueFactory = _ => 50 };
        var batch = new Option<int>("--batch") { Description = "Batch size for the memory estimate.", DefaultValueFactory = _ => 64 };
        var command = new Command("shapes", "Per-layer output shapes, parameter count and the device memory a training step needs.")
        {
            model, classes, batch,
        };
        command.SetAction(parsed =>
        {
            var name = parsed.GetValue(model)!;
            var failures = OptionChecks.Failures(
                ModelRegistry.Contains(name) ? null : ModelRegistry.UnknownModelMessage("--model", name),
                OptionChecks.Positive("--classes", parsed.GetValue(classes), "number of classes"),
                OptionChecks.Positive("--batch", parsed.GetValue(batch), "batch size"));
            if (failures.Count > 0)
            {
                foreach (var failure in failures) context.UsageError(failure);
                return ExitCodes.Usage;
            }

            var config = ModelRegistry.Config(name, parsed.GetValue(classes));
            var frontEnds = config.FrontEnds.Select(f => (f.Name, Shape: NetworkModel.FrontEndShape(config, f)))
                .Select(f => (config.FrontEnds.Count > 1 ? f.Name + " " : "") + $"{f.Shape[0]} x {ShapeUtil.Elements(f.Shape) / f.Shape[0]}");
            context.Out.WriteLine($"{config.Name}: {config.Classes} classes, input {config.InputLength} samples " +
                                  $"({config.InputLength / (double)config.SampleRate:F3} s at {config.SampleRate} Hz), " +
                                  $"learned spectrogram{(config.FrontEnds.Count > 1 ? "s" : "")} {string.Join(", ", frontEnds)}");
            var layers = NetworkModel.DescribeLayers(config);
            var bytes = NetworkModel.EstimateTrainingBytes(config, parsed.GetValue(batch));
            var width = layers.Max(l => l.Name.Length) + 2;
            context.Out.WriteLine($"{"layer".PadRight(width)}output shape (batch 1)");
            foreach (var (layerName, shape) in layers)
                context.Out.WriteLine($"{layerName.PadRight(width)}[{string.Join(", ", shape)}]");
            context.Out.WriteLine($"parameters: {NetworkModel.CountParameters(config):N0}");
            context.Out.WriteLine($"device memory for a training step with batch {parsed.GetValue(batch)}: {bytes / (double)(1 << 20):N0} MiB " +
                                  "(parameters, gradients, momentum and activations)");
            return ExitCodes.Success;
        });
        return command;
    }
}
