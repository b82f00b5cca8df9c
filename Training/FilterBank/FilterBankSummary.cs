using CsvHelper;

namespace EnvNet.Training.FilterBank;

/// <summary>
/// How mel-like one recorded filter bank is, compared with a mel filter bank (<see cref="MelScale"/>) of as many
/// bands over the probe's frequency range.
/// </summary>
/// <param name="MelCorrelation">Pearson correlation of the ranked log centre frequencies with the log mel band centres
/// (1 = the same shape of spacing up to scale and offset; NaN when every centre is the same or there is one filter).</param>
/// <param name="InitialMelCorrelation">The same for the fold's initial bank (epoch 0, the random weights), so each
/// row shows how far training moved the bank from where it started; NaN where epoch 0 was not recorded.</param>
/// <param name="MelRmsOctaves">Root mean square distance, in octaves, between the centre at each rank and the mel band
/// centre of that index: also sees offsets and scale, which the correlation ignores.</param>
/// <param name="LowestCentreHz">Lowest centre frequency.</param>
/// <param name="MedianCentreHz">Median centre frequency.</param>
/// <param name="HighestCentreHz">Highest centre frequency.</param>
/// <param name="CentreSpreadOctaves">Standard deviation of log2 centre frequency: how widely the bank spreads over
/// the spectrum (all filters at one frequency give 0).</param>
/// <param name="FlatFilters">Filters whose response is constant over the sweep (dead filters).</param>
[CsvRecord]
public sealed partial record FilterBankSummary(
    [CsvColumn("fold")] int Fold,
    [CsvColumn("epoch")] int Epoch,
    [CsvColumn("mel_correlation")] double MelCorrelation,
    [CsvColumn("initial_mel_correlation")] double InitialMelCorrelation,
    [CsvColumn("mel_rms_octaves")] double MelRmsOctaves,
    [CsvColumn("lowest_centre_hz")] double LowestCentreHz,
    [CsvColumn("median_centre_hz")] double MedianCentreHz,
    [CsvColumn("highest_centre_hz")] double HighestCentreHz,
    [CsvColumn("centre_spread_octaves")] double CentreSpreadOctaves,
    [CsvColumn("flat_filters")] int FlatFilters)
{
    /// <param name="initial">The fold's bank at epoch 0, or null where it was not recorded.</param>
    public static FilterBankSummary Of(int fold, int epoch, FilterBankResponse response, FilterBankResponse? initial = null)
    {
        var ranked = response.RankedCentresHz();
        var mel = MelScale.BandCentresHz(response.Filters, response.FrequenciesHz[0], response.FrequenciesHz[^1]);
        var rankedOctaves = ranked.Select(Math.Log2).ToArray();
        var melOctaves = mel.Select(Math.Log2).ToArray();

        var squaredDistance = rankedOctaves.Zip(melOctaves, (a, b) => (a - b) * (a - b)).Average();
        var meanOctave = rankedOctaves.Average();
        var variance = rankedOctaves.Average(o => (o - meanOctave) * (o - meanOctave));
        var n = ranked.Length;
        var median = n % 2 == 1 ? ranked[n / 2] : Math.Sqrt(ranked[n / 2 - 1] * ranked[n / 2]); // geometric: log scale

        var melCorrelation = PearsonCorrelation(rankedOctaves, melOctaves);
        var initialMelCorrelation = initial is null ? double.NaN
            : ReferenceEquals(initial, response) ? melCorrelation
            : Of(fold, 0, initial).MelCorrelation;
        return new FilterBankSummary(fold, epoch, melCorrelation, initialMelCorrelation, Math.Sqrt(squaredDistance),
            ranked[0], median, ranked[^1], Math.Sqrt(variance), response.IsFlat.Count(f => f));
    }

    /// <summary>Pearson's r; NaN when either series is constant or shorter than 2 (r is undefined there).</summary>
    public static double PearsonCorrelation(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count)
            throw new ArgumentException($"Correlation needs two series of equal length; got {x.Count} and {y.Count}.");
        if (x.Count < 2) return double.NaN;
        double meanX = x.Average(), meanY = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < x.Count; i++)
        {
            var dx = x[i] - meanX;
            var dy = y[i] - meanY;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        return sxx > 0 && syy > 0 ? sxy / Math.Sqrt(sxx * syy) : double.NaN;
    }
}
