namespace EnvNet.Esc50Dataset.Augmentation;

/// <summary>
/// Between-class (BC) mixing of two sounds of different classes (Tokozume, Ushiku &amp; Harada, ICLR 2018): the mix
/// is perceived as r parts the first class and 1 − r parts the second, so its target is that soft label.
/// </summary>
public static class BetweenClassMixer
{
    /// <summary>Throws unless the labels hold at least two classes, without which no pair can be mixed.</summary>
    public static void CheckTwoClasses(IReadOnlyList<int> labels)
    {
        for (int i = 1; i < labels.Count; i++)
            if (labels[i] != labels[0]) return;
        throw new InvalidOperationException(
            $"between-class mixing needs clips of at least two classes; all {labels.Count} training clips have one label");
    }

    /// <summary>
    /// Picks the clip to mix with clip <paramref name="first"/>: uniformly at random among all clips, drawn again
    /// until its label differs from the first clip's.
    /// </summary>
    public static int PickPartner(IReadOnlyList<int> labels, int first, ref ExampleRandom random)
    {
        CheckTwoClasses(labels);
        while (true)
        {
            int partner = random.NextInt(labels.Count);
            if (labels[partner] != labels[first]) return partner;
        }
    }

    /// <summary>
    /// Weight p of the first sound: p = 1 / (1 + 10^((g1 − g2)/20) · (1 − r)/r), which scales the louder sound down so
    /// that the perceived ratio is r. Written as r / (r + 10^((g1 − g2)/20) · (1 − r)) so that r = 0 gives 0, not 0/0.
    /// </summary>
    public static double FirstWeight(double firstGainDecibels, double secondGainDecibels, double ratio)
    {
        if (!(ratio >= 0 && ratio <= 1))
            throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "expected a mixing ratio in [0, 1]");
        double amplitudeRatio = Math.Pow(10, (firstGainDecibels - secondGainDecibels) / 20);
        return ratio / (ratio + amplitudeRatio * (1 - ratio));
    }

    /// <summary>
    /// Mixes two equally long sounds with ratio r (the first sound's share): (p·x1 + (1 − p)·x2) / sqrt(p² + (1 − p)²)
    /// with p from <see cref="FirstWeight"/> and each gain from <see cref="AWeighting.ComputeGain"/>; the division
    /// keeps the mix's power near that of its parts.
    /// </summary>
    public static void Mix(ReadOnlySpan<float> first, ReadOnlySpan<float> second, double ratio, int sampleRate, Span<float> mixed)
    {
        if (first.Length != second.Length || mixed.Length != first.Length)
            throw new ArgumentException(
                $"expected sounds and destination of one length, got {first.Length}, {second.Length} and {mixed.Length} samples");
        double p = FirstWeight(AWeighting.ComputeGain(first, sampleRate), AWeighting.ComputeGain(second, sampleRate), ratio);
        double norm = Math.Sqrt(p * p + (1 - p) * (1 - p));
        double a = p / norm, b = (1 - p) / norm;
        for (int i = 0; i < mixed.Length; i++) mixed[i] = (float)(a * first[i] + b * second[i]);
    }

    /// <summary>Writes the soft target row: r for the first label, 1 − r for the second, zero elsewhere.</summary>
    public static void WriteSoftTarget(int firstLabel, int secondLabel, double ratio, Span<float> targetRow)
    {
        if (firstLabel == secondLabel)
            throw new ArgumentException($"between-class mixing needs two different labels, got {firstLabel} twice");
        targetRow.Clear();
        targetRow[firstLabel] = (float)ratio;
        targetRow[secondLabel] = (float)(1 - ratio);
    }
}
