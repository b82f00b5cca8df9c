using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>
/// torch.nn.Linear on the host. y = x·Wᵀ + b: rows of x and W are both contiguous along the reduction, so the forward
/// runs <see cref="HostTile{TSimd, TVector}.Dot"/> on them in place (no transposed copy of W): a work item takes 48 rows of
/// W, the reduction goes in chunks of <see cref="Chunk"/> (W's 6 rows of a chunk stay in L1 while x's rows stream from
/// L2) into lane-wise sums per output, added across lanes at the end.
/// dW = dyᵀ·x and dx = dy·W through <see cref="HostGemm{TSimd, TVector}"/>; db = Σ_rows dy, rows added in order.
/// </summary>
internal sealed unsafe class HostLinearOp<TSimd, TVector> : ILinearOp where TSimd : ISimd<TVector> where TVector : unmanaged
{
    private static int DotRows => HostTile<TSimd, TVector>.DotRows;
    private const int DotColumns = HostTile<TSimd, TVector>.DotColumns;
    private const int Chunk = 512;
    private const int RowsPerItem = 8 * DotColumns;

    private readonly int _in, _out, _maxBatch;
    private readonly long _workerScratch;
    private readonly HostBuffer<float> _packedA, _scratch, _zeros;
    private readonly Action<int, int> _forwardItem;
    private int _batch;
    private float* _x, _w, _b, _y;

    public HostLinearOp(int maxBatch, int inFeatures, int outFeatures)
    {
        (_in, _out, _maxBatch) = (inFeatures, outFeatures, maxBatch);
        var packed = Math.Max(HostGemm<TSimd, TVector>.PackedALength(maxBatch, outFeatures), HostGemm<TSimd, TVector>.PackedALength(outFeatures, maxBatch));
        _packedA = new HostBuffer<float>(packed);
        _workerScratch = Math.Max(HostGemm<TSimd, TVector>.WorkerScratchLength, (long)TSimd.Lanes * (maxBatch + DotRows) * RowsPerItem);
        _scratch = new HostBuffer<float>(HostParallel.Workers * _workerScratch);
        _zeros = new HostBuffer<float>(Chunk);
        _forwardItem = ForwardItem;
    }

    public void Forward(int batch, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> output)
    {
        Check(batch, input, weight, output, bias, "HostLinearOp.Forward");
        _batch = batch;
        _x = HostView.Ptr(input);
        _w = HostView.Ptr(weight);
        _b = HostView.Ptr(bias);
        _y = HostView.Ptr(output);
        HostParallel.For((_out + RowsPerItem - 1) / RowsPerItem, _forwardItem);
    }

    /// <summary>y[r, o] for all rows r and outputs o in [48·item, 48·item + 48): lane-wise sums over the chunks
    /// (whole vectors by <see cref="HostTile{TSimd, TVector}.Dot"/>), added across lanes, plus the values past the last
    /// whole vector one by one, plus the bias.</summary>
    private void ForwardItem(int worker, int item)
    {
        var o0 = item * RowsPerItem;
        var outputs = Math.Min(RowsPerItem, _out - o0);
        var rowTiles = (_batch + DotRows - 1) / DotRows;
        // Lane-wise sums, one block of DotRows×6 per (row tile, column group).
        var sums = (TVector*)(_scratch.Ptr + worker * _workerScratch);
        new Span<TVector>(sums, rowTiles * RowsPerItem * DotRows).Clear();
        var rows = stackalloc float*[DotRows];
        var columns = stackalloc float*[DotColumns];
        var vectorLength = _in / TSimd.Lanes * TSimd.Lanes;
        for (var k0 = 0; k0 < vectorLength; k0 += Chunk)
        {
            var length = Math.Min(Chunk, vectorLength - k0);
            for (var group = 0; group * DotColumns < outputs; group++)
            {
                for (var j = 0; j < DotColumns; j++)
                    columns[j] = group * DotColumns + j < outputs ? _w + (long)(o0 + group * DotColumns + j) * _in + k0 : _zeros.Ptr;
                for (var tile = 0; tile < rowTiles; tile++)
                {
                    for (var i = 0; i < DotRows; i++)
                        rows[i] = tile * DotRows + i < _batch ? _x + (long)(tile * DotRows + i) * _in + k0 : _zeros.Ptr;
                    HostTile<TSimd, TVector>.Dot(length, rows, columns, sums + (tile * (RowsPerItem / DotColumns) + group) * DotRows * DotColumns);
                }
            }
        }
        for (var r = 0; r < _batch; r++)
            for (var o = 0; o < outputs; o++)
            {
                var (tile, i) = Math.DivRem(r, DotRows);
                var (group, j) = Math.DivRem(o, DotColumns);
                var sum = TSimd.Sum(sums[(tile * (RowsPerItem / DotColumns) + group) * DotRows * DotColumns + i * DotColumns + j]);
                var x = _x + (long)r * _in;
                var w = _w + (long)(o0 + o) * _in;
                for (var t = vectorLength; t < _in; t++) sum += x[t] * w[t];
                _y[(long)r * _out + o0 + o] = sum + _b[o0 + o];
            }
    }

    public void BackwardParameters(int batch, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradWeight, ArrayView<float> gradBias)
    {
        Check(batch, input, gradWeight, gradOutput, gradBias, "HostLinearOp.BackwardParameters");
        var dy = HostView.Ptr(gradOutput);
        HostGemm<TSimd, TVector>.Multiply(_out, _in, batch, dy, 1, _out, HostView.Ptr(input), _in, 1, HostView.Ptr(gradWeight), _in, _packedA.Ptr, _scratch.Ptr);
        var db = HostView.Ptr(gradBias);
        new ReadOnlySpan<float>(dy, _out).CopyTo(new Span<float>(db, _out));
        for (var r = 1; r < batch; r++) HostVector<TSimd, TVector>.Add(db, dy + (long)r * _out, db, _out);
    }

    public void BackwardInput(int batch, ArrayView<float> gradOutput, ArrayView<float> weight, ArrayView<float> gradInput)
    {
        const string operation = "HostLinearOp.BackwardInput";
        ViewChecks.RequireLength(gradOutput, (long)batch * _out, operation, nameof(gradOutput));
        ViewChecks.RequireLength(weight, (long)_out * _in, operation, nameof(weight));
        ViewChecks.RequireLength(gradInput, (long)batch * _in, operation, nameof(gradInput));
        HostGemm<TSimd, TVector>.Multiply(batch, _in, _out, HostView.Ptr(gradOutput), _out, 1, HostView.Ptr(weight), _in, 1, HostView.Ptr(gradInput), _in,
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
        _zeros.Dispose();
    }
}
