namespace EnvNet.Esc50Dataset;

/// <summary>Temporary files and folders carry their writer's process id, so that what a process killed outright left
/// behind can be told from what a running one is still writing.</summary>
public static class ProcessIds
{
    /// <summary>Whether the process <paramref name="processId"/> still runs.</summary>
    public static bool IsRunning(int processId)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
