using System.Runtime.Intrinsics;
using ILGPU;

namespace EnvNet.Kernels.Cpu;

/// <summary>Runs an element-wise loop over [0, count) in chunks, one chunk per work item.</summary>
internal static class HostChunks
{
    private const int Chunk = 1 << 18;

    public static void For(long count, Action<int, int> body)
    {
        var chunks = (int)((count + Chunk - 1) / Chunk);
        HostParallel.For(chunks, (_, chunk) => body(chunk * Chunk, (int)Math.Min(Chunk, count - (long)chunk * Chunk)));
    }
}

/// <summary>ReLU on the host: the formulas of <see cref="ActivationKernels"/>, vectorised.</summary>
internal sealed unsafe class HostActivationOps : IActivationOps
{
    public void ReluForward(long count, ArrayView<float> input, ArrayView<float> output)
    {
        const string operation = "HostActivationOps.ReluForward";
        ViewChecks.RequireLength(input, count, operation, nameof(input));
        ViewChecks.RequireLength(output, count, operation, nameof(output));
        var x = HostView.Ptr(input);
        var y = HostView.Ptr(output);
        HostChunks.For(count, (start, length) =>
        {
            var i = start;
            for (; i + 16 <= start + length; i += 16)
            {
                var v = Vector512.Load(x + i);
                // max(v, 0) that keeps NaN, as PyTorch: v where v > 0 or v is NaN.
                Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<float>.Zero) | ~Vector512.Equals(v, v), v, Vector512<float>.Zero)
                    .Store(y + i);
            }
            for (; i < start + length; i++) y[i] = x[i] > 0f || float.IsNaN(x[i]) ? x[i] : 0f;
        });
    }

    public void ReluBackward(long count, ArrayView<float> output, ArrayView<float> gradOutput, ArrayView<float> gradInput)
    {
        const string operation = "HostActivationOps.ReluBackward";
        ViewChecks.RequireLength(output, count, operation, nameof(output));
        ViewChecks.RequireLength(gradOutput, count, operation, nameof(gradOutput));
        ViewChecks.RequireLength(gradInput, count, operation, nameof(gradInput));
        var y = HostView.Ptr(output);
        var dy = HostView.Ptr(gradOutput);
        var dx = HostView.Ptr(gradInput);
        HostChunks.For(count, (start, length) =>
        {
            var i = start;
            for (; i + 16 <= start + length; i += 16)
                Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.Load(y + i), Vector512<float>.Zero), Vector512.Load(dy + i), Vector512<float>.Zero)
                    .Store(dx + i);
            for (; i < start + length; i++) dx[i] = y[i] > 0f ? dy[i] : 0f;
        });
    }
}

/// <summary>Max-pool and transpose on the host: the loops of <see cref="PoolKernels"/>, one (n, c) plane per work item.</summary>
internal sealed unsafe class HostPoolOps : IPoolOps, ITransposeOps
{
    public void MaxPoolForward(MaxPool2dShape s, ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax)
    {
        const string operation = "HostPoolOps.MaxPoolForward";
        ViewChecks.RequireLength(input, s.InputLength, operation, nameof(input));
        ViewChecks.RequireLength(output, s.OutputLength, operation, nameof(output));
        ViewChecks.RequireLength(argmax, s.OutputLength, operation, nameof(argmax));
        var x = HostView.Ptr(input);
        var y = HostView.Ptr(output);
        var index = HostView.Ptr(argmax);
        HostParallel.For(s.N * s.C, (_, plane) =>
        {
            var planeInput = x + (long)plane * s.H * s.W;
            var o = (long)plane * s.OutH * s.OutW;
            for (var oh = 0; oh < s.OutH; oh++)
                for (var ow = 0; ow < s.OutW; ow++, o++)
                {
                    var best = s.KH == 1 && s.KW >= 16
                        ? RowWindowArgMax(planeInput + oh * s.W + ow * s.KW, s.KW) + oh * s.W + ow * s.KW
                        : WindowArgMax(planeInput, s, oh, ow);
                    y[o] = planeInput[best];
                    index[o] = best;
                }
        });
    }

    /// <summary>Row-major scan with a strict &gt;: the first maximum wins a tie, a NaN wins (PyTorch's rule).</summary>
    private static int WindowArgMax(float* plane, MaxPool2dShape s, int oh, int ow)
    {
        var best = oh * s.KH * s.W + ow * s.KW;
        var bestValue = plane[best];
        for (var kh = 0; kh < s.KH; kh++)
        {
            var row = (oh * s.KH + kh) * s.W + ow * s.KW;
            for (var kw = 0; kw < s.KW; kw++)
            {
                var value = plane[row + kw];
                if (value > bestValue || float.IsNaN(value)) (bestValue, best) = (value, row + kw);
            }
        }
        return best;
    }

    /// <summary>The same rule over one row of <paramref name="length"/> ≥ 16 values, 16 at a time: the maximum, then the
    /// first position holding it; a window with a NaN takes the scalar scan (whose last NaN wins).</summary>
    private static int RowWindowArgMax(float* window, int length)
    {
        var vectors = length / 16 * 16;
        var max = Vector512.Load(window);
        var nan = ~Vector512.Equals(max, max);
        for (var i = 16; i < vectors; i += 16)
        {
            var v = Vector512.Load(window + i);
            max = Vector512.Max(max, v);
            nan |= ~Vector512.Equals(v, v);
        }
        var maxValue = float.NegativeInfinity;
        for (var lane = 0; lane < 16; lane++) maxValue = Math.Max(maxValue, max[lane]);
        for (var i = vectors; i < length; i++)
        {
            if (float.IsNaN(window[i])) return ScanRow(window, length);
            maxValue = Math.Max(maxValue, window[i]);
        }
        if (nan != Vector512<float>.Zero) return ScanRow(window, length);
        var target = Vector512.Create(maxValue);
        for (var i = 0; i < vectors; i += 16)
        {
            var hits = Vector512.Equals(Vector512.Load(window + i), target).ExtractMostSignificantBits();
            if (hits != 0) return i + System.Numerics.BitOperations.TrailingZeroCount(hits);
        }
        for (var i = vectors; ; i++)
            if (window[i] == maxValue) return i;
    }

    private static int ScanRow(float* window, int length)
    {
        var best = 0;
        for (var i = 1; i < length; i++)
            if (window[i] > window[best] || float.IsNaN(window[i])) best = i;
        return best;
    }

    public void MaxPoolBackward(MaxPool2dShape s, ArrayView<float> gradOutput, ArrayView<int> argmax, ArrayView<float> gradInput)
    {
        const string operation = "HostPoolOps.MaxPoolBackward";
        ViewChecks.RequireLength(gradOutput, s.OutputLength, operation, nameof(gradOutput));
        ViewChecks.RequireLength(argmax, s.OutputLength, operation, nameof(argmax));
        ViewChecks.RequireLength(gradInput, s.InputLength, operation, nameof(gradInput));
        var dy = HostView.Ptr(gradOutput);
        var index = HostView.Ptr(argmax);
        var dx = HostView.Ptr(gradInput);
        HostParallel.For(s.N * s.C, (_, plane) =>
        {
            var planeGradient = dx + (long)plane * s.H * s.W;
            new Span<float>(planeGradient, s.H * s.W).Clear();
            var o = (long)plane * s.OutH * s.OutW;
            // Windows do not overlap: each output routes its gradient to one distinct input.
            for (var j = 0; j < s.OutH * s.OutW; j++) planeGradient[index[o + j]] = dy[o + j];
        });
    }

    public void Transpose12(TransposeShape s, ArrayView<float> input, ArrayView<float> output)
    {
        const string operation = "HostPoolOps.Transpose12";
        ViewChecks.RequireLength(input, s.Length, operation, nameof(input));
        ViewChecks.RequireLength(output, s.Length, operation, nameof(output));
        var x = HostView.Ptr(input);
        var y = HostView.Ptr(output);
        HostParallel.For(s.N, (_, n) =>
        {
            for (var b = 0; b < s.B; b++)
                for (var a = 0; a < s.A; a++)
                    new ReadOnlySpan<float>(x + (((long)n * s.A + a) * s.B + b) * s.W, s.W)
                        .CopyTo(new Span<float>(y + (((long)n * s.B + b) * s.A + a) * s.W, s.W));
        });
    }
}

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

/// <summary>Softmax-KL loss on the host: <see cref="LossKernels.SoftmaxKl"/>'s formulas, one row at a time
/// (a batch of logits is a few thousand values).</summary>
internal sealed unsafe class HostLossOps : ILossOps
{
    public void SoftmaxKl(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> gradLogits, ArrayView<float> rowResults, SoftmaxKlArgs args)
    {
        var elements = (long)args.Rows * args.Classes;
        if (args.Rows <= 0 || args.Classes <= 0)
            throw new ArgumentOutOfRangeException(nameof(args), $"Softmax-KL needs positive rows and classes, got {args.Rows} × {args.Classes}.");
        if (logits.Length < elements || targets.Length < elements || gradLogits.Length < elements || rowResults.Length < 2L * args.Rows)
            throw new ArgumentException(
                $"Softmax-KL over {args.Rows} × {args.Classes} needs that many logits ({logits.Length}), targets ({targets.Length}) and gradients ({gradLogits.Length}), and {2 * args.Rows} row results ({rowResults.Length}).");
        var z = HostView.Ptr(logits);
        var t = HostView.Ptr(targets);
        var dz = HostView.Ptr(gradLogits);
        var results = HostView.Ptr(rowResults);
        for (var row = 0; row < args.Rows; row++)
        {
            var o = row * args.Classes;
            int maxIndex = 0, targetIndex = 0;
            for (var c = 1; c < args.Classes; c++)
            {
                if (z[o + c] > z[o + maxIndex]) maxIndex = c;
                if (t[o + c] > t[o + targetIndex]) targetIndex = c;
            }
            var max = z[o + maxIndex];
            var sum = 0f;
            for (var c = 0; c < args.Classes; c++) sum += MathF.Exp(z[o + c] - max);
            var logSum = max + MathF.Log(sum);
            var loss = 0f;
            for (var c = 0; c < args.Classes; c++)
            {
                var logP = z[o + c] - logSum;
                var target = t[o + c];
                if (target > 0) loss += target * (MathF.Log(target) - logP);
                dz[o + c] = (MathF.Exp(logP) - target) * args.InverseRows;
            }
            results[2 * row] = loss;
            results[2 * row + 1] = maxIndex == targetIndex ? 1f : 0f;
        }
    }
}

/// <summary>SGD on the host: <see cref="SgdKernels.Step"/>'s formula, vectorised with the same rounding.</summary>
internal sealed unsafe class HostSgdOps : ISgdOps
{
    public void Step(ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> momentumBuffer, SgdArgs args)
    {
        if (gradient.Length != parameter.Length || momentumBuffer.Length != parameter.Length)
            throw new ArgumentException(
                $"SGD needs parameter ({parameter.Length}), gradient ({gradient.Length}) and momentum buffer ({momentumBuffer.Length}) of one length.");
        var p = HostView.Ptr(parameter);
        var g = HostView.Ptr(gradient);
        var buffer = HostView.Ptr(momentumBuffer);
        HostChunks.For(parameter.Length, (start, length) =>
        {
            var (lr, mu, wd) = (Vector512.Create(args.LearningRate), Vector512.Create(args.Momentum), Vector512.Create(args.WeightDecay));
            var i = start;
            for (; i + 16 <= start + length; i += 16)
            {
                var value = Vector512.Load(p + i);
                var step = Vector512.Load(g + i) + wd * value;
                var b = mu * Vector512.Load(buffer + i) + step;
                b.Store(buffer + i);
                step = args.Nesterov == 1 ? step + mu * b : b;
                (value - lr * step).Store(p + i);
            }
            for (; i < start + length; i++)
            {
                var step = g[i] + args.WeightDecay * p[i];
                var b = args.Momentum * buffer[i] + step;
                buffer[i] = b;
                step = args.Nesterov == 1 ? step + args.Momentum * b : b;
                p[i] -= args.LearningRate * step;
            }
        });
    }
}
