using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Augmentation;
using EnvNet.Esc50Dataset.Datasets;

namespace EnvNet.Tests;

[TestClass]
public sealed class AugmentationStreamTests
{
    const int Classes = 5, SampleRate = 16000, InputLength = 3000, BatchSize = 6;

    static readonly TrainingAugmentation BetweenClass = new(BetweenClass: true);
    static readonly TrainingAugmentation Both = new(BetweenClass: true, StrongAugment: true);

    [TestMethod]
    public void BetweenClassRowsAreSoftOverTwoClassesWithFirstClipTakingTheRatio()
    {
        var clips = MakeClips(4);
        int examples = 0;
        foreach (var batch in Stream(clips, BetweenClass, seed: 3, epoch: 0))
        {
            for (int row = 0; row < batch.Count; row++, examples++)
            {
                var target = batch.Targets.AsSpan(row * Classes, Classes).ToArray();
                int[] nonZero = Enumerable.Range(0, Classes).Where(c => target[c] != 0).ToArray();
                Assert.AreEqual(2, nonZero.Length, $"example {examples}: target {string.Join(", ", target)}");
                // r and 1 − r are each rounded to float32: their sum is within one ulp of 1.
                Assert.AreEqual(1.0, target[nonZero[0]] + (double)target[nonZero[1]], 1e-7, $"example {examples}");
                int firstLabel = clips[batch.ClipIndices[row]].Label;
                CollectionAssert.Contains(nonZero, firstLabel, $"example {examples}");
                var input = batch.Inputs.AsSpan(row * InputLength, InputLength).ToArray();
                Assert.IsTrue(input.All(float.IsFinite) && input.Any(x => x != 0), $"example {examples}");
            }
        }
        Assert.AreEqual(clips.Count, examples);
    }

    [TestMethod]
    public void ExamplesFollowTheAuthorsOrderOfDraws()
    {
        // Rebuilds position p of the epoch from its own generator: partner, (scale, crop) of each clip, ratio, mix,
        // gain. The stream must give the same floats bit for bit.
        var clips = MakeClips(4);
        int[] labels = clips.Select(c => c.Label).ToArray();
        const int seed = 9, epoch = 2;
        int[] order = TrainingBatchStream.EpochOrder(clips.Count, seed, epoch);
        var batches = Snapshot(Stream(clips, Both, seed, epoch));
        for (int position = 0; position < clips.Count; position++)
        {
            var random = ExampleRandom.ForExample(seed, epoch, position);
            int first = order[position];
            int second = BetweenClassMixer.PickPartner(labels, first, ref random);
            float[] firstCrop = ScaledCrop(clips[first].Samples, ref random), secondCrop = ScaledCrop(clips[second].Samples, ref random);
            double ratio = random.NextDouble();
            var expectedInput = new float[InputLength];
            BetweenClassMixer.Mix(firstCrop, secondCrop, ratio, SampleRate, expectedInput);
            StrongAugmentation.ApplyGain(expectedInput, StrongAugmentation.DrawGainDecibels(ref random));
            var expectedTarget = new float[Classes];
            BetweenClassMixer.WriteSoftTarget(labels[first], labels[second], ratio, expectedTarget);

            var (inputs, targets) = batches[position / BatchSize];
            int row = position % BatchSize;
            CollectionAssert.AreEqual(expectedInput, inputs[(row * InputLength)..((row + 1) * InputLength)], $"input {position}");
            CollectionAssert.AreEqual(expectedTarget, targets[(row * Classes)..((row + 1) * Classes)], $"target {position}");
        }
    }

    [TestMethod]
    public void StreamIsDeterministicPerSeedAndEpochWhateverTheThreads()
    {
        var clips = MakeClips(3);
        var oneThread = Snapshot(Stream(clips, Both, seed: 5, epoch: 1, prefetch: 1, producerThreads: 1));
        var threeThreads = Snapshot(Stream(clips, Both, seed: 5, epoch: 1, prefetch: 3, producerThreads: 3));
        Assert.AreEqual(oneThread.Count, threeThreads.Count);
        for (int b = 0; b < oneThread.Count; b++)
        {
            CollectionAssert.AreEqual(oneThread[b].Inputs, threeThreads[b].Inputs, $"batch {b} inputs");
            CollectionAssert.AreEqual(oneThread[b].Targets, threeThreads[b].Targets, $"batch {b} targets");
        }
        var nextEpoch = Snapshot(Stream(clips, Both, seed: 5, epoch: 2, prefetch: 3, producerThreads: 3));
        CollectionAssert.AreNotEqual(oneThread[0].Targets, nextEpoch[0].Targets);
    }

    [TestMethod]
    public void StrongAugmentAloneKeepsOneHotTargets()
    {
        var clips = MakeClips(2);
        foreach (var batch in Stream(clips, new TrainingAugmentation(StrongAugment: true), seed: 1, epoch: 0))
            for (int row = 0; row < batch.Count; row++)
            {
                var target = batch.Targets.AsSpan(row * Classes, Classes).ToArray();
                Assert.AreEqual(1f, target[clips[batch.ClipIndices[row]].Label]);
                Assert.AreEqual(1f, target.Sum());
            }
    }

    [TestMethod]
    public void BetweenClassNeedsTwoClasses()
    {
        var clips = MakeClips(3).Where(c => c.Label == 2).ToList();
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => Stream(clips, BetweenClass, seed: 1, epoch: 0).Dispose());
        StringAssert.Contains(error.Message, "at least two classes");
    }

    /// <summary>Clips of different lengths, each a class-specific tone with a little noise, some shorter than a crop.</summary>
    static List<LoadedClip> MakeClips(int perClass)
    {
        var random = new Random(17);
        var clips = new List<LoadedClip>();
        for (int label = 0; label < Classes; label++)
            for (int k = 0; k < perClass; k++)
            {
                var samples = new float[1500 + random.Next(4000)];
                double amplitude = 0.05 + 0.5 * random.NextDouble();
                for (int i = 0; i < samples.Length; i++)
                    samples[i] = (float)(amplitude * Math.Sin(2 * Math.PI * 200 * (label + 1) * i / SampleRate) + 0.01 * (random.NextDouble() - 0.5));
                clips.Add(new LoadedClip(new DatasetClip($"clip{clips.Count}.wav", $"clip{clips.Count}.wav", label, Fold: 1), samples));
            }
        return clips;
    }

    static TrainingBatchStream Stream(IReadOnlyList<LoadedClip> clips, TrainingAugmentation augmentation, int seed, int epoch,
        int prefetch = 2, int producerThreads = 2) =>
        new(clips, Classes, BatchSize, InputLength, SampleRate, seed, epoch, augmentation, prefetch, producerThreads);

    /// <summary>Copies each batch out (the stream reuses its buffers) and disposes the stream.</summary>
    static List<(float[] Inputs, float[] Targets)> Snapshot(TrainingBatchStream stream)
    {
        using (stream)
            return stream.Select(b => (b.Inputs[..(b.Count * InputLength)], b.Targets[..(b.Count * Classes)])).ToList();
    }

    static float[] ScaledCrop(float[] clip, ref ExampleRandom random)
    {
        double scale = StrongAugmentation.DrawScale(ref random);
        var scaled = new float[StrongAugmentation.ScaledLength(clip.Length, scale)];
        StrongAugmentation.Scale(clip, scale, scaled);
        var crop = new float[InputLength];
        Crops.RandomCrop(scaled, InputLength, ref random, crop);
        return crop;
    }
}
