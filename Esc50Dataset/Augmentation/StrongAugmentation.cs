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
    public static double DrawScale(ref ExampleRandom random) => Math.Pow(MaxScale, 2 * random.NextDouble() - 1);

    /// <summary>Draws a gain in dB, uniform in [−MaxGainDecibels, MaxGainDecibels].</summary>
    public static double DrawGainDecibels(ref ExampleRandom random) => MaxGainDecibels * (2 * random.NextDouble() - 1);

    /// <summary>
    /// Length of a sound of <paramref name="length"/> samples stretched by <paramref name="scale"/>: floor(length · scale),
    /// but at least one sample so that a one-sample clip squeezed below one sample can still be cropped.
    /// </summary>
    public static int ScaledLength(int length, double scale)
    {
        if (!(scale > 0) || double.IsInfinity(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "expected a positive finite time scale");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        return Math.Max(1, (int)(length * scale));
    }

    /// <summary>
    /// Stretches a sound in time into <paramref name="scaled"/> (of <see cref="ScaledLength"/> samples): sample i is
    /// the linear interpolation of the input at position i / scale, the last input sample standing in for the one
    /// past the end. Scale &gt; 1 lengthens the sound and lowers its pitch.
    /// </summary>
    public static void Scale(ReadOnlySpan<float> sound, double scale, Span<float> scaled)
    {
        int expectedLength = ScaledLength(sound.Length, scale);
        if (scaled.Length != expectedLength)
            throw new ArgumentException(
                $"a sound of {sound.Length} samples scaled by {scale} has {expectedLength} samples, destination holds {scaled.Length}",
                nameof(scaled));
        int last = sound.Length - 1;
        for (int i = 0; i < scaled.Length; i++)
        {
            double position = i / scale;
            int left = (int)position;
            int right = Math.Min(left + 1, last);
            double fraction = position - left;
            scaled[i] = (float)(sound[left] * (1 - fraction) + sound[right] * fraction);
        }
    }

    /// <summary>Multiplies a sound in place by 10^(decibels / 20).</summary>
    public static void ApplyGain(Span<float> sound, double decibels)
    {
        float factor = (float)Math.Pow(10, decibels / 20);
        for (int i = 0; i < sound.Length; i++) sound[i] *= factor;
    }
}
