using System.Runtime.Intrinsics;
using ILGPU;

namespace EnvNet.Kernels.Cpu;

/// <summary>
/// torch.nn.Linear on the host: y = x·Wᵀ (+ b), dW = dyᵀ·x, dx = dy·W through <see cref="HostGemm"/>, which reads W
/// in place (row-major [out, in]) for all three; db = Σ_rows dy, rows added in order.
/// </summary>
internal sealed unsafe class HostLinearOp : ILinearOp
{
    private readonly int _in, _out;
    private readonly HostBuffer<float> _packedA, _scratch;

    public HostLinearOp(int maxBatch, int inFeatures, int outFeatures)
    {
        (_in, _out) = (inFeatures, outFeatures);
        var packed = Math.Max(HostGemm.PackedALength(maxBatch, Math.Max(inFeatures, outFeatures)), HostGemm.PackedALength(outFeatures, maxBatch));
        _packedA = new HostBuffer<float>(packed);
        _scratch = new HostBuffer<float>((long)HostParallel.Workers * HostGemm.WorkerScratchLength);
    }

    public void Forward(int batch, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> output)
    {
        Check(batch, input, weight, output, bias, "HostLinearOp.Forward");
        var y = HostView.Ptr(output);
        HostGemm.Multiply(batch, _out, _in, HostView.Ptr(input), _in, 1, HostView.Ptr(weight), 1, _in, y, _out, _packedA.Ptr, _scratch.Ptr);
        var b = HostView.Span(bias)[.._out];
        for (var r = 0; r < batch; r++)
        {
            var row = new Span<float>(y + (long)r * _out, _out);
            HostVector.Add(row, b, row);
        }
    }

    public void BackwardParameters(int batch, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradWeight, ArrayView<float> gradBias)
    {
        Check(batch, input, gradWeight, gradOutput, gradBias, "HostLinearOp.BackwardParameters");
        var dy = HostView.Ptr(gradOutput);
        HostGemm.Multiply(_out, _in, batch, dy, 1, _out, HostView.Ptr(input), _in, 1, HostView.Ptr(gradWeight), _in, _packedA.Ptr, _scratch.Ptr);
        var db = HostView.Span(gradBias)[.._out];
        new ReadOnlySpan<float>(dy, _out).CopyTo(db);
        for (var r = 1; r < batch; r++) HostVector.Add(db, new ReadOnlySpan<float>(dy + (long)r * _out, _out), db);
    }

    public void BackwardInput(int batch, ArrayView<float> gradOutput, ArrayView<float> weight, ArrayView<float> gradInput)
    {
        const string operation = "HostLinearOp.BackwardInput";
        ViewChecks.RequireLength(gradOutput, (long)batch * _out, operation, nameof(gradOutput));
        ViewChecks.RequireLength(weight, (long)_out * _in, operation, nameof(weight));
        ViewChecks.RequireLength(gradInput, (long)batch * _in, operation, nameof(gradInput));
        HostGemm.Multiply(batch, _in, _out, HostView.Ptr(gradOutput), _out, 1, HostView.Ptr(weight), _in, 1, HostView.Ptr(gradInput), _in,
            _packedA.Ptr, _scratch.Ptr);
    }

    private void Check(int batch, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> output, ArrayView<float> bias, string operation)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, $"{operation}: the batch must hold at least one row.");
        ViewChecks.RequireLength(input, (long)batch * _in, operation, nameof(input));
        ViewChecks.RequireLength(weight, (long)_out * _in, operation, nameof(weight));
        ViewChecks.RequireLength(output, (long)batch * _out, operation, nameof(output));
        ViewChecks.RequireLength(bias, _out, operation, nameof(bias));
    }

    public void Dispose()
    {
        _packedA.Dispose();
        _scratch.Dispose();
    }
}

/// <summary>Element-wise loops over spans, Vector512 wide with a scalar tail; each element rounds exactly as the scalar
/// expression would (no contraction into fused multiply-adds), so results match the plain kernels bit for bit.</summary>
internal static class HostVector
{
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> sum)
    {
        var i = 0;
        for (; i + 16 <= sum.Length; i += 16)
            (Vector512.Create(a[i..]) + Vector512.Create(b[i..])).CopyTo(sum[i..]);
        for (; i < sum.Length; i++) sum[i] = a[i] + b[i];
    }
}
