using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using EnvNet.Kernels.Plain;

namespace EnvNet.Kernels.Tiled;

/// <summary>
/// One launch of <see cref="TiledConvKernels.Correlate"/>: out[n, co, r, OutOffset + OutStride·q] =
/// Σ_{ci, kh, t} V[n, ci](r + kh, q·S + t) · weight[co, ci, kh, t] for r &lt; R, q &lt; Q, where V is the input seen
/// through a virtual frame: V(a, b) = in[n, ci, a − PadTop, b − PadLeft], zero outside the input.
/// <para>
/// Positions are flattened: p = r·InPitch + q with InPitch ≥ Q + T − 1 (stride 1), so output p reads V at p + kh·InPitch
/// + t and a tile of consecutive p needs one contiguous run of V per input channel, whatever the kernel height; the
/// columns q ≥ Q of each row are computed and dropped (T − 1 of InPitch). With stride S &gt; 1 there is one row (R = KH = 1)
/// and output q reads V(0, q·S + t); the staged run is then split by phase (b mod S) so that neighbouring threads still
/// read neighbouring shared words.
/// </para>
/// <para>
/// A group computes TilePositions = 8·Lanes consecutive positions of one sample for Groups·8 output channels: thread
/// (group g, lane l) owns channels 8g..8g+7 at positions l + Lanes·j, j = 0..7, 64 accumulators in registers. Input
/// channels go through shared memory ChannelChunk at a time: weights as [ci][kh][t][co] (the eight channels of a
/// thread are one 32-byte run, read as two 16-byte broadcasts) and the input run per channel and phase.
/// </para>
/// <para>
/// With one output channel (the input gradient of a convolution over one input channel: conv3 of EnvNet and of
/// EnvNet-v2), eight channels per thread would waste seven of eight multiply-adds and leave groups of one warp. There
/// <see cref="SingleChannel"/> is 1: thread (group g, lane l) owns the one channel at positions g·8·Lanes + l + Lanes·j,
/// so a tile is 8·Lanes·Groups positions, the weight is one broadcast read per tap, and every multiply-add counts.
/// </para>
/// </summary>
public readonly struct CorrelationShape : IEquatable<CorrelationShape>
{
    public readonly int Cin, Cout, KH, T, S;
    public readonly int InH, InW, PadTop, PadLeft, InPitch;
    public readonly int R, Q, OutW, OutStride, OutOffset;
    public readonly int Lanes, Groups, ChannelChunk, Tiles, PhaseLength;
    /// <summary>1: one output channel, thread groups split the positions (see above); 0: thread groups split the channels.
    /// An int, not a bool: kernel arguments must be blittable.</summary>
    public readonly int SingleChannel;

    public CorrelationShape(int cin, int cout, int kh, int t, int s, int inH, int inW, int padTop, int padLeft,
        int r, int q, int outW, int outStride, int outOffset, int lanes, int groups, int channelChunk, bool singleChannel = false)
    {
        if (singleChannel && cout != 1)
            throw new ArgumentException($"CorrelationShape: the single-channel layout needs one output channel, got {cout}.");
        (Cin, Cout, KH, T, S, InH, InW, PadTop, PadLeft) = (cin, cout, kh, t, s, inH, inW, padTop, padLeft);
        (R, Q, OutW, OutStride, OutOffset, Lanes, Groups, ChannelChunk) = (r, q, outW, outStride, outOffset, lanes, groups, channelChunk);
        SingleChannel = singleChannel ? 1 : 0;
        InPitch = s == 1 ? Math.Max(q + t - 1, q) : (q - 1) * s + t;
        var total = s == 1 ? r * InPitch : q;
        Tiles = (total + TilePositions - 1) / TilePositions;
        PhaseLength = (InputSpan(TilePositions, kh, t, s, InPitch) + s - 1) / s;
    }

    /// <summary>Positions of the flattened output one group computes.</summary>
    public int TilePositions => 8 * Lanes * (SingleChannel == 1 ? Groups : 1);
    public int Threads => Lanes * Groups;
    public int ChannelsPerTile => SingleChannel == 1 ? 1 : 8 * Groups;
    /// <summary>Flattened output pitch: the input pitch with stride 1, the row itself with one strided row.</summary>
    public int OutPitch => S == 1 ? InPitch : Q;
    public int ChannelTiles => (Cout + ChannelsPerTile - 1) / ChannelsPerTile;
    public int WeightTileLength => ChannelChunk * KH * T * ChannelsPerTile;
    public int InputTileLength => ChannelChunk * S * PhaseLength;
    public int SharedLength => WeightTileLength + InputTileLength;

    /// <summary>Virtual-input positions a tile of <paramref name="tilePositions"/> outputs reads, counted from its first.</summary>
    public static int InputSpan(int tilePositions, int kh, int t, int s, int inPitch) => (tilePositions - 1) * s + (kh - 1) * inPitch + t;

    public bool Equals(CorrelationShape o) =>
        (Cin, Cout, KH, T, S, InH, InW, PadTop, PadLeft, InPitch) == (o.Cin, o.Cout, o.KH, o.T, o.S, o.InH, o.InW, o.PadTop, o.PadLeft, o.InPitch)
        && (R, Q, OutW, OutStride, OutOffset, Lanes, Groups, ChannelChunk) == (o.R, o.Q, o.OutW, o.OutStride, o.OutOffset, o.Lanes, o.Groups, o.ChannelChunk)
        && SingleChannel == o.SingleChannel;

    public override bool Equals(object? obj) => obj is CorrelationShape other && Equals(other);
    public override int GetHashCode() => HashCode.Combine(HashCode.Combine(Cin, Cout, KH, T, S, InH, InW, PadTop),
        HashCode.Combine(PadLeft, R, Q, OutW, OutStride, OutOffset, Lanes, Groups), ChannelChunk, SingleChannel);

    public override string ToString() =>
        $"Cin={Cin} Cout={Cout} KH={KH} T={T} S={S} in={InH}x{InW} pad=({PadTop},{PadLeft}) pitch={InPitch} out={R}x{Q} " +
        $"lanes={Lanes} groups={Groups} chunk={ChannelChunk} tiles={Tiles}{(SingleChannel == 1 ? " single-channel" : "")}";
}

/// <summary>
/// One launch of <see cref="TiledConvKernels.WeightGradientPartial"/>: dw[co, ci, kh, kw] = Σ_{n, r, q} dy[n, co, r, q] ·
/// V[n, ci](r + kh, q·S + kw), V the input through the forward's virtual frame (see <see cref="CorrelationShape"/>),
/// positions flattened with the same pitch. Each group reduces ChunkLength positions of one sample (its own slice of
/// the batch) into a partial sum per weight; <see cref="TiledConvKernels.ReducePartials"/> adds the slices in a fixed
/// order, so the result is the same bits on every run (no atomics).
/// <para>
/// A thread owns eight output channels × eight taps of one (ci, kh) row and one stride phase: taps kw = phase + S·(8·block
/// + k). Per staged block of eight positions it reads 15 input values once and slides them against the eight gradient
/// values of each channel (two 16-byte reads): 512 multiply-adds for 31 shared reads. Lanes threads share an output tile
/// and take every Lanes-th block of positions (layers with few weights such as conv1 get several lanes per weight).
/// </para>
/// <para>
/// An output tile (grid z) covers GroupsPerTile blocks of eight output channels × CinPerTile input channels, and stages
/// only their gradients and inputs, so layers with many channels (EnvNet-v2's conv9/conv10) or tall kernels over wide
/// rows (v2's conv4: 8×8 over 253 columns) fit in shared memory: z = channelBlock·CinBlocks + cinBlock.
/// </para>
/// </summary>
public readonly struct WeightGradientShape : IEquatable<WeightGradientShape>
{
    public readonly int Cin, Cout, KH, KW, S;
    public readonly int InH, InW, PadTop, PadLeft, InPitch;
    public readonly int R, Q, Total;
    public readonly int Groups, TapBlocks, PhaseLength, InputStride, GradStride;
    public readonly int GroupsPerTile, CinPerTile, OutputTile, Lanes, Block, ChunkLength, Chunks;

    public WeightGradientShape(int cin, int cout, int kh, int kw, int s, int inH, int inW, int padTop, int padLeft,
        int r, int q, int block, int groupsPerTile, int cinPerTile, int lanes, int chunkLength)
    {
        (Cin, Cout, KH, KW, S, InH, InW, PadTop, PadLeft, R, Q) = (cin, cout, kh, kw, s, inH, inW, padTop, padLeft, r, q);
        InPitch = s == 1 ? q + kw - 1 : (q - 1) * s + kw;
        Total = s == 1 ? r * InPitch : q;
        Groups = (cout + 7) / 8;
        TapBlocks = ((kw + s - 1) / s + 7) / 8;
        Block = block;
        // Every tap block reads 15 values from its start, so the staged run covers 8·TapBlocks taps per phase.
        PhaseLength = ((block - 1) * s + (kh - 1) * InPitch + s * 8 * TapBlocks + s - 1) / s + 8;
        InputStride = s * PhaseLength + 1;   // odd: neighbouring input rows start in different banks
        GradStride = block + 4;              // a multiple of 4 keeps the 16-byte reads aligned
        (GroupsPerTile, CinPerTile, Lanes, ChunkLength) = (groupsPerTile, cinPerTile, lanes, chunkLength);
        OutputTile = ThreadsPerInputChannel(kh, kw, s) * groupsPerTile * cinPerTile;
        Chunks = (Total + chunkLength - 1) / chunkLength;
    }

    /// <summary>Threads for one block of eight output channels and one input channel: one per (kh, phase, tap block).</summary>
    public static int ThreadsPerInputChannel(int kh, int kw, int s) => kh * s * (((kw + s - 1) / s + 7) / 8);

    public int Threads => OutputTile * Lanes;
    public int GroupBlocks => (Groups + GroupsPerTile - 1) / GroupsPerTile;
    public int CinBlocks => (Cin + CinPerTile - 1) / CinPerTile;
    public int OutputTiles => GroupBlocks * CinBlocks;
    public int WeightLength => Cout * Cin * KH * KW;
    public int GradTileLength => GroupsPerTile * 8 * GradStride;
    public int SharedLength => GradTileLength + CinPerTile * InputStride;

    public static int SharedLengthFor(int cin, int cout, int kh, int kw, int s, int q, int block, int groupsPerTile, int cinPerTile)
    {
        var shape = new WeightGradientShape(cin, cout, kh, kw, s, 1, 1, 0, 0, 1, q, block, groupsPerTile, cinPerTile, 1, block);
        return shape.SharedLength;
    }

    public bool Equals(WeightGradientShape o) =>
        (Cin, Cout, KH, KW, S, InH, InW, PadTop, PadLeft, R, Q) == (o.Cin, o.Cout, o.KH, o.KW, o.S, o.InH, o.InW, o.PadTop, o.PadLeft, o.R, o.Q)
        && (Block, GroupsPerTile, CinPerTile, Lanes, ChunkLength) == (o.Block, o.GroupsPerTile, o.CinPerTile, o.Lanes, o.ChunkLength);

    public override bool Equals(object? obj) => obj is WeightGradientShape other && Equals(other);
    public override int GetHashCode() => HashCode.Combine(HashCode.Combine(Cin, Cout, KH, KW, S, InH, InW, PadTop),
        HashCode.Combine(PadLeft, R, Q, Block, GroupsPerTile, CinPerTile, Lanes, ChunkLength));

    public override string ToString() =>
        $"Cin={Cin} Cout={Cout} kernel={KH}x{KW} S={S} out={R}x{Q} pitch={InPitch} block={Block} " +
        $"tile={GroupsPerTile * 8}co×{CinPerTile}ci={OutputTile}x{Lanes} tiles={OutputTiles} chunk={ChunkLength}x{Chunks}";
}

/// <summary>
/// Convolutions as shared-memory tiles with 8×8 register blocking (see <see cref="CorrelationShape"/> and
/// <see cref="WeightGradientShape"/>): the forward and the input gradient are both <see cref="Correlate"/> (the input
/// gradient over dy with the weights rearranged by <see cref="RearrangeForInputGradient"/>), the weight gradient is
/// <see cref="WeightGradientPartial"/> then <see cref="ReducePartials"/>. The plain kernels in <see cref="Conv2dKernels"/>
/// are the references they are tested against. Shapes are passed as specialised values, so the GPU compiler sees every
/// size as a constant.
/// </summary>
public static class TiledConvKernels
{
    /// <summary>Explicitly grouped: grid (Tiles, N, ChannelTiles), group (Lanes·Groups), dynamic shared memory
    /// SharedLength floats. With a non-empty <paramref name="statistics"/> it also writes, per (channel, tile), the
    /// count, mean and sum of squared deviations of the tile's outputs: BatchNorm's batch statistics without a pass
    /// over the output (<see cref="ConvStatistics"/>).</summary>
    public static void Correlate(SpecializedValue<CorrelationShape> shape, ArrayView<float> input, ArrayView<float> weight,
        ArrayView<float> output, ArrayView<float> statistics)
    {
        var s = shape.Value;
        var shared = SharedMemory.GetDynamic<float>();
        var weightTile = shared.SubView(0, s.WeightTileLength);
        var weightTile4 = weightTile.Cast<Float4>();
        var inputTile = shared.SubView(s.WeightTileLength, s.InputTileLength);

        var thread = Group.IdxX;
        var lane = thread % s.Lanes;
        var group = thread / s.Lanes;
        var tile = Grid.IdxX;
        var n = Grid.IdxY;
        var channelBase = Grid.IdxZ * s.ChannelsPerTile;
        var firstPosition = tile * s.TilePositions;
        var tileChannels = s.ChannelsPerTile;
        // The thread's first position, counted from the tile's: with one channel each thread group has its own run.
        var threadOffset = lane + (s.SingleChannel == 1 ? group * 8 * s.Lanes : 0);

        Accumulator8 a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (var chunkStart = 0; chunkStart < s.Cin; chunkStart += s.ChannelChunk)
        {
            var chunk = Math.Min(s.ChannelChunk, s.Cin - chunkStart);

            // Weights [co][ci][kh][t] → [ci][kh][t][co]; t fastest in the loop so the global reads run along memory.
            var weightCount = chunk * s.KH * s.T * tileChannels;
            for (var e = thread; e < weightCount; e += s.Threads)
            {
                var t = e % s.T;
                var rest = e / s.T;
                var kh = rest % s.KH;
                rest /= s.KH;
                var ci = rest % chunk;
                var column = rest / chunk;
                var co = channelBase + column;
                var value = 0f;
                if (co < s.Cout) value = weight[((co * s.Cin + chunkStart + ci) * s.KH + kh) * s.T + t];
                weightTile[((ci * s.KH + kh) * s.T + t) * tileChannels + column] = value;
            }

            // The input run of each channel, split by phase: entry (ci, phase, i) holds virtual position first·S + i·S + phase.
            var inputCount = chunk * s.S * s.PhaseLength;
            for (var e = thread; e < inputCount; e += s.Threads)
            {
                var i = e % s.PhaseLength;
                var rest = e / s.PhaseLength;
                var phase = rest % s.S;
                var ci = rest / s.S;
                var v = firstPosition * s.S + i * s.S + phase;
                var a = v / s.InPitch;
                var row = a - s.PadTop;
                var column = v - a * s.InPitch - s.PadLeft;
                var value = 0f;
                if (row >= 0 && row < s.InH && column >= 0 && column < s.InW)
                    value = input[((n * s.Cin + chunkStart + ci) * s.InH + row) * s.InW + column];
                inputTile[e] = value;
            }
            Group.Barrier();

            for (var ci = 0; ci < chunk; ci++)
            {
                for (var kh = 0; kh < s.KH; kh++)
                {
                    for (var phase = 0; phase < s.S; phase++)
                    {
                        var inputBase = (ci * s.S + phase) * s.PhaseLength + kh * s.InPitch + threadOffset;
                        for (var t = phase; t < s.T; t += s.S)
                        {
                            if (s.SingleChannel == 1)
                            {
                                var x = inputBase + t / s.S;
                                a0.MultiplyAdd(weightTile[(ci * s.KH + kh) * s.T + t], inputTile[x], inputTile[x + s.Lanes],
                                    inputTile[x + 2 * s.Lanes], inputTile[x + 3 * s.Lanes], inputTile[x + 4 * s.Lanes],
                                    inputTile[x + 5 * s.Lanes], inputTile[x + 6 * s.Lanes], inputTile[x + 7 * s.Lanes]);
                                continue;
                            }
                            var w = (((ci * s.KH + kh) * s.T + t) * tileChannels + group * 8) / 4;
                            var w0123 = weightTile4[w];
                            var w4567 = weightTile4[w + 1];
                            var xs = inputBase + t / s.S;
                            var x0 = inputTile[xs];
                            var x1 = inputTile[xs + s.Lanes];
                            var x2 = inputTile[xs + 2 * s.Lanes];
                            var x3 = inputTile[xs + 3 * s.Lanes];
                            var x4 = inputTile[xs + 4 * s.Lanes];
                            var x5 = inputTile[xs + 5 * s.Lanes];
                            var x6 = inputTile[xs + 6 * s.Lanes];
                            var x7 = inputTile[xs + 7 * s.Lanes];
                            a0.MultiplyAdd(w0123.X, x0, x1, x2, x3, x4, x5, x6, x7);
                            a1.MultiplyAdd(w0123.Y, x0, x1, x2, x3, x4, x5, x6, x7);
                            a2.MultiplyAdd(w0123.Z, x0, x1, x2, x3, x4, x5, x6, x7);
                            a3.MultiplyAdd(w0123.W, x0, x1, x2, x3, x4, x5, x6, x7);
                            a4.MultiplyAdd(w4567.X, x0, x1, x2, x3, x4, x5, x6, x7);
                            a5.MultiplyAdd(w4567.Y, x0, x1, x2, x3, x4, x5, x6, x7);
                            a6.MultiplyAdd(w4567.Z, x0, x1, x2, x3, x4, x5, x6, x7);
                            a7.MultiplyAdd(w4567.W, x0, x1, x2, x3, x4, x5, x6, x7);
                        }
                    }
                }
            }
            Group.Barrier();
        }

        // Where each of the thread's eight positions lands in an output plane, −1 for the dropped columns and the tail.
        var o0 = OutputOffset(s, firstPosition + threadOffset);
        var o1 = OutputOffset(s, firstPosition + threadOffset + s.Lanes);
        var o2 = OutputOffset(s, firstPosition + threadOffset + 2 * s.Lanes);
        var o3 = OutputOffset(s, firstPosition + threadOffset + 3 * s.Lanes);
        var o4 = OutputOffset(s, firstPosition + threadOffset + 4 * s.Lanes);
        var o5 = OutputOffset(s, firstPosition + threadOffset + 5 * s.Lanes);
        var o6 = OutputOffset(s, firstPosition + threadOffset + 6 * s.Lanes);
        var o7 = OutputOffset(s, firstPosition + threadOffset + 7 * s.Lanes);
        var channel = channelBase + (s.SingleChannel == 1 ? 0 : group * 8);
        var plane = s.R * s.OutW;
        if (s.SingleChannel == 1)
        {
            // Statistics are the forward's, which never takes this layout (TiledConvOps.Plan).
            StoreChannel(output, s, n, 0, plane, a0, o0, o1, o2, o3, o4, o5, o6, o7);
            return;
        }
        StoreChannel(output, s, n, channel, plane, a0, o0, o1, o2, o3, o4, o5, o6, o7);
        StoreChannel(output, s, n, channel + 1, plane, a1, o0, o1, o2, o3, o4, o5, o6, o7);
        StoreChannel(output, s, n, channel + 2, plane, a2, o0, o1, o2, o3, o4, o5, o6, o7);
        StoreChannel(output, s, n, channel + 3, plane, a3, o0, o1, o2, o3, o4, o5, o6, o7);
        StoreChannel(output, s, n, channel + 4, plane, a4, o0, o1, o2, o3, o4, o5, o6, o7);
        StoreChannel(output, s, n, channel + 5, plane, a5, o0, o1, o2, o3, o4, o5, o6, o7);
        StoreChannel(output, s, n, channel + 6, plane, a6, o0, o1, o2, o3, o4, o5, o6, o7);
        StoreChannel(output, s, n, channel + 7, plane, a7, o0, o1, o2, o3, o4, o5, o6, o7);

        if (statistics.Length == 0) return;
        // The tile's count, mean and M2 per channel: lanes of a group are an aligned run of Lanes (a power of two ≤ 32)
        // within one warp, so butterfly shuffles over them combine the whole tile in a fixed order.
        var count = Valid(o0) + Valid(o1) + Valid(o2) + Valid(o3) + Valid(o4) + Valid(o5) + Valid(o6) + Valid(o7);
        count = LaneSum(count, s.Lanes);
        var tiles = s.Tiles;
        var tileIndex = n * tiles + tile;
        WriteStatistics(statistics, s, channel, tileIndex, count, lane, a0, o0, o1, o2, o3, o4, o5, o6, o7);
        WriteStatistics(statistics, s, channel + 1, tileIndex, count, lane, a1, o0, o1, o2, o3, o4, o5, o6, o7);
        WriteStatistics(statistics, s, channel + 2, tileIndex, count, lane, a2, o0, o1, o2, o3, o4, o5, o6, o7);
        WriteStatistics(statistics, s, channel + 3, tileIndex, count, lane, a3, o0, o1, o2, o3, o4, o5, o6, o7);
        WriteStatistics(statistics, s, channel + 4, tileIndex, count, lane, a4, o0, o1, o2, o3, o4, o5, o6, o7);
        WriteStatistics(statistics, s, channel + 5, tileIndex, count, lane, a5, o0, o1, o2, o3, o4, o5, o6, o7);
        WriteStatistics(statistics, s, channel + 6, tileIndex, count, lane, a6, o0, o1, o2, o3, o4, o5, o6, o7);
        WriteStatistics(statistics, s, channel + 7, tileIndex, count, lane, a7, o0, o1, o2, o3, o4, o5, o6, o7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int OutputOffset(in CorrelationShape s, int p)
    {
        var r = p / s.OutPitch;
        var q = p - r * s.OutPitch;
        return r < s.R && q < s.Q ? r * s.OutW + s.OutOffset + s.OutStride * q : -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Valid(int offset) => offset >= 0 ? 1f : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Masked(float value, int offset) => offset >= 0 ? value : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreChannel(ArrayView<float> output, in CorrelationShape s, int n, int co, int plane, in Accumulator8 a,
        int o0, int o1, int o2, int o3, int o4, int o5, int o6, int o7)
    {
        if (co >= s.Cout) return;
        var b = (n * s.Cout + co) * plane;
        if (o0 >= 0) output[b + o0] = a.A0;
        if (o1 >= 0) output[b + o1] = a.A1;
        if (o2 >= 0) output[b + o2] = a.A2;
        if (o3 >= 0) output[b + o3] = a.A3;
        if (o4 >= 0) output[b + o4] = a.A4;
        if (o5 >= 0) output[b + o5] = a.A5;
        if (o6 >= 0) output[b + o6] = a.A6;
        if (o7 >= 0) output[b + o7] = a.A7;
    }

    /// <summary>Sum over the Lanes threads of a group (butterfly: every lane ends with the same total).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float LaneSum(float value, int lanes)
    {
        for (var mask = lanes / 2; mask > 0; mask /= 2) value += Warp.ShuffleXor(value, mask);
        return value;
    }

    /// <summary>Tile mean and M2 = Σ(y − mean)² of one channel, measured from the tile's own mean (no cancellation);
    /// layout [3][Cout][N·Tiles]: counts, means, M2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteStatistics(ArrayView<float> statistics, in CorrelationShape s, int co, int tileIndex, float count,
        int lane, in Accumulator8 a, int o0, int o1, int o2, int o3, int o4, int o5, int o6, int o7)
    {
        var sum = Masked(a.A0, o0) + Masked(a.A1, o1) + Masked(a.A2, o2) + Masked(a.A3, o3)
                  + Masked(a.A4, o4) + Masked(a.A5, o5) + Masked(a.A6, o6) + Masked(a.A7, o7);
        sum = LaneSum(sum, s.Lanes);
        var mean = count > 0f ? sum / count : 0f;
        var m2 = Masked(Square(a.A0 - mean), o0) + Masked(Square(a.A1 - mean), o1) + Masked(Square(a.A2 - mean), o2)
                 + Masked(Square(a.A3 - mean), o3) + Masked(Square(a.A4 - mean), o4) + Masked(Square(a.A5 - mean), o5)
                 + Masked(Square(a.A6 - mean), o6) + Masked(Square(a.A7 - mean), o7);
        m2 = LaneSum(m2, s.Lanes);
        if (lane != 0 || co >= s.Cout) return;
        var entries = statistics.IntLength / 3;
        var index = co * (entries / s.Cout) + tileIndex;
        statistics[index] = count;
        statistics[entries + index] = mean;
        statistics[2 * entries + index] = m2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Square(float x) => x * x;

    /// <summary>
    /// The input gradient of a stride-(1, S) convolution as S stride-1 correlations over dy, one per phase φ of the
    /// input column: iw = S·q + φ receives the taps kw ≡ φ + PW (mod S), kw = kw0 + S·t, from dy column q + off − t.
    /// This writes, for every phase in turn, weights [ci][co][KH][T_φ] flipped in kh and t (a correlation reads
    /// forwards), the layout <see cref="Correlate"/> reads with Cin and Cout swapped. One thread per weight.
    /// </summary>
    public static void RearrangeForInputGradient(Index1D index, Conv2dShape c, ArrayView<float> weight, ArrayView<float> rearranged)
    {
        int i = index;
        // Find the phase block that holds i: phases are stored one after another, each Cin·Cout·KH·T_φ long.
        var offset = 0;
        var phase = 0;
        var taps = PhaseTaps(c, 0);
        while (i >= offset + c.Cin * c.Cout * c.KH * taps)
        {
            offset += c.Cin * c.Cout * c.KH * taps;
            phase++;
            taps = PhaseTaps(c, phase);
        }
        var local = i - offset;
        var t = local % taps;
        var rest = local / taps;
        var kh = rest % c.KH;
        rest /= c.KH;
        var co = rest % c.Cout;
        var ci = rest / c.Cout;
        var kw0 = (phase + c.PW) % c.SW;
        var kw = kw0 + c.SW * (taps - 1 - t);
        rearranged[i] = weight[((co * c.Cin + ci) * c.KH + (c.KH - 1 - kh)) * c.KW + kw];
    }

    /// <summary>Taps of the input-gradient phase φ: the kw in [0, KW) with kw ≡ φ + PW (mod SW).</summary>
    public static int PhaseTaps(in Conv2dShape c, int phase)
    {
        var kw0 = (phase + c.PW) % c.SW;
        return kw0 >= c.KW ? 0 : (c.KW - kw0 + c.SW - 1) / c.SW;
    }

    /// <summary>Explicitly grouped: grid (Chunks, N, OutputTiles), group (OutputTile·Lanes), dynamic shared memory
    /// SharedLength floats. Writes partial[((n·Chunks + chunk)·Lanes + lane)·WeightLength + weight index].</summary>
    public static void WeightGradientPartial(SpecializedValue<WeightGradientShape> shape, ArrayView<float> input,
        ArrayView<float> gradOutput, ArrayView<float> partial)
    {
        var s = shape.Value;
        var shared = SharedMemory.GetDynamic<float>();
        var gradTile = shared.SubView(0, s.GradTileLength);
        var gradTile4 = gradTile.Cast<Float4>();
        var inputTile = shared.SubView(s.GradTileLength, s.CinPerTile * s.InputStride);

        var thread = Group.IdxX;
        var local = thread % s.OutputTile;
        var lane = thread / s.OutputTile;
        var channelBlock = Grid.IdxZ / s.CinBlocks;
        var firstCin = (Grid.IdxZ - channelBlock * s.CinBlocks) * s.CinPerTile;
        var firstGroup = channelBlock * s.GroupsPerTile;
        var tapBlock = local % s.TapBlocks;
        var rest = local / s.TapBlocks;
        var phase = rest % s.S;
        rest /= s.S;
        var kh = rest % s.KH;
        rest /= s.KH;
        // ci and group are the tile's own: the staged input channel and the block of eight staged gradient channels.
        var ci = rest % s.CinPerTile;
        var group = rest / s.CinPerTile;
        var active = firstCin + ci < s.Cin && firstGroup + group < s.Groups;

        var chunk = Grid.IdxX;
        var n = Grid.IdxY;
        var start = chunk * s.ChunkLength;
        var end = Math.Min(start + s.ChunkLength, s.Total);
        var outPitch = s.S == 1 ? s.InPitch : s.Q;
        var gradChannels = s.GroupsPerTile * 8;
        var firstChannel = firstGroup * 8;
        var cinCount = Math.Min(s.CinPerTile, s.Cin - firstCin);
        var blocksPerTile = s.Block / 8;

        Accumulator8 a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (var tileStart = start; tileStart < end; tileStart += s.Block)
        {
            for (var e = thread; e < gradChannels * s.Block; e += s.Threads)
            {
                var j = e % s.Block;
                var column = e / s.Block;
                var co = firstChannel + column;
                var p = tileStart + j;
                var r = p / outPitch;
                var q = p - r * outPitch;
                var value = 0f;
                if (co < s.Cout && p < end && r < s.R && q < s.Q) value = gradOutput[((n * s.Cout + co) * s.R + r) * s.Q + q];
                gradTile[column * s.GradStride + j] = value;
            }
            var inputCount = cinCount * s.S * s.PhaseLength;
            for (var e = thread; e < inputCount; e += s.Threads)
            {
                var i = e % s.PhaseLength;
                var rest2 = e / s.PhaseLength;
                var ph = rest2 % s.S;
                var c = rest2 / s.S;
                var v = tileStart * s.S + i * s.S + ph;
                var a = v / s.InPitch;
                var row = a - s.PadTop;
                var column = v - a * s.InPitch - s.PadLeft;
                var value = 0f;
                if (row >= 0 && row < s.InH && column >= 0 && column < s.InW)
                    value = input[((n * s.Cin + firstCin + c) * s.InH + row) * s.InW + column];
                inputTile[c * s.InputStride + ph * s.PhaseLength + i] = value;
            }
            Group.Barrier();

            if (active)
            {
                for (var b = lane; b < blocksPerTile; b += s.Lanes)
                {
                    var j0 = 8 * b;
                    var x = ci * s.InputStride + phase * s.PhaseLength + kh * s.InPitch + 8 * tapBlock + j0;
                    var x0 = inputTile[x];
                    var x1 = inputTile[x + 1];
                    var x2 = inputTile[x + 2];
                    var x3 = inputTile[x + 3];
                    var x4 = inputTile[x + 4];
                    var x5 = inputTile[x + 5];
                    var x6 = inputTile[x + 6];
                    var x7 = inputTile[x + 7];
                    var x8 = inputTile[x + 8];
                    var x9 = inputTile[x + 9];
                    var x10 = inputTile[x + 10];
                    var x11 = inputTile[x + 11];
                    var x12 = inputTile[x + 12];
                    var x13 = inputTile[x + 13];
                    var x14 = inputTile[x + 14];
                    // Whole Float4 locals: ILGPU loads a struct value with one 16-byte access, a field through a reference with four.
                    var d = (group * 8 * s.GradStride + j0) / 4;
                    var stride4 = s.GradStride / 4;
                    var g0a = gradTile4[d + 0 * stride4];
                    var g0b = gradTile4[d + 0 * stride4 + 1];
                    a0.SlidingMultiplyAdd(g0a, g0b, x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14);
                    var g1a = gradTile4[d + 1 * stride4];
                    var g1b = gradTile4[d + 1 * stride4 + 1];
                    a1.SlidingMultiplyAdd(g1a, g1b, x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14);
                    var g2a = gradTile4[d + 2 * stride4];
                    var g2b = gradTile4[d + 2 * stride4 + 1];
                    a2.SlidingMultiplyAdd(g2a, g2b, x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14);
                    var g3a = gradTile4[d + 3 * stride4];
                    var g3b = gradTile4[d + 3 * stride4 + 1];
                    a3.SlidingMultiplyAdd(g3a, g3b, x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14);
                    var g4a = gradTile4[d + 4 * stride4];
                    var g4b = gradTile4[d + 4 * stride4 + 1];
                    a4.SlidingMultiplyAdd(g4a, g4b, x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14);
                    var g5a = gradTile4[d + 5 * stride4];
                    var g5b = gradTile4[d + 5 * stride4 + 1];
                    a5.SlidingMultiplyAdd(g5a, g5b, x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14);
                    var g6a = gradTile4[d + 6 * stride4];
                    var g6b = gradTile4[d + 6 * stride4 + 1];
                    a6.SlidingMultiplyAdd(g6a, g6b, x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14);
                    var g7a = gradTile4[d + 7 * stride4];
                    var g7b = gradTile4[d + 7 * stride4 + 1];
                    a7.SlidingMultiplyAdd(g7a, g7b, x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14);
                }
            }
            Group.Barrier();
        }

        if (!active) return;
        var weights = s.WeightLength;
        var slice = ((n * s.Chunks + chunk) * s.Lanes + lane) * weights;
        var co0 = (firstGroup + group) * 8;
        var weightCin = firstCin + ci;
        var kwBase = phase + s.S * 8 * tapBlock;
        StorePartial(partial, s, slice, co0, weightCin, kh, kwBase, a0);
        StorePartial(partial, s, slice, co0 + 1, weightCin, kh, kwBase, a1);
        StorePartial(partial, s, slice, co0 + 2, weightCin, kh, kwBase, a2);
        StorePartial(partial, s, slice, co0 + 3, weightCin, kh, kwBase, a3);
        StorePartial(partial, s, slice, co0 + 4, weightCin, kh, kwBase, a4);
        StorePartial(partial, s, slice, co0 + 5, weightCin, kh, kwBase, a5);
        StorePartial(partial, s, slice, co0 + 6, weightCin, kh, kwBase, a6);
        StorePartial(partial, s, slice, co0 + 7, weightCin, kh, kwBase, a7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePartial(ArrayView<float> partial, in WeightGradientShape s, int slice, int co, int ci, int kh,
        int kwBase, in Accumulator8 a)
    {
        if (co >= s.Cout) return;
        var row = slice + ((co * s.Cin + ci) * s.KH + kh) * s.KW;
        for (var k = 0; k < 8; k++)
        {
            var kw = kwBase + s.S * k;
            if (kw < s.KW) partial[row + kw] = a.Get(k);
        }
    }

    /// <summary>Columns of a partial-sum reduction group: a warp reads 32 consecutive weights of a slice.</summary>
    public const int ReduceColumns = 32;

    /// <summary>Most rows of a reduction group: each row sums every rows-th slice before the rows are added in shared memory.</summary>
    public const int MaxReduceRows = 32;

    /// <summary>Floats of the reduction's static shared memory: one row sum per thread of the largest group.</summary>
    public const int ReduceSharedFloats = ReduceColumns * MaxReduceRows;

    /// <summary>Rows of the reduction group for <paramref name="slices"/> slices: 32 (a group of 1024 threads) when each
    /// row still gets several slices, so that layers with few weights and many slices (conv1: 320 weights, ten groups,
    /// 16384 slices) keep enough loads in flight; else 8.</summary>
    public static int ReduceRowsFor(int slices) => slices >= 4 * MaxReduceRows ? MaxReduceRows : 8;

    /// <summary>
    /// result[w] = Σ_slice partial[slice·length + w], overwriting result. Explicitly grouped: group (32, rows) with rows
    /// from <see cref="ReduceRowsFor"/>, grid (⌈length/32⌉); thread (x, y) sums slices y, y+rows, … with compensation
    /// (loading four before adding them, in the same order), then the row sums are added in a fixed tree, so the order,
    /// and the bits, never change.
    /// </summary>
    public static void ReducePartials(ArrayView<float> partial, int slices, int length, ArrayView<float> result)
    {
        var sums = SharedMemory.Allocate<float>(ReduceSharedFloats);
        var rows = Group.DimY;
        var x = Group.IdxX;
        var y = Group.IdxY;
        var column = Grid.IdxX * ReduceColumns + x;
        var sum = new CompensatedSum();
        if (column < length)
        {
            var slice = y;
            for (; slice + 3 * rows < slices; slice += 4 * rows)
            {
                var v0 = partial[slice * length + column];
                var v1 = partial[(slice + rows) * length + column];
                var v2 = partial[(slice + 2 * rows) * length + column];
                var v3 = partial[(slice + 3 * rows) * length + column];
                sum.Add(v0);
                sum.Add(v1);
                sum.Add(v2);
                sum.Add(v3);
            }
            for (; slice < slices; slice += rows)
                sum.Add(partial[slice * length + column]);
        }
        sums[y * ReduceColumns + x] = sum.Value;
        for (var half = rows / 2; half > 0; half /= 2)
        {
            Group.Barrier();
            if (y < half) sums[y * ReduceColumns + x] += sums[(y + half) * ReduceColumns + x];
        }
        if (y == 0 && column < length) result[column] = sums[x];
    }
}

/// <summary>The tiled convolution kernels loaded once for one accelerator; their launch shapes come from
/// <see cref="TiledConvPlanner"/>.</summary>
public sealed class TiledConvOps
{
    /// <summary>Shared memory a group may ask for (<see cref="TiledConvPlanner.SharedBudgetFloats"/>).</summary>
    public const int SharedBudgetFloats = TiledConvPlanner.SharedBudgetFloats;

    private static readonly ConditionalWeakTable<Accelerator, TiledConvOps> Shared = new();

    private readonly Accelerator _accelerator;
    private readonly Action<KernelConfig, SpecializedValue<CorrelationShape>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> _correlate;
    private readonly Action<KernelConfig, SpecializedValue<WeightGradientShape>, ArrayView<float>, ArrayView<float>, ArrayView<float>> _weightPartial;
    private readonly Action<KernelConfig, ArrayView<float>, int, int, ArrayView<float>> _reduce;
    private readonly Action<Index1D, Conv2dShape, ArrayView<float>, ArrayView<float>> _rearrange;

    /// <summary>The reduction runs groups of up to 1024 threads: compiled for that size, so that the GPU compiler keeps
    /// it within 64 registers a thread (a group's registers are 65536 on every CUDA GPU).</summary>
    public static readonly KernelSpecialization ReduceSpecialization =
        new(TiledConvKernels.ReduceColumns * TiledConvKernels.MaxReduceRows, null);

    public TiledConvOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _correlate = accelerator.LoadStreamKernel<SpecializedValue<CorrelationShape>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(
            TiledConvKernels.Correlate);
        _weightPartial = accelerator.LoadStreamKernel<SpecializedValue<WeightGradientShape>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(
            TiledConvKernels.WeightGradientPartial);
        _reduce = accelerator.LoadStreamKernel<ArrayView<float>, int, int, ArrayView<float>>(TiledConvKernels.ReducePartials, ReduceSpecialization);
        _rearrange = accelerator.LoadAutoGroupedStreamKernel<Index1D, Conv2dShape, ArrayView<float>, ArrayView<float>>(
            TiledConvKernels.RearrangeForInputGradient);
    }

    /// <summary>The kernels this class loads, for <see cref="KernelEntryPoint"/> catalogues: the correlation with
    /// every shape of <paramref name="plans"/> (forward and input-gradient phases), the weight gradient with each plan's
    /// split, and the two kernels with no specialised value.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints(IEnumerable<TiledConvPlan> plans)
    {
        var list = plans.ToList();
        return
        [
            KernelEntryPoint.Explicit(nameof(TiledConvOps), TiledConvKernels.Correlate,
                list.SelectMany(p => p.InputGradient.Select(g => g.Shape).Prepend(p.Forward)).Distinct().Select(s => (object)s)),
            KernelEntryPoint.Explicit(nameof(TiledConvOps), TiledConvKernels.WeightGradientPartial,
                list.Select(p => p.WeightGradient).Distinct().Select(s => (object)s)),
            KernelEntryPoint.Explicit(nameof(TiledConvOps), TiledConvKernels.ReducePartials, groupSpecialization: ReduceSpecialization),
            KernelEntryPoint.AutoGrouped(nameof(TiledConvOps), TiledConvKernels.RearrangeForInputGradient),
        ];
    }

    /// <summary>One instance per accelerator, shared by every layer built on it.</summary>
    public static TiledConvOps For(Accelerator accelerator) => Shared.GetValue(accelerator, a => new TiledConvOps(a));

    /// <summary>The launch shapes for <paramref name="conv"/> on this accelerator (<see cref="TiledConvPlanner.Plan"/>),
    /// or null where the tiled kernels do not apply.</summary>
    public TiledConvPlan? Plan(Conv2dShape conv, int? targetBlocks = null) =>
        TiledConvPlanner.Plan(conv, _accelerator.MaxSharedMemoryPerGroup, _accelerator.NumMultiprocessors, targetBlocks);

    /// <summary>output = conv(input, weight) for <paramref name="batch"/> samples; with a non-empty
    /// <paramref name="statistics"/> (length <see cref="TiledConvPlan.StatisticsLengthFor"/>) also each tile's
    /// per-channel count, mean and M2 for BatchNorm.</summary>
    public void Forward(TiledConvPlan plan, int batch, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> output,
        ArrayView<float> statistics)
    {
        const string operation = "TiledConvOps.Forward";
        var c = plan.Conv.WithBatch(batch);
        CheckBatch(plan, batch, operation);
        ViewChecks.RequireLength(input, c.InputLength, operation, nameof(input));
        ViewChecks.RequireLength(weight, c.WeightLength, operation, nameof(weight));
        ViewChecks.RequireLength(output, c.OutputLength, operation, nameof(output));
        if (statistics.Length > 0 && statistics.Length != plan.StatisticsLengthFor(batch))
            throw new ArgumentException($"{operation}: statistics needs exactly {plan.StatisticsLengthFor(batch)} floats, got {statistics.Length}.");
        LaunchCorrelation(plan.Forward, batch, input, weight, output, statistics);
    }

    /// <summary>gradInput = ∂L/∂input of the convolution; <paramref name="rearrangedWeights"/> is scratch of the weight's length.</summary>
    public void BackwardInput(TiledConvPlan plan, int batch, ArrayView<float> gradOutput, ArrayView<float> weight,
        ArrayView<float> rearrangedWeights, ArrayView<float> gradInput)
    {
        const string operation = "TiledConvOps.BackwardInput";
        var c = plan.Conv.WithBatch(batch);
        CheckBatch(plan, batch, operation);
        ViewChecks.RequireLength(gradOutput, c.OutputLength, operation, nameof(gradOutput));
        ViewChecks.RequireLength(weight, c.WeightLength, operation, nameof(weight));
        ViewChecks.RequireLength(rearrangedWeights, c.WeightLength, operation, nameof(rearrangedWeights));
        ViewChecks.RequireLength(gradInput, c.InputLength, operation, nameof(gradInput));
        _rearrange((int)c.WeightLength, c, weight, rearrangedWeights);
        foreach (var (_, shape, offset) in plan.InputGradient)
        {
            var length = (long)shape.Cin * shape.Cout * shape.KH * shape.T;
            LaunchCorrelation(shape, batch, gradOutput, rearrangedWeights.SubView(offset, Math.Max(length, 1)), gradInput,
                ArrayView<float>.Empty);
        }
    }

    /// <summary>gradWeight = ∂L/∂weight summed over the batch, overwritten; <paramref name="partial"/> is scratch of
    /// <see cref="TiledConvPlan.PartialLength"/> floats.</summary>
    public void BackwardWeight(TiledConvPlan plan, int batch, ArrayView<float> input, ArrayView<float> gradOutput,
        ArrayView<float> partial, ArrayView<float> gradWeight)
    {
        const string operation = "TiledConvOps.BackwardWeight";
        var c = plan.Conv.WithBatch(batch);
        CheckBatch(plan, batch, operation);
        ViewChecks.RequireLength(input, c.InputLength, operation, nameof(input));
        ViewChecks.RequireLength(gradOutput, c.OutputLength, operation, nameof(gradOutput));
        ViewChecks.RequireLength(partial, plan.PartialLength, operation, nameof(partial));
        ViewChecks.RequireLength(gradWeight, c.WeightLength, operation, nameof(gradWeight));
        var s = plan.WeightGradient;
        _weightPartial(plan.WeightGradientPartial(batch).Config, SpecializedValue.New(s), input, gradOutput, partial);
        _reduce(plan.ReducePartials(batch).Config, partial, plan.ReduceSlices(batch), s.WeightLength, gradWeight);
    }

    private void LaunchCorrelation(CorrelationShape shape, int batch, ArrayView<float> input, ArrayView<float> weight,
        ArrayView<float> output, ArrayView<float> statistics) =>
        _correlate(TiledConvPlan.Correlation("correlation", shape, batch).Config, SpecializedValue.New(shape), input, weight, output, statistics);

    private static void CheckBatch(TiledConvPlan plan, int batch, string operation)
    {
        if (batch < 1 || batch > plan.Conv.N)
            throw new ArgumentOutOfRangeException(nameof(batch), $"{operation}: batch {batch} is outside 1..{plan.Conv.N}, the batch the plan was made for.");
        ViewChecks.RequireIndexable(plan.Conv.InputLength, operation);
        ViewChecks.RequireIndexable(plan.Conv.OutputLength, operation);
        ViewChecks.RequireIndexable(plan.PartialLength, operation);
    }
}
