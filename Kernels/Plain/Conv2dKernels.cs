using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>
/// Plain convolution kernels: one ElementGrid iteration per element written, width the fastest thread axis so neighbouring
/// threads touch neighbouring addresses, no atomics (every output is owned by exactly one thread).
/// </summary>
public static class Conv2dKernels
{
    /// <summary>y[n,co,oh,ow] = Σ_{ci,kh,kw} x[n,ci,oh·SH−PH+kh, ow·SW−PW+kw] · w[co,ci,kh,kw] (zero outside x).</summary>
    public static void Forward(Index1D thread, ElementGrid grid, Conv2dShape s, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> output)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var ow = i % s.OutW;
            var rest = i / s.OutW;
            var oh = rest % s.OutH;
            rest /= s.OutH;
            var co = rest % s.Cout;
            var n = rest / s.Cout;

            var ih0 = oh * s.SH - s.PH;
            var iw0 = ow * s.SW - s.PW;
            var sum = 0f;
            for (var ci = 0; ci < s.Cin; ci++)
            {
                for (var kh = 0; kh < s.KH; kh++)
                {
                    var ih = ih0 + kh;
                    if (ih < 0 || ih >= s.H) continue;
                    var inputRow = ((n * s.Cin + ci) * s.H + ih) * s.W;
                    var weightRow = ((co * s.Cin + ci) * s.KH + kh) * s.KW;
                    for (var kw = 0; kw < s.KW; kw++)
                    {
                        var iw = iw0 + kw;
                        if (iw < 0 || iw >= s.W) continue;
                        sum += input[inputRow + iw] * weight[weightRow + kw];
                    }
                }
            }
            output[i] = sum;
        }
    }

    /// <summary>
    /// dx[n,ci,ih,iw] = Σ dy[n,co,oh,ow] · w[co,ci,kh,kw] over the outputs whose window covered (ih, iw):
    /// ih + PH − kh = oh·SH with 0 ≤ oh &lt; OutH (same along the width). A gather, so no two threads write one place.
    /// </summary>
    public static void BackwardInput(Index1D thread, ElementGrid grid, Conv2dShape s, ArrayView<float> gradOutput, ArrayView<float> weight, ArrayView<float> gradInput)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var iw = i % s.W;
            var rest = i / s.W;
            var ih = rest % s.H;
            rest /= s.H;
            var ci = rest % s.Cin;
            var n = rest / s.Cin;

            var sum = 0f;
            for (var co = 0; co < s.Cout; co++)
            {
                // Only kernel rows with (ih + PH − kh) divisible by the stride land on an output row.
                for (var kh = (ih + s.PH) % s.SH; kh < s.KH; kh += s.SH)
                {
                    var th = ih + s.PH - kh;
                    if (th < 0) break; // kh only grows from here
                    var oh = th / s.SH;
                    if (oh >= s.OutH) continue;
                    var gradRow = ((n * s.Cout + co) * s.OutH + oh) * s.OutW;
                    var weightRow = ((co * s.Cin + ci) * s.KH + kh) * s.KW;
                    for (var kw = (iw + s.PW) % s.SW; kw < s.KW; kw += s.SW)
                    {
                        var tw = iw + s.PW - kw;
                        if (tw < 0) break;
                        var ow = tw / s.SW;
                        if (ow >= s.OutW) continue;
                        sum += gradOutput[gradRow + ow] * weight[weightRow + kw];
                    }
                }
            }
            gradInput[i] = sum;
        }
    }

    /// <summary>dw[co,ci,kh,kw] = Σ_{n,oh,ow} dy[n,co,oh,ow] · x[n,ci,oh·SH−PH+kh, ow·SW−PW+kw]; overwrites dw.
    /// The sum runs over a whole batch of positions (millions for EnvNet's first layers), hence compensated.</summary>
    public static void BackwardWeight(Index1D thread, ElementGrid grid, Conv2dShape s, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradWeight)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var kw = i % s.KW;
            var rest = i / s.KW;
            var kh = rest % s.KH;
            rest /= s.KH;
            var ci = rest % s.Cin;
            var co = rest / s.Cin;

            var sum = new CompensatedSum();
            for (var n = 0; n < s.N; n++)
            {
                for (var oh = 0; oh < s.OutH; oh++)
                {
                    var ih = oh * s.SH - s.PH + kh;
                    if (ih < 0 || ih >= s.H) continue;
                    var inputRow = ((n * s.Cin + ci) * s.H + ih) * s.W;
                    var gradRow = ((n * s.Cout + co) * s.OutH + oh) * s.OutW;
                    for (var ow = 0; ow < s.OutW; ow++)
                    {
                        var iw = ow * s.SW - s.PW + kw;
                        if (iw < 0 || iw >= s.W) continue;
                        sum.Add(gradOutput[gradRow + ow] * input[inputRow + iw]);
                    }
                }
            }
            gradWeight[i] = sum.Value;
        }
    }
}

/// <summary>The convolution kernels loaded once for one accelerator; methods launch them on its default stream.</summary>
public sealed class Conv2dOps
{
    private static readonly ConditionalWeakTable<Accelerator, Conv2dOps> Shared = new();

    private readonly Action<Index1D, ElementGrid, Conv2dShape, ArrayView<float>, ArrayView<float>, ArrayView<float>> _forward;
    private readonly Action<Index1D, ElementGrid, Conv2dShape, ArrayView<float>, ArrayView<float>, ArrayView<float>> _backwardInput;
    private readonly Action<Index1D, ElementGrid, Conv2dShape, ArrayView<float>, ArrayView<float>, ArrayView<float>> _backwardWeight;

    private readonly Accelerator _accelerator;

    public Conv2dOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _forward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, Conv2dShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Conv2dKernels.Forward);
        _backwardInput = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, Conv2dShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Conv2dKernels.BackwardInput);
        _backwardWeight = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, Conv2dShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Conv2dKernels.BackwardWeight);
    }

    /// <summary>One instance per accelerator, shared by every layer built on it.</summary>
    public static Conv2dOps For(Accelerator accelerator) => Shared.GetValue(accelerator, a => new Conv2dOps(a));

    /// <summary>The kernels the constructor loads, for the PTX checks (<see cref="KernelEntryPoint"/>); a test reads the
    /// constructor and fails where the two differ.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints { get; } =
    [
        KernelEntryPoint.AutoGrouped(nameof(Conv2dOps), Conv2dKernels.Forward),
        KernelEntryPoint.AutoGrouped(nameof(Conv2dOps), Conv2dKernels.BackwardInput),
        KernelEntryPoint.AutoGrouped(nameof(Conv2dOps), Conv2dKernels.BackwardWeight),
    ];

    /// <summary>output[N,Cout,OutH,OutW] = conv(input[N,Cin,H,W], weight[Cout,Cin,KH,KW]).</summary>
    public void Forward(Conv2dShape shape, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> output)
    {
        const string operation = "Conv2dOps.Forward";
        Check(shape, operation, input, weight, output, nameof(input), nameof(weight), nameof(output));
        var grid = ElementGrid.For(_accelerator, shape.OutputLength);
        if (shape.OutputLength > 0) _forward(grid.Threads, grid, shape, input, weight, output);
    }

    /// <summary>gradInput[N,Cin,H,W] = ∂L/∂input from gradOutput[N,Cout,OutH,OutW]; overwrites gradInput.</summary>
    public void BackwardInput(Conv2dShape shape, ArrayView<float> gradOutput, ArrayView<float> weight, ArrayView<float> gradInput)
    {
        const string operation = "Conv2dOps.BackwardInput";
        Check(shape, operation, gradInput, weight, gradOutput, nameof(gradInput), nameof(weight), nameof(gradOutput));
        var grid = ElementGrid.For(_accelerator, shape.InputLength);
        if (shape.InputLength > 0) _backwardInput(grid.Threads, grid, shape, gradOutput, weight, gradInput);
    }

    /// <summary>gradWeight[Cout,Cin,KH,KW] = ∂L/∂weight summed over the batch; overwrites gradWeight.</summary>
    public void BackwardWeight(Conv2dShape shape, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradWeight)
    {
        const string operation = "Conv2dOps.BackwardWeight";
        Check(shape, operation, input, gradWeight, gradOutput, nameof(input), nameof(gradWeight), nameof(gradOutput));
        var grid = ElementGrid.For(_accelerator, shape.WeightLength);
        _backwardWeight(grid.Threads, grid, shape, input, gradOutput, gradWeight);
    }

    private static void Check(Conv2dShape shape, string operation,
        ArrayView<float> inputLike, ArrayView<float> weightLike, ArrayView<float> outputLike,
        string inputName, string weightName, string outputName)
    {
        ViewChecks.RequireIndexable(shape.InputLength, operation);
        ViewChecks.RequireIndexable(shape.OutputLength, operation);
        ViewChecks.RequireLength(inputLike, shape.InputLength, operation, inputName);
        ViewChecks.RequireLength(weightLike, shape.WeightLength, operation, weightName);
        ViewChecks.RequireLength(outputLike, shape.OutputLength, operation, outputName);
    }
}
