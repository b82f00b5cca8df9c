using System.Text.RegularExpressions;
using EnvNet.Esc50Dataset;

namespace EnvNet.Tests;

[TestClass]
public sealed class Esc50SyntheticTests
{
    [TestMethod]
    public void SyntheticDatasetHasTheEsc50LayoutAndLoadsBack()
    {
        using var dir = new TempDir();
        SyntheticEsc50.Write(dir.Path, classes: 5, clipsPerClassPerFold: 1, seed: 3);

        Assert.AreEqual(string.Join(",", Esc50Metadata.Columns), File.ReadLines(Path.Combine(dir.Path, "meta", "esc50.csv")).First());
        var metadata = Esc50Metadata.Load(dir.Path);
        Assert.AreEqual(25, metadata.Clips.Count);
        CollectionAssert.AreEqual(SyntheticEsc50.Families.ToArray(), metadata.ClassNames.ToArray());
        foreach (var group in metadata.Clips.GroupBy(c => (c.Fold, c.Target)))
            Assert.AreEqual(1, group.Count());
        foreach (var clip in metadata.Clips)
        {
            var name = Regex.Match(clip.FileName, @"^(\d)-(\d+)-([A-Z])-(\d+)\.wav$");
            Assert.IsTrue(name.Success, clip.FileName);
            Assert.AreEqual($"{clip.Fold}|{clip.SourceFile}|{clip.Take}|{clip.Target}", $"{name.Groups[1]}|{name.Groups[2]}|{name.Groups[3]}|{name.Groups[4]}");
            Assert.IsTrue(clip.Esc10);
        }
        StringAssert.Contains(Assert.ThrowsExactly<DatasetException>(() => metadata.Esc10()).Message, "cover 5 classes, expected 10");

        var audio = metadata.Clips.Select(c => AudioDecoder.Decode(metadata.AudioPath(c))).ToArray();
        Assert.IsTrue(audio.All(a => a is { SampleRate: 44100, Channels: 1, Format: "PCM 16-bit", Samples.Length: 220500 }));
        int withSilence = audio.Count(a => a.Samples[0] == 0 && a.Samples[^1] == 0);
        Assert.IsTrue(withSilence is >= 3 and <= 22, $"{withSilence} of 25 clips have silent edges (half expected)");

        using var cache = new TempDir();
        var store = ClipStore.Load(metadata.ToDataset(), 16000, cache.Path, skipBad: false);
        Assert.AreEqual(25, store.Clips.Count);
        Assert.IsTrue(store.Clips.Count(c => c.Samples.Length < 79000) >= withSilence, "silent edges are trimmed");
    }

    [TestMethod]
    public void SameSeedWritesTheSameFiles()
    {
        using var first = new TempDir();
        using var second = new TempDir();
        using var third = new TempDir();
        SyntheticEsc50.Write(first.Path, 3, 1, seed: 9);
        SyntheticEsc50.Write(second.Path, 3, 1, seed: 9);
        SyntheticEsc50.Write(third.Path, 3, 1, seed: 10);
        var files = Directory.GetFiles(first.Path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(first.Path, f)).Order().ToArray();
        Assert.AreEqual(16, files.Length);
        foreach (var file in files)
            CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(first.Path, file)), File.ReadAllBytes(Path.Combine(second.Path, file)), file);
        var audio = files.First(f => f.EndsWith(".wav"));
        CollectionAssert.AreNotEqual(File.ReadAllBytes(Path.Combine(first.Path, audio)), File.ReadAllBytes(Path.Combine(third.Path, audio)));
    }

    [TestMethod]
    public void FiftyClassesGetDistinctNames()
    {
        var names = Enumerable.Range(0, 50).Select(t => SyntheticEsc50.CategoryName(t, 50)).ToArray();
        Assert.AreEqual(50, names.Distinct().Count());
        Assert.AreEqual("chirp_2", names[11]);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SyntheticEsc50.Write("unused", 51, 1, 0));
    }
}
