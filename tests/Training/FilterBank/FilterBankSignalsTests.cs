using EnvNet.Training.FilterBank;

namespace EnvNet.Tests;

/// <summary>The probe's pure parts: tones, centre frequencies and ranks, mel centres and how mel-like a bank is.</summary>
[TestClass]
public sealed class FilterBankSignalsTests
{
    [TestMethod]
    public void DefaultSweepIs200LogSpacedTonesFrom10HzToNyquist()
    {
        var sweep = ToneSweep.LogSpaced(16000, 1000);
        Assert.AreEqual(200, sweep.Count);
        Assert.AreEqual(10, sweep.FrequenciesHz[0], 1e-12);
        Assert.AreEqual(8000, sweep.FrequenciesHz[^1]);
        var ratio = sweep.FrequenciesHz[1] / sweep.FrequenciesHz[0];
        for (var k = 1; k < sweep.Count; k++)
            Assert.AreEqual(ratio, sweep.FrequenciesHz[k] / sweep.FrequenciesHz[k - 1], 1e-9, $"step {k}");
        Assert.AreEqual(22050, ToneSweep.LogSpaced(44100, 1000).FrequenciesHz[^1]);
    }

    [TestMethod]
    public void ToneHasTheStatedAmplitudeAndFrequency()
    {
        const int sampleRate = 16000, length = 16000; // one second: f zero crossings per half period
        var sweep = new ToneSweep([250, 1000, 8000], sampleRate, length, 0.5f);
        var inputs = new float[3 * length];
        sweep.Write(0, 3, inputs);
        for (var t = 0; t < 3; t++)
        {
            var row = inputs.AsSpan(t * length, length);
            var peak = 0f;
            var crossings = 0;
            for (var n = 0; n < length; n++)
            {
                peak = Math.Max(peak, Math.Abs(row[n]));
                if (n > 0 && Math.Sign(row[n]) != Math.Sign(row[n - 1])) crossings++;
            }
            Assert.AreEqual(0.5f, peak, 1e-6f, $"tone {t} peak");
            if (t < 2) Assert.AreEqual(2 * sweep.FrequenciesHz[t], crossings, 1, $"tone {t} zero crossings in one second");
        }
        // Nyquist: cosine phase gives the full-scale alternating sequence, not zeros.
        var nyquist = inputs.AsSpan(2 * length, 4).ToArray();
        CollectionAssert.AreEqual(new[] { 0.5f, -0.5f, 0.5f, -0.5f }, nyquist);
    }

    [TestMethod]
    public void SweepRejectsTonesAboveNyquist()
    {
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ToneSweep([100, 9000], 16000, 100, 0.5f));
        StringAssert.Contains(e.Message, "8000");
    }

    /// <summary>A band-pass-like bump, Gaussian in log frequency, on a constant floor.</summary>
    private static float[] Bump(IReadOnlyList<double> frequencies, double centreHz, double widthOctaves, double floor = 0)
        => frequencies.Select(f => (float)(floor + Math.Exp(-0.5 * Math.Pow(Math.Log2(f / centreHz) / widthOctaves, 2)))).ToArray();

    [TestMethod]
    public void CentreOfALogSymmetricBumpIsItsPeakWhateverTheFloor()
    {
        var frequencies = ToneSweep.LogSpacedFrequencies(10, 8000, 200);
        foreach (var centre in new[] { 50.0, 440, 3000 })
            foreach (var floor in new[] { 0.0, 5 })
            {
                var found = FilterBankResponse.CentreFrequency(Bump(frequencies, centre, 0.3, floor), frequencies, out var flat);
                Assert.IsFalse(flat);
                // Only the mean subtraction's clipping point moves with the floor, and it sits symmetric about the
                // peak; 1 % covers the grid's discretisation (a grid step is 3.4 %, the weighted mean interpolates).
                Assert.AreEqual(centre, found, centre * 0.01, $"centre {centre} Hz on floor {floor}");
            }
    }

    [TestMethod]
    public void FlatResponseIsMarkedAndSitsAtTheGeometricCentreOfTheSweep()
    {
        var frequencies = ToneSweep.LogSpacedFrequencies(10, 8000, 200);
        var centre = FilterBankResponse.CentreFrequency(new float[200], frequencies, out var flat);
        Assert.IsTrue(flat);
        Assert.AreEqual(Math.Sqrt(10 * 8000), centre, 1e-6);
    }

    [TestMethod]
    public void FiltersAreRankedByCentreFrequencyKeepingTheirIndex()
    {
        var frequencies = ToneSweep.LogSpacedFrequencies(10, 8000, 100);
        double[] centres = [2000, 100, 30, 800, 5000];
        var rows = centres.SelectMany(c => Bump(frequencies, c, 0.25)).ToList();
        rows.AddRange(new float[100]); // a dead filter, index 5: ranks at the geometric centre, 283 Hz
        var response = new FilterBankResponse(frequencies, 6, rows.ToArray());

        CollectionAssert.AreEqual(new[] { 2, 1, 5, 3, 0, 4 }, response.FilterAtRank.ToArray());
        CollectionAssert.AreEqual(new[] { 4, 1, 0, 3, 5, 2 }, response.RankOf.ToArray());
        CollectionAssert.AreEqual(new[] { false, false, false, false, false, true }, response.IsFlat.ToArray());
        var ranked = response.RankedCentresHz();
        for (var r = 1; r < ranked.Length; r++) Assert.IsTrue(ranked[r] >= ranked[r - 1]);
        Assert.AreEqual(5000, response.Row(4).ToArray().Zip(frequencies).MaxBy(p => p.First).Second, 5000 * 0.04);
    }

    [TestMethod]
    public void HtkMelScaleHasItsKnownValuesAndEvenlySpacedBands()
    {
        Assert.AreEqual(2595 * Math.Log10(2), MelScale.HzToMel(700), 1e-9);
        Assert.AreEqual(1000, MelScale.HzToMel(1000), 0.02); // HTK's scale puts 1 kHz at ~1000 mel
        Assert.AreEqual(4321.0, MelScale.MelToHz(MelScale.HzToMel(4321.0)), 1e-9);

        var centres = MelScale.BandCentresHz(40, 10, 8000);
        Assert.AreEqual(40, centres.Length);
        var step = (MelScale.HzToMel(8000) - MelScale.HzToMel(10)) / 41;
        Assert.AreEqual(MelScale.HzToMel(10) + step, MelScale.HzToMel(centres[0]), 1e-9);
        for (var b = 1; b < 40; b++)
            Assert.AreEqual(step, MelScale.HzToMel(centres[b]) - MelScale.HzToMel(centres[b - 1]), 1e-9);
        Assert.IsTrue(centres[^1] < 8000);
    }

    [TestMethod]
    public void PearsonCorrelationMatchesHandComputedValues()
    {
        // x = 1,2,3, y = 2,4,7: dx = -1,0,1, dy = -7/3,-1/3,8/3, Σdxdy = 5, Σdx² = 2, Σdy² = 114/9.
        Assert.AreEqual(5 / Math.Sqrt(2 * 114.0 / 9), FilterBankSummary.PearsonCorrelation([1, 2, 3], [2, 4, 7]), 1e-12);
        Assert.AreEqual(-1, FilterBankSummary.PearsonCorrelation([1, 2, 3], [3, 2, 1]), 1e-12);
        Assert.IsTrue(double.IsNaN(FilterBankSummary.PearsonCorrelation([1, 1, 1], [1, 2, 3])));
    }

    [TestMethod]
    public void MelPlacedBankScoresAsMelLikeAndALinearBankLess()
    {
        var frequencies = ToneSweep.LogSpacedFrequencies(10, 8000, 200);
        FilterBankResponse BankAt(double[] centres) =>
            new(frequencies, centres.Length, centres.Reverse().SelectMany(c => Bump(frequencies, c, 0.1)).ToArray());

        var mel = FilterBankSummary.Of(1, 3, BankAt(MelScale.BandCentresHz(40, 10, 8000)));
        Assert.AreEqual((1, 3), (mel.Fold, mel.Epoch));
        Assert.IsTrue(mel.MelCorrelation > 0.9999, $"mel-placed bank r = {mel.MelCorrelation}");
        Assert.IsTrue(mel.MelRmsOctaves < 0.02, $"mel-placed bank {mel.MelRmsOctaves} octaves from mel");
        Assert.AreEqual(0, mel.FlatFilters);

        // 150 Hz steps to 6 kHz: the top bump stays 4 widths inside the sweep, so the edge does not bias it.
        var linear = FilterBankSummary.Of(1, 3, BankAt(Enumerable.Range(1, 40).Select(i => i * 150.0).ToArray()));
        Assert.IsTrue(linear.MelCorrelation < mel.MelCorrelation);
        Assert.IsTrue(linear.MelRmsOctaves > 0.5, $"linear bank {linear.MelRmsOctaves} octaves from mel");
        Assert.AreEqual(150, linear.LowestCentreHz, 150 * 0.01);
        Assert.AreEqual(6000, linear.HighestCentreHz, 6000 * 0.01);
        Assert.AreEqual(Math.Sqrt(20 * 21) * 150, linear.MedianCentreHz, 3075 * 0.01);
    }
}
