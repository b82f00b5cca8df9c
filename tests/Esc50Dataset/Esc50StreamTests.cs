using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Datasets;

namespace EnvNet.Tests;

[TestClass]
public sealed class Esc50StreamTests
{
    private const int Classes = 4;
    private const int InputLength = 64;

    // 23 clips of different lengths (some shorter than a window), labels cycling over 4 classes; sample values
    // encode the clip and position so a crop shows where it came from.
    private static readonly LoadedClip[] Clips = Enumerable.Range(0, 23).Select(i => new LoadedClip(
        new DatasetClip($"1-{i}-A-{i % Classes}.wav", $"1-{i}-A-{i % Classes}.wav", i % Classes, 1 + i % 5),
        Enumerable.Range(0, 30 + 11 * i).Select(j => i + 1 + j / 1000f).ToArray())).ToArray();

    private static List<(float[] Inputs, float[] Targets, int[] Clips)> Epoch(int seed, int epoch, int batchSize, int prefetch, int threads)
    {
        using var stream = new TrainingBatchStream(Clips, Classes, batchSize, InputLength, 16000, seed, epoch, TrainingAugmentation.None, prefetch, threads);
        return stream.Select(b => (b.Inputs[..(b.Count * InputLength)], b.Targets[..(b.Count * Classes)], b.ClipIndices[..b.Count])).ToList();
    }

    [TestMethod]
    public void EveryClipAppearsOncePerEpochWithItsOneHotTarget()
    {
        var batches = Epoch(1, 0, 5, 3, 2);
        CollectionAssert.AreEqual(new[] { 5, 5, 5, 5, 3 }, batches.Select(b => b.Clips.Length).ToArray());
        CollectionAssert.AreEquivalent(Enumerable.Range(0, Clips.Length).ToArray(), batches.SelectMany(b => b.Clips).ToArray());
        foreach (var (inputs, targets, clips) in batches)
            for (int row = 0; row < clips.Length; row++)
            {
                var clip = Clips[clips[row]];
                var target = targets[(row * Classes)..((row + 1) * Classes)];
                CollectionAssert.AreEqual(Enumerable.Range(0, Classes).Select(c => c == clip.Label ? 1f : 0f).ToArray(), target);
                var input = inputs[(row * InputLength)..((row + 1) * InputLength)];
                Assert.IsTrue(input.All(v => v == 0 || (int)v == clips[row] + 1), "the crop comes from its own clip and padding");
                Assert.IsTrue(input.Any(v => v != 0), "a crop of the padded clip always holds some of the clip");
            }
    }

    [TestMethod]
    public void BatchesDependOnSeedAndEpochOnlyNotOnPrefetchOrThreads()
    {
        var reference = Epoch(5, 2, 4, 1, 1);
        foreach (var (prefetch, threads) in new[] { (2, 2), (6, 3), (8, 0) })
        {
            var other = Epoch(5, 2, 4, prefetch, threads);
            Assert.AreEqual(reference.Count, other.Count);
            for (int b = 0; b < reference.Count; b++)
            {
                CollectionAssert.AreEqual(reference[b].Inputs, other[b].Inputs, $"prefetch {prefetch} threads {threads} batch {b}");
                CollectionAssert.AreEqual(reference[b].Targets, other[b].Targets);
                CollectionAssert.AreEqual(reference[b].Clips, other[b].Clips);
            }
        }
    }

    [TestMethod]
    public void EpochsAndSeedsShuffleDifferently()
    {
        int[] Order(int seed, int epoch) => Epoch(seed, epoch, 4, 2, 1).SelectMany(b => b.Clips).ToArray();
        var first = Order(5, 0);
        CollectionAssert.AreNotEqual(first, Order(5, 1));
        CollectionAssert.AreNotEqual(first, Order(6, 0));
        CollectionAssert.AreEqual(first, TrainingBatchStream.EpochOrder(Clips.Length, 5, 0));
    }

    // Buffers come from a pool of prefetch + 1 batches, reused across the epoch.
    [TestMethod]
    public void BatchBuffersAreReused()
    {
        using var stream = new TrainingBatchStream(Clips, Classes, 2, InputLength, 16000, 1, 0, TrainingAugmentation.None, prefetch: 2);
        var buffers = new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        int batches = 0;
        foreach (var batch in stream)
        {
            buffers.Add(batch.Inputs);
            Assert.AreEqual(batches++, batch.Index);
        }
        Assert.AreEqual(12, batches);
        Assert.IsTrue(buffers.Count <= 3, $"{buffers.Count} buffers");
        Assert.ThrowsExactly<InvalidOperationException>(() => stream.GetEnumerator());
    }

    [TestMethod]
    public void DisposingMidEpochStopsTheProducers()
    {
        var stream = new TrainingBatchStream(Clips, Classes, 1, InputLength, 16000, 1, 0, TrainingAugmentation.None, prefetch: 2, producerThreads: 2);
        using (var batches = stream.GetEnumerator())
            Assert.IsTrue(batches.MoveNext());
        stream.Dispose();
    }

    [TestMethod]
    public void BadArgumentsAreRefused()
    {
        Assert.ThrowsExactly<DatasetException>(() => new TrainingBatchStream(Clips, 3, 4, InputLength, 16000, 1, 0, TrainingAugmentation.None));
    }
}
