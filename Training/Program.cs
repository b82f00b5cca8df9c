using EnvNet.Kernels;

foreach (var d in ComputeDevice.ListDevices())
    Console.WriteLine($"{d.Type,-7} {d.Name}  memory {d.MemoryBytes / (1 << 20)} MiB  warp {d.WarpSize}  max group {d.MaxThreadsPerGroup}");
