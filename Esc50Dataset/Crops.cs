namespace EnvNet.Esc50Dataset;

/// <summary>
/// The cropping of the EnvNet authors' code. Training: pad inputLength/2 zeros on both sides of the clip and take
/// one window of inputLength samples at a uniformly random start. Testing: pad the same way and take
/// <c>crops</c> windows evenly spaced over the padded clip (start i * stride, stride =
/// (length - inputLength) / (crops - 1), rounded down), which <see cref="PaddedTestCrops"/> does in one call. A clip
/// shorter than the input is thus centred in zeros by the padding and still cropped to full windows.
/// </summary>
public static class Crops
{
    public const int DefaultTestCrops = 10;

    /// <summary>The clip with inputLength/2 zeros before and after it.</summary>
    public static float[] PadForCropping(float[] clip, int inputLength)
    {
        CheckInputLength(inputLength);
        int pad = inputLength / 2;
        var padded = new float[clip.Length + 2 * pad];
        clip.CopyTo(padded, pad);
        return padded;
    }

    /// <summary>
    /// Writes to <paramref name="destination"/> a window of inputLength samples at a random start of the clip padded
    /// as <see cref="PadForCropping"/> does, without building the padded copy. Returns the start, in samples of the
    /// padded clip (uniform in [0, padded length - inputLength]).
    /// </summary>
    public static int RandomCrop(ReadOnlySpan<float> clip, int inputLength, ref ExampleRandom random, Span<float> destination)
    {
        CheckInputLength(inputLength);
        int paddedLength = clip.Length + 2 * (inputLength / 2);
        if (paddedLength < inputLength)
            throw new ArgumentException($"an empty clip cannot be cropped to {inputLength} samples", nameof(clip));
        int start = random.NextInt(paddedLength - inputLength + 1);
        CropPadded(clip, inputLength, start, destination);
        return start;
    }

    /// <summary>Writes the window [start, start + inputLength) of the padded clip, reading the clip in place.</summary>
    public static void CropPadded(ReadOnlySpan<float> clip, int inputLength, int start, Span<float> destination)
    {
        CheckInputLength(inputLength);
        if (destination.Length < inputLength)
            throw new ArgumentException($"destination holds {destination.Length} samples, expected {inputLength}", nameof(destination));
        int pad = inputLength / 2;
        int paddedLength = clip.Length + 2 * pad;
        if (start < 0 || start > paddedLength - inputLength)
            throw new ArgumentOutOfRangeException(nameof(start), start, $"expected 0..{paddedLength - inputLength} for a padded clip of {paddedLength}");
        var window = destination[..inputLength];
        window.Clear();
        int from = Math.Max(start - pad, 0);                      // first clip sample in the window
        int to = Math.Min(start + inputLength - pad, clip.Length); // one past the last
        if (to > from)
            clip[from..to].CopyTo(window[(from + pad - start)..]);
    }

    /// <summary>The start of each of the <paramref name="crops"/> test windows: i * ((length - inputLength) / (crops - 1)),
    /// as the authors' multi_crop. Every clip gets the same number of windows: a clip with fewer distinct starts (one
    /// padded to exactly one window, the padding of a clip much shorter than the input) repeats windows, as theirs does.</summary>
    public static int[] TestCropStarts(int length, int inputLength, int crops)
    {
        CheckInputLength(inputLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(crops);
        if (length < inputLength)
            throw new ArgumentException(
                $"a clip of {length} samples is shorter than one window of {inputLength}; pad it with {nameof(PadForCropping)} first", nameof(length));
        if (crops == 1)
            return [0];
        int stride = (length - inputLength) / (crops - 1);
        return Enumerable.Range(0, crops).Select(i => i * stride).ToArray();
    }

    /// <summary>
    /// Test windows of <paramref name="clip"/> as given (pass the padded clip, or use <see cref="PaddedTestCrops"/>):
    /// crops x inputLength samples, row i starting at <see cref="TestCropStarts"/>[i].
    /// </summary>
    public static float[] TestCrops(float[] clip, int inputLength, int crops)
    {
        var starts = TestCropStarts(clip.Length, inputLength, crops);
        var windows = new float[starts.Length * inputLength];
        for (int i = 0; i < starts.Length; i++)
            clip.AsSpan(starts[i], inputLength).CopyTo(windows.AsSpan(i * inputLength));
        return windows;
    }

    /// <summary>The recipe's test input of a clip: <see cref="TestCrops"/> of <see cref="PadForCropping"/>(clip).</summary>
    public static float[] PaddedTestCrops(float[] clip, int inputLength, int crops = DefaultTestCrops) =>
        TestCrops(PadForCropping(clip, inputLength), inputLength, crops);

    private static void CheckInputLength(int inputLength) => ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputLength);
}
