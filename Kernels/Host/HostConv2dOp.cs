using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>
/// A convolution (SH = 1) on the host, as a stride-1 correlation over a "prepared" input: zero-padded, and with a
/// horizontal stride S split into S phases that become channels (phase ph, channel ci → channel ph·Cin + ci, kernel
/// tap kw = t·S + ph). Positions are flattened with the prepared row pitch Wq, so every kernel tap (channel, row,
/// column) is a fixed offset and each row of the implicit im2col matrix is a contiguous run of the input window:
/// <list type="bullet">
/// <item>Forward: y'[co, q] = Σ_k W'[co, k] · window[q + offset(k)], k = (channel, kh, t); <see cref="HostTile{TSimd, TVector}.Tile"/>
/// on the window, then the valid columns (ow &lt; OutW) copied out. Work item: (sample, block of positions).</item>
/// <item>Input gradient: the same correlation over dY zero-padded by KH−1 rows and KW'−1 columns (a full correlation)
/// with the weights transposed and flipped, giving dx in the prepared layout, copied back (phases interleaved, padding
/// dropped). Work item: (sample, block of positions).</item>
/// <item>Weight gradient: dW'[co, k] = Σ_q dY'[co, q] · window[q + offset(k)] (dY' is dY in the Wq pitch, zero in the
/// columns past OutW). Over many positions, with <see cref="HostTile{TSimd, TVector}.Dot"/>: work item a sample, into
/// its own slot; the slots are summed in sample order. Over few (up to <see cref="GemmWeightPositions"/>: the deep
/// layers of a network, where each dot product would be a few vectors long), as one matrix product over a group of
/// samples side by side, dW'ᵀ += im2col(x)·dY'ᵀ with the group's positions as its depth (<see cref="GemmDepth"/>, so
/// the product is deep enough to keep the tiles busy; <see cref="HostGemm{TSimd, TVector}"/>, parallel over its column
/// blocks), groups in sample order; the group's im2col rows are gathered one sample per work item.</item>
/// </list>
/// </summary>
internal sealed unsafe class HostConv2dOp<TSimd, TVector> : IConv2dOp where TSimd : ISimd<TVector> where TVector : unmanaged
{
    private static int MR => HostTile<TSimd, TVector>.MR;
    private static int NR => HostTile<TSimd, TVector>.NR;
    private static int DotRows => HostTile<TSimd, TVector>.DotRows;
    private const int DotColumns = HostTile<TSimd, TVector>.DotColumns;

    /// <summary>Output positions per forward / input-gradient item, a multiple of every width's tile and row: the window
    /// of a layer's input channels stays in L2.</summary>
    private const int Block = 384;

    /// <summary>Positions per weight-gradient block: long dot products (few cross-lane sums), dY and input windows in L2.</summary>
    private const int WeightBlock = 2048;

    /// <summary>Positions per sample up to which the weight gradient is a matrix product (see the class summary).</summary>
    private const int GemmWeightPositions = 512;

    /// <summary>Positions (all samples of a group together) a weight-gradient matrix product is made deep enough for.</summary>
    private const int GemmDepth = 4096;

    private readonly Conv2dShape _s;
    private readonly int _stride, _cinP, _kwP, _hp, _wq, _q, _span, _k;
    private readonly int _p2, _q2, _span2, _k2;
    private readonly int _block, _weightBlock, _window, _window2, _windowW, _group;
    private readonly HostBuffer<int> _offsets, _offsets2, _offsetsW;
    private readonly HostBuffer<float> _packed, _packed2, _slots, _scratch, _zeros;
    private readonly bool _gemmWeight;
    private readonly HostBuffer<float>? _columns, _gradientRows, _packedColumns, _gemmScratch;
    private readonly long _scratchPerWorker;
    private readonly Action<int, int> _forwardItem, _inputItem, _weightItem, _columnsItem;
    private int _groupStart, _groupDepth;
    private float* _x, _y;

    public HostConv2dOp(Conv2dShape shape)
    {
        // With one output row the vertical stride never applies (WaveMsNet's strided 1×K convolutions on one row).
        _s = shape.SH == 1 ? shape : new Conv2dShape(shape.N, shape.Cin, shape.H, shape.W, shape.Cout, shape.KH, shape.KW, 1, shape.SW, shape.PH, shape.PW, shape.PWRight);
        _stride = shape.SW;
        _cinP = _stride * shape.Cin;
        _kwP = (shape.KW + _stride - 1) / _stride;
        _hp = shape.H + 2 * shape.PH;
        _wq = (shape.W + shape.PW + shape.PWRight + _stride - 1) / _stride;
        _q = (shape.OutH - 1) * _wq + shape.OutW;
        _span = (shape.KH - 1) * _wq + _kwP - 1;
        _k = _cinP * shape.KH * _kwP;
        // Input gradient: dY padded by KH−1 rows and KW'−1 columns, pitch P2; outputs cover the prepared input's Hp×Wq.
        _p2 = _wq + _kwP - 1;
        _q2 = (_hp - 1) * _p2 + _wq;
        _span2 = (shape.KH - 1) * _p2 + _kwP - 1;
        _k2 = shape.Cout * shape.KH * _kwP;

        _block = (int)Math.Min(Block, HostBuffer.RoundUp(Math.Max(_q, _q2), Block));
        _weightBlock = (int)Math.Min(WeightBlock, HostBuffer.RoundUp(_q, TSimd.Lanes));
        _window = _block + _span;
        _window2 = _block + _span2;
        _windowW = _weightBlock + _span;

        _offsets = new HostBuffer<int>(_k);
        _offsetsW = new HostBuffer<int>(_k);
        for (var c = 0; c < _cinP; c++)
            for (var kh = 0; kh < shape.KH; kh++)
                for (var t = 0; t < _kwP; t++)
                {
                    var k = (c * shape.KH + kh) * _kwP + t;
                    _offsets.Ptr[k] = c * _window + kh * _wq + t;
                    _offsetsW.Ptr[k] = c * _windowW + kh * _wq + t;
                }
        _offsets2 = new HostBuffer<int>(_k2);
        for (var co = 0; co < shape.Cout; co++)
            for (var kh = 0; kh < shape.KH; kh++)
                for (var t = 0; t < _kwP; t++)
                    _offsets2.Ptr[(co * shape.KH + kh) * _kwP + t] = co * _window2 + kh * _p2 + t;

        _packed = new HostBuffer<float>(HostGemm<TSimd, TVector>.PackedALength(shape.Cout, _k));
        _packed2 = new HostBuffer<float>(HostGemm<TSimd, TVector>.PackedALength(_cinP, _k2));
        _gemmWeight = _q <= GemmWeightPositions;
        _group = Math.Clamp(GemmDepth / _q, 1, shape.N);
        // Dot products: a slot per sample; the matrix product: one accumulator for dW'ᵀ.
        _slots = new HostBuffer<float>((_gemmWeight ? 1L : shape.N) * shape.Cout * _k);
        var windows = Math.Max(Math.Max((long)_cinP * _window, (long)shape.Cout * _window2), (long)_cinP * _windowW);
        var outputs = Math.Max(HostBuffer.RoundUp(shape.Cout, MR), HostBuffer.RoundUp(_cinP, MR)) * _block;
        _scratchPerWorker = windows + Math.Max(outputs, (long)shape.Cout * _weightBlock + TSimd.Lanes * DotRows * DotColumns);
        _scratch = new HostBuffer<float>(HostParallel.Workers * _scratchPerWorker);
        _zeros = new HostBuffer<float>(Math.Max(_weightBlock, _window) + 64);
        if (_gemmWeight)
        {
            _columns = new HostBuffer<float>((long)_k * _q * _group);
            _gradientRows = new HostBuffer<float>((long)shape.Cout * _q * _group);
            _packedColumns = new HostBuffer<float>(HostGemm<TSimd, TVector>.PackedALength(_k, _q * _group));
            _gemmScratch = new HostBuffer<float>((long)HostParallel.Workers * HostGemm<TSimd, TVector>.WorkerScratchLength);
        }
        _forwardItem = ForwardItem;
        _inputItem = InputItem;
        _weightItem = WeightItem;
        _columnsItem = ColumnsItem;
    }

    /// <summary>The largest batch the scratch buffers hold.</summary>
    public int Batch => _s.N;

    /// <summary>Whether the host convolution covers <paramref name="shape"/>: a vertical stride only where the kernel
    /// spans the padded height (one output row); other vertical strides do not occur in the models.</summary>
    public static bool Supports(Conv2dShape shape) => shape.SH == 1 || shape.H + 2 * shape.PH == shape.KH;

    private int Blocks(int positions) => (positions + _block - 1) / _block;

    public void Forward(int batch, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> output)
    {
        var s = _s.WithBatch(batch);
        Check(input, s.InputLength, output, s.OutputLength, weight);
        PackForwardWeights(HostView.Ptr(weight));
        _x = HostView.Ptr(input);
        _y = HostView.Ptr(output);
        HostParallel.For(batch * Blocks(_q), _forwardItem);
    }

    public void BackwardInput(int batch, ArrayView<float> gradOutput, ArrayView<float> weight, ArrayView<float> gradInput)
    {
        var s = _s.WithBatch(batch);
        Check(gradInput, s.InputLength, gradOutput, s.OutputLength, weight);
        PackInputGradientWeights(HostView.Ptr(weight));
        _x = HostView.Ptr(gradOutput);
        _y = HostView.Ptr(gradInput);
        HostParallel.For(batch * Blocks(_q2), _inputItem);
    }

    public void BackwardWeight(int batch, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradWeight)
    {
        var s = _s.WithBatch(batch);
        Check(input, s.InputLength, gradOutput, s.OutputLength, gradWeight);
        _x = HostView.Ptr(input);
        _y = HostView.Ptr(gradOutput);
        if (_gemmWeight)
        {
            WeightByMatrixProduct(batch, HostView.Ptr(gradWeight));
            return;
        }
        HostParallel.For(batch, _weightItem);
        var slotLength = _s.Cout * _k;
        var chunks = (slotLength + 1023) / 1024;
        var dw = HostView.Ptr(gradWeight);
        HostParallel.For(chunks, (_, chunk) => ReduceSlots(chunk * 1024, Math.Min(1024, slotLength - chunk * 1024), batch, dw));
    }

    private float* Scratch(int worker) => _scratch.Ptr + worker * _scratchPerWorker;

    private void ForwardItem(int worker, int item)
    {
        var s = _s;
        var blocks = Blocks(_q);
        var (n, q0) = (item / blocks, item % blocks * _block);
        var count = Math.Min(_block, _q - q0);
        var window = Scratch(worker);
        var output = window + (long)_cinP * _window;
        GatherInput(n, window, _window, _window, q0);
        Multiply(s.Cout, _k, _packed.Ptr, window, _offsets.Ptr, output, count);
        for (var co = 0; co < s.Cout; co++)
            HostWindow.Scatter(output + (long)co * _block, count, q0, _wq, _y + ((long)n * s.Cout + co) * s.OutH * s.OutW,
                s.OutH, s.OutW, 0, 0, 1, 0);
    }

    private void InputItem(int worker, int item)
    {
        var s = _s;
        var blocks = Blocks(_q2);
        var (n, q0) = (item / blocks, item % blocks * _block);
        var count = Math.Min(_block, _q2 - q0);
        var window = Scratch(worker);
        var output = window + (long)s.Cout * _window2;
        for (var co = 0; co < s.Cout; co++)
            HostWindow.Gather(window + (long)co * _window2, _window2, q0, _p2, _x + ((long)n * s.Cout + co) * s.OutH * s.OutW,
                s.OutH, s.OutW, s.KH - 1, _kwP - 1, 1, 0);
        Multiply(_cinP, _k2, _packed2.Ptr, window, _offsets2.Ptr, output, count);
        for (var c = 0; c < _cinP; c++)
        {
            var (phase, ci) = Math.DivRem(c, s.Cin);
            HostWindow.Scatter(output + (long)c * _block, count, q0, _p2, _y + ((long)n * s.Cin + ci) * s.H * s.W,
                s.H, s.W, s.PH, s.PW, _stride, phase);
        }
    }

    /// <summary>Prepared positions [f0, f0 + length) of sample n's input, each prepared channel (phase, input channel)
    /// at <paramref name="windows"/> + channel·<paramref name="pitch"/>.</summary>
    private void GatherInput(int n, float* windows, int pitch, int length, long f0)
    {
        var s = _s;
        for (var c = 0; c < _cinP; c++)
        {
            var (phase, ci) = Math.DivRem(c, s.Cin);
            HostWindow.Gather(windows + (long)c * pitch, length, f0, _wq, _x + ((long)n * s.Cin + ci) * s.H * s.W,
                s.H, s.W, s.PH, s.PW, _stride, phase);
        }
    }

    /// <summary>dY' positions [f0, f0 + length) of sample n (dY in the Wq pitch, zero past OutW), output channel co at
    /// <paramref name="rows"/> + co·<paramref name="pitch"/>.</summary>
    private void GatherGradient(int n, float* rows, int pitch, int length, long f0)
    {
        var s = _s;
        for (var co = 0; co < s.Cout; co++)
            HostWindow.Gather(rows + (long)co * pitch, length, f0, _wq, _y + ((long)n * s.Cout + co) * s.OutH * s.OutW,
                s.OutH, s.OutW, 0, 0, 1, 0);
    }

    /// <summary>output[r, j] = Σ_k A[r, k] · window[offsets[k] + j] for r &lt; m, j &lt; count (rounded up to whole tiles),
    /// A packed in panels of MR rows. A last panel of one to three rows runs as single rows (<see cref="HostTile{TSimd, TVector}.Row"/>)
    /// rather than a mostly empty 8-row tile.</summary>
    private void Multiply(int m, int k, float* packed, float* window, int* offsets, float* output, int count)
    {
        var (full, rest) = Math.DivRem(m, MR);
        var singleRows = rest is > 0 and <= 3;
        var panels = singleRows ? full : (m + MR - 1) / MR;
        for (var p = 0; p < panels; p++)
            for (var j = 0; j < count; j += NR)
                HostTile<TSimd, TVector>.Tile(k, packed + (long)p * MR * k, window + j, offsets, output + (long)p * MR * _block + j, _block, false);
        if (!singleRows) return;
        for (var i = 0; i < rest; i++)
            for (var j = 0; j < count; j += HostTile<TSimd, TVector>.RowWidth)
                HostTile<TSimd, TVector>.Row(k, packed + (long)full * MR * k + i, MR, window + j, offsets, output + (long)(full * MR + i) * _block + j);
    }

    private void WeightItem(int worker, int n)
    {
        var s = _s;
        var slot = _slots.Ptr + (long)n * s.Cout * _k;
        new Span<float>(slot, s.Cout * _k).Clear();
        var window = Scratch(worker);
        var gradient = window + (long)_cinP * _windowW;
        var sums = (TVector*)(gradient + (long)s.Cout * _weightBlock);
        var rows = stackalloc float*[DotRows];
        var columns = stackalloc float*[DotColumns];
        for (var q0 = 0; q0 < _q; q0 += _weightBlock)
        {
            var length = (int)HostBuffer.RoundUp(Math.Min(_weightBlock, _q - q0), TSimd.Lanes);
            GatherInput(n, window, _windowW, length + _span, q0);
            GatherGradient(n, gradient, _weightBlock, length, q0);
            for (var co = 0; co < s.Cout; co += DotRows)
            {
                for (var i = 0; i < DotRows; i++)
                    rows[i] = co + i < s.Cout ? gradient + (long)(co + i) * _weightBlock : _zeros.Ptr;
                for (var k = 0; k < _k; k += DotColumns)
                {
                    for (var j = 0; j < DotColumns; j++)
                        columns[j] = k + j < _k ? window + _offsetsW.Ptr[k + j] : _zeros.Ptr;
                    new Span<TVector>(sums, DotRows * DotColumns).Clear();
                    HostTile<TSimd, TVector>.Dot(length, rows, columns, sums);
                    for (var i = 0; i < DotRows && co + i < s.Cout; i++)
                        for (var j = 0; j < DotColumns && k + j < _k; j++)
                            slot[(co + i) * _k + k + j] += TSimd.Sum(sums[i * DotColumns + j]);
                }
            }
        }
    }

    /// <summary>dW'ᵀ[k, co] = Σ_n Σ_q im2col(x_n)[k, q] · dY'_n[co, q], one matrix product per group of samples (their
    /// positions side by side as its depth) accumulated into the first slot group by group, then mapped to PyTorch's layout.</summary>
    private void WeightByMatrixProduct(int batch, float* dw)
    {
        var s = _s;
        var transposed = _slots.Ptr;
        for (var n0 = 0; n0 < batch; n0 += _group)
        {
            var samples = Math.Min(_group, batch - n0);
            (_groupStart, _groupDepth) = (n0, samples * _q);
            HostParallel.For(samples, _columnsItem);
            HostGemm<TSimd, TVector>.Multiply(_k, s.Cout, _groupDepth, _columns!.Ptr, _groupDepth, 1, _gradientRows!.Ptr, 1, _groupDepth,
                transposed, s.Cout, _packedColumns!.Ptr, _gemmScratch!.Ptr, accumulate: n0 > 0);
        }
        for (var e = 0; e < s.Cout * _k; e++)
        {
            var (co, k) = Math.DivRem(e, _k);
            if (PyTorchWeightIndex(co, k) is { } index) dw[index] = transposed[(long)k * s.Cout + co];
        }
    }

    /// <summary>Sample <paramref name="i"/> of the group: its im2col rows and dY' rows at column i·Q of the group's
    /// matrices (row pitch: the group's depth).</summary>
    private void ColumnsItem(int worker, int i)
    {
        var n = _groupStart + i;
        var windows = Scratch(worker);
        GatherInput(n, windows, _windowW, _q + _span, 0);
        var columns = _columns!.Ptr + (long)i * _q;
        for (var k = 0; k < _k; k++)
            new ReadOnlySpan<float>(windows + _offsetsW.Ptr[k], _q).CopyTo(new Span<float>(columns + (long)k * _groupDepth, _q));
        GatherGradient(n, _gradientRows!.Ptr + (long)i * _q, _groupDepth, _q, 0);
    }

    /// <summary>dW for slot elements [start, start + count): the samples' slots summed in sample order, taps of the
    /// prepared kernel mapped back to PyTorch's [Cout, Cin, KH, KW] (taps t·S + ph ≥ KW do not exist).</summary>
    private void ReduceSlots(int start, int count, int batch, float* dw)
    {
        var s = _s;
        var slotLength = (long)s.Cout * _k;
        for (var e = start; e < start + count; e++)
        {
            var sum = 0f;
            for (var n = 0; n < batch; n++) sum += _slots.Ptr[n * slotLength + e];
            var (co, k) = Math.DivRem(e, _k);
            if (PyTorchWeightIndex(co, k) is { } index) dw[index] = sum;
        }
    }

    /// <summary>Where tap k = (c, kh, t) of output channel co lies in PyTorch's [Cout, Cin, KH, KW], or null for the
    /// taps t·S + ph ≥ KW that the phase split adds.</summary>
    private int? PyTorchWeightIndex(int co, int k)
    {
        var s = _s;
        var (c, rest) = Math.DivRem(k, s.KH * _kwP);
        var (kh, t) = Math.DivRem(rest, _kwP);
        var (phase, ci) = Math.DivRem(c, s.Cin);
        var kw = t * _stride + phase;
        return kw < s.KW ? ((co * s.Cin + ci) * s.KH + kh) * s.KW + kw : null;
    }

    /// <summary>W'[co, (c, kh, t)] = W[co, ci, kh, t·S + ph] (zero past KW) into panels of MR output channels.</summary>
    private void PackForwardWeights(float* w)
    {
        var s = _s;
        var packed = _packed.Ptr;
        for (var co = 0; co < HostBuffer.RoundUp(s.Cout, MR); co++)
            for (var k = 0; k < _k; k++)
                packed[(co / MR * _k + k) * MR + co % MR] = co < s.Cout ? PreparedWeight(w, co, k) : 0f;
    }

    /// <summary>Wf[c, (co, kh', t')] = W'[co, (c, KH−1−kh', KW'−1−t')] into panels of MR prepared input channels.</summary>
    private void PackInputGradientWeights(float* w)
    {
        var s = _s;
        var packed = _packed2.Ptr;
        for (var c = 0; c < HostBuffer.RoundUp(_cinP, MR); c++)
            for (var k2 = 0; k2 < _k2; k2++)
            {
                var value = 0f;
                if (c < _cinP)
                {
                    var (co, rest) = Math.DivRem(k2, s.KH * _kwP);
                    var (kh, t) = Math.DivRem(rest, _kwP);
                    value = PreparedWeight(w, co, (c * s.KH + s.KH - 1 - kh) * _kwP + _kwP - 1 - t);
                }
                packed[(c / MR * _k2 + k2) * MR + c % MR] = value;
            }
    }

    private float PreparedWeight(float* w, int co, int k)
    {
        var s = _s;
        var (c, rest) = Math.DivRem(k, s.KH * _kwP);
        var (kh, t) = Math.DivRem(rest, _kwP);
        var (phase, ci) = Math.DivRem(c, s.Cin);
        var kw = t * _stride + phase;
        return kw < s.KW ? w[((co * s.Cin + ci) * s.KH + kh) * s.KW + kw] : 0f;
    }

    private void Check(ArrayView<float> inputLike, long inputLength, ArrayView<float> outputLike, long outputLength,
        ArrayView<float> weightLike)
    {
        const string operation = "HostConv2dOp";
        ViewChecks.RequireLength(inputLike, inputLength, operation, "input");
        ViewChecks.RequireLength(outputLike, outputLength, operation, "output");
        ViewChecks.RequireLength(weightLike, _s.WeightLength, operation, "weight");
    }

    public void Dispose()
    {
        foreach (var buffer in new IDisposable?[] { _offsets, _offsets2, _offsetsW, _packed, _packed2, _slots, _scratch, _zeros,
                     _columns, _gradientRows, _packedColumns, _gemmScratch })
            buffer?.Dispose();
    }
}
