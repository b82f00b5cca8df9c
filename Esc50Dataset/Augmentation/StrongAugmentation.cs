namespace EnvNet.Esc50Dataset.Augmentation;

/// <summary>
/// The "strong" training augmentation of Tokozume, Ushiku &amp; Harada (ICLR 2018): a random time scale before padding
/// and cropping, and a random gain after cropping (and mixing, with between-class learning).
/// </summary>
public static class StrongAugmentation
{
    /// <summary>The scale factor is MaxScale^u with u ~ U[−1, 1].</summary>
    public const double MaxScale = 1.25;

    /// <summary>The gain is uniform in ±MaxGainDecibels.</summary>
    public const double MaxGainDecibels = 6.0;

    /// <summary>Draws a scale factor MaxScale^u, u ~ U[−1, 1].</summary>
    public static double DrawScale(Random random) => Math.Pow(MaxScale, 2 * random.NextDouble() - 1);

    /// <summary>Draws a gain in dB, uniform in [−MaxGainDecibels, MaxGainDecibels].</summary>
    public static double DrawGainDecibels(Random random) => MaxGainDecibels * (2 * random.NextDouble() - 1);

    /// <summary>Stretches a sound in time by a random factor from <see cref="DrawScale"/>.</summary>
    public static float[] RandomScale(ReadOnlySpan<float> sound, Random random) => Scale(sound, DrawScale(random));

    /// <summary>Changes a sound's gain in place by a random amount from <see cref="DrawGainDecibels"/>.</summary>
    public static void RandomGain(Span<float> sound, Random random) => ApplyGain(sound, DrawGainDecibels(random));

    /// <summary>
    /// Stretches a sound in time: the output has floor(length · scale) samples and sample i is the linear
    /// interpolation of the input at position i / scale (the last input sample stands in for the one past the end).
    /// Scale &gt; 1 lengthens the sound and lowers its pitch.
    /// </summary>
    public static float[] Scale(ReadOnlySpan<float> sound, double scale)
    {
        if (!(scale > 0) || double.IsInfinity(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "expected a positive finite time scale");
        if (sound.IsEmpty) return [];
        var scaled = new float[(int)(sound.Length * scale)];
        int last = sound.Length - 1;
        for (int i = 0; i < scaled.Length; i++)
        {
            double position = i / scale;
            int left = (int)position;
            int right = Math.Min(left + 1, last);
            double fraction = position - left;
            scaled[i] = (float)(sound[left] * (1 - fraction) + sound[right] * fraction);
        }
        return scaled;
    }

    /// <summary>Multiplies a sound in place by 10^(decibels / 20).</summary>
    public static void ApplyGain(Span<float> sound, double decibels)
    {
        float factor = (float)Math.Pow(10, decibels / 20);
        for (int i = 0; i < sound.Length; i++) sound[i] *= factor;
    }
}
