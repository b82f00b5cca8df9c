using System.Runtime.InteropServices;

namespace EnvNet.Training;

/// <summary>
/// Turns the first Ctrl-C (SIGINT) or SIGTERM into a stop request that the training loop honours at the next
/// batch boundary, after which it saves a checkpoint and exits with 128 + the signal number. A second signal
/// terminates the process at once, for when waiting is not wanted.
/// </summary>
public sealed class StopSignal : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<PosixSignalRegistration> _registrations = [];

    public StopSignal()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
            _registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
    }

    public CancellationToken Token => _stop.Token;

    public PosixSignal? Received { get; private set; }

    /// <summary>The conventional exit status of a process stopped by the received signal: 130 for SIGINT, 143 for SIGTERM.</summary>
    public int ExitCode => Received == PosixSignal.SIGTERM ? 143 : 130;

    private void OnSignal(PosixSignalContext context)
    {
        if (Received is not null) return; // second signal: let the default handler terminate the process
        Received = context.Signal;
        context.Cancel = true;
        _stop.Cancel();
    }

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
        _stop.Dispose();
    }
}
