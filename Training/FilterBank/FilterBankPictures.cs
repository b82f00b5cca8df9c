using EnvNet.Training.Checkpoints;
using ScottPlot;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.PixelFormats;
using ImageSharpImage = SixLabors.ImageSharp.Image;
using ImageSharpMetadata = SixLabors.ImageSharp.MetadataExtensions;

namespace EnvNet.Training.FilterBank;

/// <summary>
/// Pictures of the learned filter bank: a heatmap per recorded epoch (PNG, ScottPlot), an animated GIF of the
/// heatmaps over the epochs (frames encoded by ImageSharp), and the ranked centre frequencies beside a mel filter
/// bank's. Frequencies are drawn on a log axis: the data are plotted at log10(Hz) with ticks labelled in Hz.
/// </summary>
public static class FilterBankPictures
{
    public const int HeatmapWidth = 900;
    public const int HeatmapHeight = 600;
    public const int AnimationWidth = 720;
    public const int AnimationHeight = 480;

    /// <summary>Filters by rank (lowest centre frequency at the bottom) against log frequency, each filter's response
    /// scaled to [0, 1] by its own minimum and maximum so quiet filters show their shape too; a white dot marks each
    /// filter's centre frequency.</summary>
    public static byte[] HeatmapPng(FilterBankResponse response, string title, int width = HeatmapWidth, int height = HeatmapHeight)
    {
        var plot = new Plot();
        var filters = response.Filters;
        var intensities = new double[filters, response.Frequencies];
        for (var rank = 0; rank < filters; rank++)
        {
            var row = response.Row(response.FilterAtRank[rank]);
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            foreach (var v in row)
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
            // Heatmap row 0 is drawn at the top: put rank 0 in the last row.
            for (var k = 0; k < row.Length; k++)
                intensities[filters - 1 - rank, k] = max > min ? (row[k] - min) / (double)(max - min) : 0;
        }

        // Tones are evenly spaced in log10(f), so cell k is centred on log10(f_k) when the extent reaches half a
        // step beyond the first and last tone.
        var lowLog = Math.Log10(response.FrequenciesHz[0]);
        var highLog = Math.Log10(response.FrequenciesHz[^1]);
        var halfStep = (highLog - lowLog) / (response.Frequencies - 1) / 2;
        var extent = new CoordinateRect(lowLog - halfStep, highLog + halfStep, -0.5, filters - 0.5);

        var heatmap = plot.Add.Heatmap(intensities);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        heatmap.Extent = extent;
        plot.Add.ColorBar(heatmap).Label = "response, normalised per filter";

        var centres = plot.Add.ScatterPoints(
            response.RankedCentresHz().Select(Math.Log10).ToArray(),
            Enumerable.Range(0, filters).Select(r => (double)r).ToArray(),
            Colors.White);
        centres.MarkerSize = 5;
        centres.MarkerLineColor = Colors.Black; // outlined, so the dot shows on the bright cells and in the legend
        centres.MarkerLineWidth = 1;
        centres.LegendText = "centre frequency";
        plot.ShowLegend(Alignment.UpperLeft); // high ranks at low frequencies: the corner a learned bank leaves empty

        plot.Axes.Bottom.TickGenerator = LogFrequencyTicks(response.FrequenciesHz[0], response.FrequenciesHz[^1]);
        plot.Axes.SetLimits(extent);
        plot.XLabel("frequency (Hz, log scale)");
        plot.YLabel("filter rank (by centre frequency)");
        plot.Title(title);
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    public static void WriteHeatmap(string path, FilterBankResponse response, string title) =>
        AtomicFile.Write(path, stream => stream.Write(HeatmapPng(response, title)));

    /// <summary>An endlessly looping GIF with one heatmap frame per recorded epoch, in the given order.</summary>
    public static void WriteAnimation(string path, IEnumerable<(FilterBankResponse Response, string Title)> epochs,
        int frameDelayCentiseconds = 20)
    {
        SixLabors.ImageSharp.Image<Rgba32>? animation = null;
        try
        {
            foreach (var (response, title) in epochs)
            {
                using var frame = ImageSharpImage.Load<Rgba32>(HeatmapPng(response, title, AnimationWidth, AnimationHeight));
                ImageSharpMetadata.GetGifMetadata(frame.Frames.RootFrame.Metadata).FrameDelay = frameDelayCentiseconds;
                if (animation is null) animation = frame.Clone();
                else animation.Frames.AddFrame(frame.Frames.RootFrame);
            }
            if (animation is null) throw new ArgumentException("An animation needs at least one recorded epoch.", nameof(epochs));
            ImageSharpMetadata.GetGifMetadata(animation.Metadata).RepeatCount = 0; // 0 = loop for ever
            AtomicFile.Write(path, stream => animation.Save(stream, new GifEncoder()));
        }
        finally
        {
            animation?.Dispose();
        }
    }

    /// <summary>The ranked centre frequencies beside the band centres of a mel filter bank with as many bands over
    /// the probe's range (<see cref="MelScale"/>).</summary>
    public static byte[] CentresVersusMelPng(FilterBankResponse response, string title, int width = HeatmapWidth, int height = HeatmapHeight)
    {
        var plot = new Plot();
        var ranks = Enumerable.Range(0, response.Filters).Select(r => (double)r).ToArray();
        var low = response.FrequenciesHz[0];
        var high = response.FrequenciesHz[^1];
        var mel = MelScale.BandCentresHz(response.Filters, low, high);

        var melLine = plot.Add.ScatterLine(ranks, mel.Select(Math.Log10).ToArray(), Colors.Gray);
        melLine.LinePattern = LinePattern.Dashed;
        melLine.LegendText = $"mel filter bank, {response.Filters} bands (HTK)";
        var learned = plot.Add.Scatter(ranks, response.RankedCentresHz().Select(Math.Log10).ToArray(), Colors.C0);
        learned.LegendText = "learned filters, ranked";

        plot.Axes.Left.TickGenerator = LogFrequencyTicks(low, high);
        plot.Axes.SetLimits(-1, response.Filters, Math.Log10(low), Math.Log10(high));
        plot.XLabel("rank");
        plot.YLabel("centre frequency (Hz, log scale)");
        plot.Title(title);
        plot.ShowLegend(Alignment.UpperLeft);
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    public static void WriteCentresVersusMel(string path, FilterBankResponse response, string title) =>
        AtomicFile.Write(path, stream => stream.Write(CentresVersusMelPng(response, title)));

    /// <summary>Ticks for an axis that holds log10(Hz): labelled majors at 1, 2 and 5 × 10^n Hz ("200", "1k", "20k"),
    /// unlabelled minors at the other integer multiples, within [low, high].</summary>
    private static ScottPlot.TickGenerators.NumericManual LogFrequencyTicks(double lowHz, double highHz)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (var decade = Math.Pow(10, Math.Floor(Math.Log10(lowHz))); decade <= highHz; decade *= 10)
            for (var multiple = 1; multiple <= 9; multiple++)
            {
                var hz = multiple * decade;
                if (hz < lowHz * (1 - 1e-9) || hz > highHz * (1 + 1e-9)) continue;
                if (multiple is 1 or 2 or 5) ticks.AddMajor(Math.Log10(hz), FormatHz(hz));
                else ticks.AddMinor(Math.Log10(hz));
            }
        return ticks;
    }

    private static string FormatHz(double hz) => hz >= 1000 ? $"{hz / 1000:0.#}k" : $"{hz:0.#}";
}
