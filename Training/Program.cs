using System.CommandLine;
using EnvNet.Kernels;
using EnvNet.Training.Bench;

var devices = new Command("devices", "List the devices ILGPU finds.");
devices.SetAction(_ =>
{
    foreach (var d in ComputeDevice.ListDevices())
        Console.WriteLine($"{d.Type,-7} {d.Name}  memory {d.MemoryBytes / (1 << 20)} MiB  warp {d.WarpSize}  max group {d.MaxThreadsPerGroup}");
});
var root = new RootCommand("envnet: EnvNet on ESC-50 with ILGPU.")
{
    devices,
    BenchCommand.Create(Console.Out, Console.Error),
    BenchCommand.CreateSelfCheck(Console.Out, Console.Error),
};
return root.Parse(args).Invoke();
