using System.Runtime.InteropServices;

namespace EnvNet.Training.Run;

/// <summary>
/// Turns the first Ctrl-C (SIGINT) or SIGTERM into a stop request that the training loop honours at the next
/// batch boundary, after which it saves a checkpoint and exits with 128 + the signal number. A second signal
/// ends the process at once (same exit code), for when waiting is not wanted, with the terminal's cursor shown.
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
        if (Received is not null)
        {
            // Second signal: end at once. Holding the console writer's lock keeps a progress bar's render thread from
            // hiding the cursor again between showing it and exiting. Environment.Exit would wait for this handler to
            // return, so on Unix the process ends through _exit; elsewhere the default handler ends it.
            lock (Console.Out)
            {
                RunConsole.RestoreTerminal();
                Console.Out.Flush();
                if (!OperatingSystem.IsWindows()) ExitNow(ExitCode);
            }
            return;
        }
        Received = context.Signal;
        context.Cancel = true;
        _stop.Cancel();
    }

    [DllImport("libc", EntryPoint = "_exit")]
    private static extern void ExitNow(int status);

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
        _stop.Dispose();
    }
}
