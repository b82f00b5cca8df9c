using EnvNet.Esc50Dataset;
using static EnvNet.Tests.Esc50TestData;

namespace EnvNet.Tests;

[TestClass]
public sealed class Esc50ClipStoreTests
{
    // Untrimmed, every 5 s clip of the sample at 16 kHz is 80000 samples: 220500 * 16000 / 44100 exactly, and the
    // resampler returns exactly that many (tolerance 2 samples, for the rounding of other rate ratios).
    [TestMethod]
    public void SampleClipsResampleToFiveSecondsAtSixteenKilohertz()
    {
        using var cache = new TempDir();
        var store = ClipStore.Load(Esc50Metadata.Load(SampleDir).ToDataset(), 16000, cache.Path, skipBad: false, trimSilence: false);
        Assert.AreEqual(10, store.Clips.Count);
        foreach (var clip in store.Clips)
        {
            Assert.AreEqual(80000, clip.Samples.Length, 2, clip.Info.Name);
            Assert.IsTrue(clip.Samples.All(s => s >= -1 && s <= 1), clip.Info.Name);
        }
    }

    // Cold load decodes and resamples every clip; the second load is a hit for every clip (counted by the store as it
    // reads each entry) and gives the same samples. How fast it is is not asserted: wall time depends on the machine.
    [TestMethod]
    public void SampleLoadsWithLabelsAndFoldsAndSecondLoadHitsTheCache()
    {
        using var cache = new TempDir();
        var metadata = Esc50Metadata.Load(SampleDir);
        var cold = ClipStore.Load(metadata.ToDataset(), 16000, cache.Path, skipBad: false);
        var warm = ClipStore.Load(metadata.ToDataset(), 16000, cache.Path, skipBad: false);

        Assert.AreEqual(0, cold.CacheHits);
        Assert.AreEqual(10, warm.CacheHits);
        for (int i = 0; i < cold.Clips.Count; i++)
            CollectionAssert.AreEqual(cold.Clips[i].Samples, warm.Clips[i].Samples);

        Assert.IsTrue(cold.Clips.All(c => c.Samples.Length is > 0 and <= 80000 && c.Samples[0] != 0 && c.Samples[^1] != 0));
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 2).SelectMany(l => Enumerable.Repeat(l, 5)).ToArray(),
            cold.Clips.Select(c => c.Label).ToArray());
        var (train, validation) = cold.Split(3);
        Assert.AreEqual(8, train.Count);
        Assert.AreEqual(2, validation.Count);
        Assert.IsTrue(validation.All(c => c.Info.Fold == 3) && train.All(c => c.Info.Fold != 3));
        Assert.AreEqual(2, validation.Select(c => c.Label).Distinct().Count());
    }

    // A damaged entry (one payload byte flipped) fails its checksum, is logged and rebuilt; a changed source
    // (new modification time) makes its entry stale and rebuilt.
    [TestMethod]
    public void DamagedOrStaleCacheEntryIsRebuilt()
    {
        using var data = new TempDir();
        using var cache = new TempDir();
        var tone = Wav(MonoFrames(Sine(440, 44100, 4410, 0.5)), 44100, FormatPcm, 16);
        Esc50Folder.Write(data.Path, [Esc50Folder.Row("1-1-A-0.wav", 1, 0, "tone"), Esc50Folder.Row("2-2-A-0.wav", 2, 0, "tone")],
            [("1-1-A-0.wav", tone), ("2-2-A-0.wav", tone)]);
        var metadata = Esc50Metadata.Load(data.Path);
        var first = ClipStore.Load(metadata.ToDataset(), 16000, cache.Path, skipBad: false);
        var entries = Directory.GetFiles(cache.Path, "*.clip");
        Assert.AreEqual(2, entries.Length);

        var damaged = entries.Single(e => Path.GetFileName(e).StartsWith("1-1-A-0"));
        var bytes = File.ReadAllBytes(damaged);
        bytes[bytes.Length - 100] ^= 0x40;
        File.WriteAllBytes(damaged, bytes);
        var log = new List<string>();
        var second = ClipStore.Load(metadata.ToDataset(), 16000, cache.Path, skipBad: false, log.Add);
        Assert.AreEqual(1, second.CacheHits);
        Assert.IsTrue(log.Any(l => l.Contains(damaged) && l.Contains("checksum mismatch")), string.Join("\n", log));
        CollectionAssert.AreEqual(first.Clips[0].Samples, second.Clips[0].Samples);
        Assert.AreEqual(2, ClipStore.Load(metadata.ToDataset(), 16000, cache.Path, skipBad: false).CacheHits);

        File.SetLastWriteTimeUtc(Path.Combine(data.Path, "audio", "2-2-A-0.wav"), DateTime.UtcNow.AddMinutes(-5));
        log.Clear();
        Assert.AreEqual(1, ClipStore.Load(metadata.ToDataset(), 16000, cache.Path, skipBad: false, log.Add).CacheHits);
        Assert.IsTrue(log.Any(l => l.Contains("is stale")), string.Join("\n", log));
        Assert.AreEqual(2, Directory.GetFiles(cache.Path).Length);
    }

    // Every kind of bad clip stops the load with its error, naming the file and CSV row; with skipBad each is logged
    // and counted, together with the rows the metadata skipped, and the good clips load.
    [TestMethod]
    public void BadClipsAreErrorsOrCountedWhenSkipped()
    {
        using var data = new TempDir();
        using var cache = new TempDir();
        var good = Wav(MonoFrames(Sine(440, 44100, 4410, 0.5)), 44100, FormatPcm, 16);
        var bad = new (string Expected, byte[] Bytes)[]
        {
            ("not a RIFF/WAVE file", "not audio at all"u8.ToArray()),
            ("truncated data chunk", good[..^10]),
            ("empty clip: the data chunk", Wav([], 1, 44100, FormatPcm, 16)),
            ("empty clip: every sample is digital silence", Wav(new byte[400], 1, 44100, FormatPcm, 16)),
            ("is NaN", Wav(MonoFrames([0.5f, float.NaN]), 44100, FormatFloat, 32)),
            ("is -Infinity", Wav(MonoFrames([float.NegativeInfinity]), 44100, FormatFloat, 32)),
            ("unsupported encoding", Wav(new byte[40], 1, 44100, 6, 8)),
        };
        var files = bad.Select((b, i) => ($"1-{10 + i}-A-0.wav", b.Bytes)).Append(("1-1-A-0.wav", good)).ToArray();
        var rows = files.Select(f => Esc50Folder.Row(f.Item1, 1, 0, "tone")).Append(Esc50Folder.Row("1-99-A-0.wav", 1, 0, "tone")).ToArray();
        Esc50Folder.Write(data.Path, rows, files);

        var log = new List<string>();
        var metadata = Esc50Metadata.Load(data.Path, skipBad: true, log.Add);
        StringAssert.Contains(Assert.ThrowsExactly<DatasetException>(() => ClipStore.Load(metadata.ToDataset(), 16000, cache.Path, skipBad: false)).Message,
            "1-10-A-0.wav: not a RIFF/WAVE file");

        var store = ClipStore.Load(metadata.ToDataset(), 16000, cache.Path, skipBad: true, log.Add);
        Assert.AreEqual(1, store.Clips.Count);
        Assert.AreEqual(bad.Length + 1, store.SkippedCount);
        StringAssert.Contains(store.SkippedReasons[0], "1-99-A-0.wav does not exist");
        for (int i = 0; i < bad.Length; i++)
        {
            StringAssert.Contains(store.SkippedReasons[i + 1], $"1-{10 + i}-A-0.wav: ");
            StringAssert.Contains(store.SkippedReasons[i + 1], bad[i].Expected);
            StringAssert.Contains(store.SkippedReasons[i + 1], $"esc50.csv row {i + 2})");
        }
        Assert.AreEqual(bad.Length + 1, log.Count(l => l.StartsWith("skipping bad")));
    }
}
