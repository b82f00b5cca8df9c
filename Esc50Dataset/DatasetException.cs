namespace EnvNet.Esc50Dataset;

/// <summary>
/// The one error type of the dataset code: bad metadata, a bad audio file or a bad argument derived from them.
/// The message always names the file (and CSV row where there is one) and says what was expected.
/// </summary>
public sealed class DatasetException : Exception
{
    public DatasetException(string message) : base(message) { }

    public DatasetException(string message, Exception inner) : base(message, inner) { }
}
