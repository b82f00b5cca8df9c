using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Augmentation;

namespace EnvNet.Tests;

[TestClass]
public sealed class AugmentationStrongTests
{
    static readonly Comparer<float> Within1e6 = Comparer<float>.Create((a, b) => Math.Abs(a - b) < 1e-6f ? 0 : a.CompareTo(b));

    [TestMethod]
    public void DrawnScalesAndGainsStayInRangeAndReachItsEnds()
    {
        var random = ExampleRandom.ForExample(21, 0, 0);
        double minScale = double.MaxValue, maxScale = 0, minGain = double.MaxValue, maxGain = double.MinValue;
        for (int i = 0; i < 10000; i++)
        {
            double scale = StrongAugmentation.DrawScale(ref random), gain = StrongAugmentation.DrawGainDecibels(ref random);
            (minScale, maxScale) = (Math.Min(minScale, scale), Math.Max(maxScale, scale));
            (minGain, maxGain) = (Math.Min(minGain, gain), Math.Max(maxGain, gain));
        }
        Assert.IsTrue(minScale >= 0.8 && maxScale <= 1.25, $"scale range [{minScale}, {maxScale}]");
        Assert.IsTrue(minGain >= -6 && maxGain <= 6, $"gain range [{minGain}, {maxGain}]");
        // With 10000 uniform draws of u, the extreme u lies within 1e-3 of each end with probability 1 − 5e-5.
        Assert.IsTrue(minScale < 0.801 && maxScale > 1.249, $"scale range [{minScale}, {maxScale}] misses its ends");
        Assert.IsTrue(minGain < -5.99 && maxGain > 5.99, $"gain range [{minGain}, {maxGain}] misses its ends");
    }

    [TestMethod]
    public void ScaleInterpolatesLinearlyAndHoldsTheLastSample()
    {
        // A ramp is reproduced exactly by linear interpolation: sample i becomes i / scale, clamped at the last sample.
        float[] ramp = [0, 1, 2, 3];
        CollectionAssert.AreEqual(new[] { 0f, 0.8f, 1.6f, 2.4f, 3f }, Scaled(ramp, 1.25), Within1e6);
        CollectionAssert.AreEqual(new[] { 0f, 1.25f, 2.5f }, Scaled(ramp, 0.8), Within1e6);
        CollectionAssert.AreEqual(ramp, Scaled(ramp, 1.0));
    }

    [TestMethod]
    public void ScaledLengthIsFloorOfLengthTimesScale()
    {
        foreach (double scale in new[] { 0.8, 0.9137, 1.0, 1.17, 1.25 })
            Assert.AreEqual((int)(1001 * scale), StrongAugmentation.ScaledLength(1001, scale), $"scale {scale}");
        Assert.AreEqual(1, StrongAugmentation.ScaledLength(1, 0.8));
        Assert.ThrowsExactly<ArgumentException>(() => StrongAugmentation.Scale(new float[10], 1.25, new float[10]));
    }

    [TestMethod]
    public void GainMultipliesByDecibelFactor()
    {
        float[] sound = [0.5f, -0.25f, 0f];
        StrongAugmentation.ApplyGain(sound, 6);
        double factor = Math.Pow(10, 6 / 20.0);
        CollectionAssert.AreEqual(new[] { (float)(0.5 * factor), (float)(-0.25 * factor), 0f }, sound, Within1e6);
    }

    [TestMethod]
    public void RandomAugmentationIsDeterministicPerSeed()
    {
        float[] sound = AugmentationAWeightingTests.Sine(440, 0.5, 16000, 4000);
        float[] Augment(int seed)
        {
            var random = ExampleRandom.ForExample(seed, 0, 0);
            float[] scaled = Scaled(sound, StrongAugmentation.DrawScale(ref random));
            StrongAugmentation.ApplyGain(scaled, StrongAugmentation.DrawGainDecibels(ref random));
            return scaled;
        }
        CollectionAssert.AreEqual(Augment(8), Augment(8));
        CollectionAssert.AreNotEqual(Augment(8), Augment(9));
    }

    static float[] Scaled(float[] sound, double scale)
    {
        var scaled = new float[StrongAugmentation.ScaledLength(sound.Length, scale)];
        StrongAugmentation.Scale(sound, scale, scaled);
        return scaled;
    }
}
