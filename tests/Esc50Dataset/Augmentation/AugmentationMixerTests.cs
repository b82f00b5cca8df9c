using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Augmentation;
using EnvNet.Tests.References;

namespace EnvNet.Tests;

[TestClass]
public sealed class AugmentationMixerTests
{
    [TestMethod]
    public void EqualGainsWeighByTheRatio()
    {
        foreach (double r in new[] { 0.0, 0.1, 0.5, 0.9, 1.0 })
            Assert.AreEqual(r, BetweenClassMixer.FirstWeight(42, 42, r), 1e-15);
    }

    [TestMethod]
    public void WeightMakesPerceivedRatioTheMixingRatio()
    {
        // The definition of p: p·10^(g1/20) : (1 − p)·10^(g2/20) = r : (1 − r).
        var random = new Random(5);
        for (int trial = 0; trial < 100; trial++)
        {
            double g1 = random.NextDouble() * 100 - 80, g2 = random.NextDouble() * 100 - 80, r = 0.01 + 0.98 * random.NextDouble();
            double p = BetweenClassMixer.FirstWeight(g1, g2, r);
            double perceived = p * Math.Pow(10, g1 / 20) / ((1 - p) * Math.Pow(10, g2 / 20));
            Assert.AreEqual(r / (1 - r), perceived, 1e-9 * r / (1 - r));
        }
    }

    [TestMethod]
    public void MixOfTwoSinesMatchesFormula()
    {
        // Two on-bin sines at 16 kHz (bins 128 and 64 of 2048: 1 kHz and 500 Hz), whose gains have a closed form.
        const int sampleRate = 16000, n = 2048, length = 3 * n;
        const double a1 = 0.05, a2 = 0.6, r = 0.3;
        float[] x1 = AugmentationAWeightingTests.Sine(1000, a1, sampleRate, length);
        float[] x2 = AugmentationAWeightingTests.Sine(500, a2, sampleRate, length);
        double g1 = AugmentationReference.OnBinSineGainDecibels(a1, 128, n, sampleRate);
        double g2 = AugmentationReference.OnBinSineGainDecibels(a2, 64, n, sampleRate);
        double p = 1 / (1 + Math.Pow(10, (g1 - g2) / 20) * (1 - r) / r);
        double norm = Math.Sqrt(p * p + (1 - p) * (1 - p));

        var mixed = new float[length];
        BetweenClassMixer.Mix(x1, x2, r, sampleRate, mixed);

        for (int i = 0; i < length; i++)
        {
            double expected = (p * x1[i] + (1 - p) * x2[i]) / norm;
            // Output is float32 of values below 1: rounding 6e-8; the gains' ~1e-6 dB error moves p by ~1e-7.
            Assert.AreEqual(expected, mixed[i], 1e-6, $"sample {i}");
        }
    }

    [TestMethod]
    public void MixRejectsUnequalLengths()
    {
        Assert.ThrowsExactly<ArgumentException>(() => BetweenClassMixer.Mix(new float[10], new float[11], 0.5, 16000, new float[10]));
    }

    [TestMethod]
    public void SoftTargetPutsRatioOnFirstClassAndRestOnSecond()
    {
        var row = new float[5];
        Array.Fill(row, 7f);
        BetweenClassMixer.WriteSoftTarget(3, 1, 0.25, row);
        CollectionAssert.AreEqual(new[] { 0f, 0.75f, 0f, 0.25f, 0f }, row);
        Assert.ThrowsExactly<ArgumentException>(() => BetweenClassMixer.WriteSoftTarget(2, 2, 0.5, row));
    }

    [TestMethod]
    public void PartnerHasAnotherClassAndIsDrawnUniformly()
    {
        int[] labels = [0, 0, 1, 2, 0, 2];
        var counts = new int[labels.Length];
        var random = ExampleRandom.ForExample(11, 0, 0);
        for (int trial = 0; trial < 3000; trial++) counts[BetweenClassMixer.PickPartner(labels, 1, ref random)]++;
        // Each of the three clips of another class gets a third of 3000; 5 sigma of a binomial(3000, 1/3) is 130.
        foreach (int sameClass in new[] { 0, 1, 4 }) Assert.AreEqual(0, counts[sameClass]);
        foreach (int partner in new[] { 2, 3, 5 }) Assert.AreEqual(1000, counts[partner], 130);
    }

    [TestMethod]
    public void PartnerIsDeterministicPerSeed()
    {
        int[] labels = [0, 1, 2, 3, 4, 0, 1, 2, 3, 4];
        int[] Draws(int seed)
        {
            var random = ExampleRandom.ForExample(seed, 0, 0);
            var partners = new int[50];
            for (int i = 0; i < partners.Length; i++) partners[i] = BetweenClassMixer.PickPartner(labels, i % labels.Length, ref random);
            return partners;
        }
        CollectionAssert.AreEqual(Draws(3), Draws(3));
        CollectionAssert.AreNotEqual(Draws(3), Draws(4));
    }

    [TestMethod]
    public void PartnerNeedsTwoClasses()
    {
        var error = Assert.ThrowsExactly<InvalidOperationException>(() =>
        {
            var random = ExampleRandom.ForExample(1, 0, 0);
            BetweenClassMixer.PickPartner([4, 4, 4], 0, ref random);
        });
        StringAssert.Contains(error.Message, "at least two classes");
    }
}
