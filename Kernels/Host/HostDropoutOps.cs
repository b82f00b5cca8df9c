using System.Runtime.Intrinsics;
using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>Dropout on the host: the Philox mask of <see cref="DropoutKernels"/>, element for element.</summary>
internal sealed unsafe class HostDropoutOps : IDropoutOps
{
    public void ApplyMask(ArrayView<float> input, ArrayView<float> output, DropoutArgs args)
    {
        if (args.Length <= 0 || input.Length < args.Length || output.Length < args.Length)
            throw new ArgumentException(
                $"Dropout over {args.Length} elements needs positive length and views that long (input {input.Length}, output {output.Length}).");
        var x = HostView.Ptr(input);
        var y = HostView.Ptr(output);
        HostChunks.For((args.Length + 3L) / 4, (start, quads) =>
        {
            for (var quad = start; quad < start + quads; quad++)
            {
                var block = Philox.Generate((uint)quad, 0, args.StepLow, args.StepHigh, args.SeedLow, args.SeedHigh);
                for (var lane = 0; lane < 4; lane++)
                {
                    var i = quad * 4 + lane;
                    if (i < args.Length) y[i] = DropoutArgs.Word(block, lane) >= args.DropThreshold ? x[i] * args.Scale : 0f;
                }
            }
        });
    }
}
