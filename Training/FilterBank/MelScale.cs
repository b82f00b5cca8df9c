namespace EnvNet.Training.FilterBank;

/// <summary>
/// The HTK mel scale, <c>mel(f) = 2595 · log10(1 + f / 700)</c>, and the centre frequencies of a triangular mel
/// filter bank: for B bands over [low, high], B + 2 points evenly spaced in mel from mel(low) to mel(high); band b's
/// triangle rises from point b to its peak at point b + 1 and falls to point b + 2, so its centre is point b + 1.
/// </summary>
public static class MelScale
{
    public static double HzToMel(double hz) => 2595 * Math.Log10(1 + hz / 700);

    public static double MelToHz(double mel) => 700 * (Math.Pow(10, mel / 2595) - 1);

    /// <summary>Centre frequencies (Hz, ascending) of a <paramref name="bands"/>-band mel filter bank over [low, high].</summary>
    public static double[] BandCentresHz(int bands, double lowHz, double highHz)
    {
        if (bands <= 0) throw new ArgumentOutOfRangeException(nameof(bands), bands, "A mel filter bank needs at least one band.");
        if (!(lowHz >= 0 && highHz > lowHz))
            throw new ArgumentOutOfRangeException(nameof(highHz), highHz, $"A mel filter bank needs 0 <= low < high; got {lowHz} Hz to {highHz} Hz.");
        var lowMel = HzToMel(lowHz);
        var step = (HzToMel(highHz) - lowMel) / (bands + 1);
        var centres = new double[bands];
        for (var b = 0; b < bands; b++) centres[b] = MelToHz(lowMel + (b + 1) * step);
        return centres;
    }
}
