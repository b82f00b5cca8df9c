using EnvNet.Esc50Dataset;

namespace EnvNet.Tests;

/// <summary>
/// Runs one fuzz input through a reader and sorts the result: a value, or the product's own
/// <see cref="DatasetException"/>. Anything else fails the test: another exception type (a crash), no result within
/// the time bound (a hang) or more bytes allocated than the bound (a memory blow-up: a header size trusted before it
/// was checked against the file).
/// </summary>
internal static class FuzzHarness
{
    /// <summary>Typical inputs take milliseconds; the bound is generous because the test machine is shared.</summary>
    public static readonly TimeSpan TimeBound = TimeSpan.FromSeconds(10);

    public static (T? Value, DatasetException? Error) Run<T>(string input, long maxAllocatedBytes, Func<T> read) where T : class
    {
        long allocated = 0;
        var task = Task.Run(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                return read();
            }
            finally
            {
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            }
        });
        try
        {
            if (!task.Wait(TimeBound))
                throw new AssertFailedException($"{input}: no result after {TimeBound.TotalSeconds} s (hang)");
        }
        catch (AggregateException)
        {
            // the task's exception is examined below
        }
        if (allocated > maxAllocatedBytes)
            throw new AssertFailedException($"{input}: allocated {allocated} bytes, more than the bound of {maxAllocatedBytes}");
        if (task.IsCompletedSuccessfully)
            return (task.Result, null);
        var error = task.Exception!.InnerException!;
        return error is DatasetException dataset
            ? (null, dataset)
            : throw new AssertFailedException($"{input}: {error.GetType().Name} instead of a DatasetException: {error}");
    }

    /// <summary>Longer than any message the readers give for a damaged input, far shorter than a damaged field.</summary>
    public const int MaxMessageLength = 1000;

    /// <summary>An error message must be one line of readable length that starts by naming the input.</summary>
    public static void AssertClearMessage(string message, string expectedStart, string input)
    {
        Assert.StartsWith(expectedStart, message, input);
        Assert.IsFalse(message.Any(char.IsControl), $"{input}: control character in the message: {message}");
        Assert.IsLessThanOrEqualTo(MaxMessageLength, message.Length, $"{input}: message of {message.Length} characters");
    }

    /// <summary>Prints the tally to the test log and the console (where the CI log shows it).</summary>
    public static void Report(TestContext context, string line)
    {
        context.WriteLine(line);
        Console.WriteLine(line);
    }
}
