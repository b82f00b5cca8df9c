namespace EnvNet.Training.Run;

/// <summary>Counts in messages with the right number: "1 epoch", "2 epochs".</summary>
public static class Wording
{
    /// <summary>"1 fold", "3 folds"; <paramref name="plural"/> for words that do not just take an s.</summary>
    public static string Count(long count, string singular, string? plural = null) =>
        $"{count} {Noun(count, singular, plural)}";

    public static string Noun(long count, string singular, string? plural = null) =>
        count == 1 ? singular : plural ?? singular + "s";

    /// <summary>"epoch 4" or "epochs 1-10".</summary>
    public static string Epochs(int first, int last) => first == last ? $"epoch {first}" : $"epochs {first}-{last}";
}
