using System.Buffers;
using System.Collections;
using EnvNet.Esc50Dataset.Augmentation;

namespace EnvNet.Esc50Dataset;

/// <summary>
/// Which training augmentations the stream applies on top of the random crop (Tokozume, Ushiku &amp; Harada, ICLR 2018).
/// Both are off by default. BetweenClass: each example mixes crops of two clips of different classes
/// (<see cref="BetweenClassMixer"/>) and its target row is soft. StrongAugment: each clip is scaled in time before
/// padding and cropping, and each example's gain is changed after cropping and mixing (<see cref="StrongAugmentation"/>).
/// </summary>
public sealed record TrainingAugmentation(bool BetweenClass = false, bool StrongAugment = false)
{
    public static TrainingAugmentation None { get; } = new();
}

/// <summary>
/// One batch: <see cref="Count"/> examples of inputLength samples and one target row of Classes probabilities each
/// (one-hot for plain examples). The arrays are sized for a full batch and reused: a batch is valid until the
/// enumerator moves past it.
/// </summary>
public sealed class TrainingBatch
{
    internal TrainingBatch(int batchSize, int inputLength, int classes)
    {
        Inputs = new float[batchSize * inputLength];
        Targets = new float[batchSize * classes];
        ClipIndices = new int[batchSize];
    }

    /// <summary>Count x inputLength samples, row-major (rows past Count are stale).</summary>
    public float[] Inputs { get; }

    /// <summary>Count x classes probabilities, row-major.</summary>
    public float[] Targets { get; }

    /// <summary>For each example, the index in the stream's clip list of the clip it was cropped from (with between-class
    /// mixing, the first of its two clips, whose share of the target is the ratio).</summary>
    public int[] ClipIndices { get; }

    public int Count { get; internal set; }

    /// <summary>Position of this batch in the epoch, from 0.</summary>
    public int Index { get; internal set; }
}

/// <summary>
/// One epoch of training batches, produced on background threads while the caller trains on the previous ones.
/// The epoch's order is a shuffle drawn from (seed, epoch) and each example's crop from (seed, epoch, position),
/// so the batches are the same whatever the prefetch depth, thread count or scheduling; every clip appears once
/// per epoch and the last batch keeps the remainder. At most <c>prefetch</c> batches wait ready; their buffers
/// come from a pool of prefetch + 1 that is reused, not reallocated. Enumerate once, then dispose.
/// </summary>
public sealed class TrainingBatchStream : IDisposable, IEnumerable<TrainingBatch>
{
    private readonly IReadOnlyList<LoadedClip> clips;
    private readonly int[] labels;
    private readonly int[] order;
    private readonly int seed;
    private readonly int epoch;
    private readonly Thread[] producers;
    private readonly SemaphoreSlim freeSlots;
    private readonly Stack<TrainingBatch> pool = new();
    private readonly Dictionary<int, TrainingBatch> ready = new();
    private readonly object gate = new();
    private readonly CancellationTokenSource stop = new();
    private int nextToProduce;
    private Exception? failure;
    private bool enumerated;
    private bool disposed;

    public TrainingBatchStream(IReadOnlyList<LoadedClip> clips, int classes, int batchSize, int inputLength, int sampleRate,
        int seed, int epoch, TrainingAugmentation augmentation, int prefetch = 4, int producerThreads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(prefetch);
        ArgumentOutOfRangeException.ThrowIfNegative(producerThreads);
        if (clips.Count == 0)
            throw new ArgumentException("no training clips", nameof(clips));
        foreach (var clip in clips)
        {
            if (clip.Label < 0 || clip.Label >= classes)
                throw new DatasetException($"{clip.Info.Name}: label {clip.Label} is outside 0..{classes - 1}");
            if (clip.Samples.Length == 0)
                throw new DatasetException($"{clip.Info.Name}: empty clip cannot be cropped");
        }

        this.clips = clips;
        labels = clips.Select(clip => clip.Label).ToArray();
        if (augmentation.BetweenClass)
            BetweenClassMixer.CheckTwoClasses(labels);
        this.seed = seed;
        this.epoch = epoch;
        Classes = classes;
        BatchSize = batchSize;
        InputLength = inputLength;
        SampleRate = sampleRate;
        Augmentation = augmentation;
        BatchCount = (clips.Count + batchSize - 1) / batchSize;
        order = EpochOrder(clips.Count, seed, epoch);

        for (int i = 0; i < prefetch + 1; i++)
            pool.Push(new TrainingBatch(batchSize, inputLength, classes));
        freeSlots = new SemaphoreSlim(prefetch, prefetch);
        // More producers than slots would only wait; one core is left to the thread that drives the device.
        int threads = producerThreads > 0 ? producerThreads : Environment.ProcessorCount - 1;
        producers = new Thread[Math.Clamp(threads, 1, Math.Min(prefetch, BatchCount))];
        for (int t = 0; t < producers.Length; t++)
        {
            producers[t] = new Thread(Produce) { IsBackground = true, Name = $"TrainingBatchStream producer {t}" };
            producers[t].Start();
        }
    }

    public int Classes { get; }
    public int BatchSize { get; }
    public int InputLength { get; }
    public int SampleRate { get; }
    public TrainingAugmentation Augmentation { get; }
    public int BatchCount { get; }
    public int ExampleCount => clips.Count;

    /// <summary>The epoch's order of clip indices: a Fisher-Yates shuffle drawn from (seed, epoch).</summary>
    public static int[] EpochOrder(int count, int seed, int epoch)
    {
        var order = Enumerable.Range(0, count).ToArray();
        var random = ExampleRandom.ForEpoch(seed, epoch);
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    public IEnumerator<TrainingBatch> GetEnumerator()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (enumerated)
                throw new InvalidOperationException("a TrainingBatchStream is enumerated once; create one per epoch");
            enumerated = true;
        }
        return Consume();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private IEnumerator<TrainingBatch> Consume()
    {
        for (int index = 0; index < BatchCount; index++)
        {
            TrainingBatch batch;
            lock (gate)
            {
                while (!ready.Remove(index, out batch!))
                {
                    if (failure is not null)
                        throw new InvalidOperationException($"producing training batch {index} failed: {failure.Message}", failure);
                    ObjectDisposedException.ThrowIf(disposed, this);
                    Monitor.Wait(gate);
                }
            }
            try
            {
                yield return batch;
            }
            finally
            {
                bool open;
                lock (gate)
                {
                    pool.Push(batch);
                    open = !disposed;
                }
                if (open)
                    freeSlots.Release();
            }
        }
    }

    private void Produce()
    {
        try
        {
            while (true)
            {
                freeSlots.Wait(stop.Token);
                int index = Interlocked.Increment(ref nextToProduce) - 1;
                if (index >= BatchCount)
                    return;
                TrainingBatch batch;
                lock (gate)
                    batch = pool.Pop();
                Fill(batch, index);
                lock (gate)
                {
                    ready.Add(index, batch);
                    Monitor.PulseAll(gate);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // disposed: stop producing
        }
        catch (Exception e)
        {
            lock (gate)
            {
                failure ??= e;
                Monitor.PulseAll(gate);
            }
        }
    }

    private void Fill(TrainingBatch batch, int index)
    {
        int first = index * BatchSize;
        batch.Index = index;
        batch.Count = Math.Min(BatchSize, clips.Count - first);
        for (int row = 0; row < batch.Count; row++)
        {
            int position = first + row;
            FillExample(position, batch.Inputs.AsSpan(row * InputLength, InputLength), batch.Targets.AsSpan(row * Classes, Classes));
            batch.ClipIndices[row] = order[position];
        }
    }

    /// <summary>
    /// One example of the epoch, every random choice drawn from its own generator in the authors' order: without
    /// between-class mixing, a random crop of its clip and a one-hot target; with it, a partner clip of another
    /// class, a crop of each, the ratio r, their mix and the soft target (r, 1 − r); with strong augmentation, each
    /// crop is taken from the clip scaled in time, and last the example's gain is changed.
    /// </summary>
    private void FillExample(int position, Span<float> input, Span<float> target)
    {
        var random = ExampleRandom.ForExample(seed, epoch, position);
        int clipIndex = order[position];
        if (Augmentation.BetweenClass)
        {
            FillMixedExample(clipIndex, ref random, input, target);
        }
        else
        {
            Crop(clips[clipIndex], ref random, input);
            target.Clear();
            target[labels[clipIndex]] = 1f;
        }
        if (Augmentation.StrongAugment)
            StrongAugmentation.ApplyGain(input, StrongAugmentation.DrawGainDecibels(ref random));
    }

    private void FillMixedExample(int first, ref ExampleRandom random, Span<float> input, Span<float> target)
    {
        int second = BetweenClassMixer.PickPartner(labels, first, ref random);
        float[] crops = ArrayPool<float>.Shared.Rent(2 * InputLength);
        try
        {
            var firstCrop = crops.AsSpan(0, InputLength);
            var secondCrop = crops.AsSpan(InputLength, InputLength);
            Crop(clips[first], ref random, firstCrop);
            Crop(clips[second], ref random, secondCrop);
            double ratio = random.NextDouble();
            BetweenClassMixer.Mix(firstCrop, secondCrop, ratio, SampleRate, input);
            BetweenClassMixer.WriteSoftTarget(labels[first], labels[second], ratio, target);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(crops);
        }
    }

    /// <summary>A random crop of the padded clip; with strong augmentation, of the clip scaled in time first.</summary>
    private void Crop(LoadedClip clip, ref ExampleRandom random, Span<float> destination)
    {
        if (!Augmentation.StrongAugment)
        {
            Crops.RandomCrop(clip.Samples, InputLength, ref random, destination);
            return;
        }
        double scale = StrongAugmentation.DrawScale(ref random);
        int scaledLength = StrongAugmentation.ScaledLength(clip.Samples.Length, scale);
        float[] scaled = ArrayPool<float>.Shared.Rent(scaledLength);
        try
        {
            StrongAugmentation.Scale(clip.Samples, scale, scaled.AsSpan(0, scaledLength));
            Crops.RandomCrop(scaled.AsSpan(0, scaledLength), InputLength, ref random, destination);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scaled);
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
                return;
            disposed = true;
            Monitor.PulseAll(gate);
        }
        stop.Cancel();
        foreach (var producer in producers)
            producer.Join();
        stop.Dispose();
        freeSlots.Dispose();
    }
}
