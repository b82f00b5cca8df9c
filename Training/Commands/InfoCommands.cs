using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EnvNet.Kernels;
using EnvNet.Kernels.Host;
using EnvNet.Network;
using EnvNet.Training.Checkpoints;

namespace EnvNet.Training.Commands;

/// <summary><c>envnet info</c>, <c>envnet devices</c> and <c>envnet shapes</c>: what a checkpoint holds, what ILGPU
/// sees, and what a model looks like.</summary>
public static class InfoCommands
{
    public static Command Info(CliContext context)
    {
        var checkpoint = new Argument<string>("CHECKPOINT") { Description = "Weights file (fold-K/best.safetensors or last.safetensors of a run)." };
        var command = new Command("info", "What a checkpoint holds: model, classes, sample rate, fold, epoch, accuracy, training options, parameters.")
        {
            checkpoint,
        };
        command.Aliases.Add("inspect");
        command.SetAction(parsed =>
        {
            var path = parsed.GetValue(checkpoint)!;
            if (OptionChecks.ExistingFile("CHECKPOINT", path, "a .safetensors checkpoint") is { } missing) return context.UsageError(missing);
            var (info, content) = ModelCheckpoint.Read(path);
            var o = context.Out;
            o.WriteLine(Path.GetFullPath(path));
            var sampleRate = int.Parse(content.RequireMetadata("sample_rate", path), CultureInfo.InvariantCulture);
            var inputLength = int.Parse(content.RequireMetadata("input_length", path), CultureInfo.InvariantCulture);
            o.WriteLine($"model       {info.Model}, {sampleRate} Hz, {inputLength} samples per input ({inputLength / (double)sampleRate:F3} s)");
            var parameters = ModelRegistry.Contains(info.Model)
                ? NetworkModel.CountParameters(ModelRegistry.Config(info.Model, info.ClassNames.Count)).ToString("N0", CultureInfo.InvariantCulture)
                : "unknown (a model this envnet does not know)";
            o.WriteLine($"parameters  {parameters}");
            o.WriteLine($"classes     {info.ClassNames.Count} ({info.Subset}): {string.Join(", ", info.ClassNames.Select((name, i) => $"{i} {name}"))}");
            o.WriteLine($"fold        {info.Fold} (validated on it, trained on the others), seed {info.Seed}");
            o.WriteLine($"epoch       {info.Epoch}");
            // A checkpoint saved by a stop during an epoch was never validated: its accuracy is NaN.
            var validation = double.IsFinite(info.ValidationAccuracy)
                ? $"{info.ValidationAccuracy.ToString("P1", CultureInfo.InvariantCulture)} at epoch {info.Epoch}"
                : $"not measured (saved during epoch {info.Epoch + 1})";
            o.WriteLine($"validation  {validation}" +
                        (info.BestEpoch is { } bestEpoch && info.BestValidationAccuracy is { } best ? $"; best {best.ToString("P1", CultureInfo.InvariantCulture)} at epoch {bestEpoch}" : ""));
            if (info.TrainingOptions is { } options)
            {
                o.WriteLine("training options:");
                foreach (var property in JsonDocument.Parse(options).RootElement.EnumerateObject())
                    o.WriteLine($"  {property.Name,-16} {(property.Value.ValueKind == JsonValueKind.Array ? string.Join(",", property.Value.EnumerateArray()) : property.Value.ToString())}");
            }
            else o.WriteLine("training options: not recorded (a checkpoint written before envnet stored them)");
            return ExitCodes.Success;
        });
        return command;
    }

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
            context.Out.WriteLine($"'--accelerator cpu' here: {HostKernelBackend.Describe(VectorUnit.Chosen)} ({VectorUnit.OverrideVariable}=128|256|512 forces a width).");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Shapes(CliContext context)
    {
        var model = CommonOptions.Model("envnet");
        var classes = new Option<int>("--classes") { HelpName = "N", Description = "Number of classes.", DefaultValueFactory = _ => 50 };
        var batch = new Option<int>("--batch") { HelpName = "N", Description = "Batch size for the memory estimate.", DefaultValueFactory = _ => 64 };
        var plan = new Option<string?>("--plan") { HelpName = "cuda|cuda:sm_60|cuda:sm_90", Description = "Also print the kernels and launches each layer gets on CUDA at --batch, planned without a GPU (cuda: sm_90)." };
        var command = new Command("shapes", "Per-layer output shapes, parameter count and the device memory a training step needs.")
        {
            model, classes, batch, plan,
        };
        command.SetAction(parsed =>
        {
            var name = parsed.GetValue(model)!;
            var failures = OptionChecks.Failures(
                ModelRegistry.Contains(name) ? null : ModelRegistry.UnknownModelMessage("--model", name),
                OptionChecks.Positive("--classes", parsed.GetValue(classes), "number of classes"),
                OptionChecks.Positive("--batch", parsed.GetValue(batch), "batch size"),
                parsed.GetValue(plan) is not { } planned || PlanTarget(planned) is not null ? null
                    : $"--plan: expected cuda, cuda:sm_60 or cuda:sm_90; got '{planned}'.");
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
            if (parsed.GetValue(plan) is { } target) CudaPlanView.Write(context.Out, config, parsed.GetValue(batch), PlanTarget(target)!);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Kernels.Tiled.CudaTarget? PlanTarget(string value) => value switch
    {
        "cuda" => Kernels.Tiled.CudaTarget.Hopper,
        "cuda:sm_60" => Kernels.Tiled.CudaTarget.Pascal,
        "cuda:sm_90" => Kernels.Tiled.CudaTarget.Hopper,
        _ => null,
    };
}
