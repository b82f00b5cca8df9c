using EnvNet.Esc50Dataset;

namespace EnvNet.Tests;

[TestClass]
public sealed class Esc50CropsTests
{
    private static readonly float[] Clip = Enumerable.Range(1, 25).Select(i => (float)i).ToArray();

    [TestMethod]
    public void PaddingPutsHalfAWindowOfZerosOnEachSide()
    {
        var padded = Crops.PadForCropping(Clip, 10);
        Assert.AreEqual(35, padded.Length);
        Assert.IsTrue(padded[..5].All(v => v == 0) && padded[^5..].All(v => v == 0));
        CollectionAssert.AreEqual(Clip, padded[5..30]);
        Assert.AreEqual(25 + 2 * 4, Crops.PadForCropping(Clip, 9).Length);
    }

    // Every start of the padded clip, including the first and the last, gives the same window as slicing the
    // materialised padded clip; an odd input length pads (L-1)/2 on each side.
    [TestMethod]
    [DataRow(10)]
    [DataRow(9)]
    [DataRow(40)]
    public void CropOfThePaddedClipMatchesSlicingIt(int inputLength)
    {
        var padded = Crops.PadForCropping(Clip, inputLength);
        var window = new float[inputLength];
        for (int start = 0; start <= padded.Length - inputLength; start++)
        {
            Crops.CropPadded(Clip, inputLength, start, window);
            CollectionAssert.AreEqual(padded[start..(start + inputLength)], window, $"start {start}");
        }
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Crops.CropPadded(Clip, inputLength, padded.Length - inputLength + 1, window));
    }

    // Random starts are uniform over [0, padded - L]: with 4000 draws over 26 starts every start appears, and a
    // generator rebuilt from the same (seed, epoch, position) gives the same crop.
    [TestMethod]
    public void RandomCropsCoverEveryStartAndRepeatPerSeed()
    {
        var seen = new int[26];
        var window = new float[10];
        for (int position = 0; position < 4000; position++)
        {
            var random = ExampleRandom.ForExample(7, 0, position);
            int start = Crops.RandomCrop(Clip, 10, ref random, window);
            seen[start]++;
            var again = ExampleRandom.ForExample(7, 0, position);
            Assert.AreEqual(start, Crops.RandomCrop(Clip, 10, ref again, new float[10]));
        }
        Assert.IsTrue(seen.All(n => n > 80), string.Join(",", seen)); // expected 154 each
        var other = ExampleRandom.ForExample(8, 0, 0);
        var same = ExampleRandom.ForExample(7, 0, 0);
        Assert.AreNotEqual(same.NextUInt64(), other.NextUInt64());
    }

    // The authors' multi_crop: stride = (length - L) / (crops - 1) rounded down, starts i * stride.
    [TestMethod]
    public void TestCropsAreEvenlySpaced()
    {
        CollectionAssert.AreEqual(new[] { 0, 10, 20, 30, 40, 50, 60, 70, 80, 90 }, Crops.TestCropStarts(100, 10, 10));
        CollectionAssert.AreEqual(new[] { 0, 3, 6 }, Crops.TestCropStarts(17, 10, 3));
        var padded = Crops.PadForCropping(Clip, 10);
        var crops = Crops.TestCrops(padded, 10, 4);
        Assert.AreEqual(4 * 10, crops.Length);
        for (int i = 0; i < 4; i++)
            CollectionAssert.AreEqual(padded[(i * 8)..(i * 8 + 10)], crops[(i * 10)..(i * 10 + 10)], $"crop {i}");
        CollectionAssert.AreEqual(crops, Crops.PaddedTestCrops(Clip, 10, 4));
        Assert.AreEqual(10 * 10, Crops.PaddedTestCrops(Clip, 10).Length);
    }

    [TestMethod]
    public void EveryClipGetsAllItsCropsAndUnpaddedShortClipsAreRefused()
    {
        // As the authors' multi_crop: a stride of 0 repeats the window, so every clip is averaged over as many crops.
        var window = Clip[..10];
        CollectionAssert.AreEqual(Enumerable.Repeat(window, 10).SelectMany(w => w).ToArray(), Crops.TestCrops(window, 10, 10));
        CollectionAssert.AreEqual(new int[10], Crops.TestCropStarts(12, 10, 10));
        var shortClip = new float[] { 0.5f, -0.5f, 0.25f }; // far shorter than the input: centred in the padding
        var crops = Crops.PaddedTestCrops(shortClip, 10, 4);
        Assert.AreEqual(4 * 10, crops.Length);
        CollectionAssert.AreEqual(new float[] { 0, 0, 0, 0, 0, 0.5f, -0.5f, 0.25f, 0, 0 }, crops[..10]);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => Crops.TestCrops(Clip[..9], 10, 10)).Message, "PadForCropping");
    }
}
