using System.Diagnostics;
using System.Text;

namespace SipCallPark.Lab;

/// <summary>
/// One run of the pool executable (<c>dotnet SipCallPark.dll</c>) as a child process, with its console output kept.
/// <see cref="Kill"/> is the lab's outage: SIGKILL to this child by its own <see cref="Process"/> object, so no shutdown
/// code runs, as in a crash. Disposing kills it too if it still runs.
/// </summary>
internal sealed class PoolProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private PoolProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Standard output and error, interleaved as they arrived.</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    public static PoolProcess Start(string poolDll, string workDirectory, IEnumerable<string> args)
    {
        var startInfo = new ProcessStartInfo(DotnetHost(), [poolDll, .. args])
        {
            WorkingDirectory = workDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        var pool = new PoolProcess(new Process { StartInfo = startInfo });
        pool._process.OutputDataReceived += (_, e) => pool.Collect(e.Data);
        pool._process.ErrorDataReceived += (_, e) => pool.Collect(e.Data);
        pool._process.Start();
        pool._process.BeginOutputReadLine();
        pool._process.BeginErrorReadLine();
        return pool;
    }

    /// <summary>True once the host logged "Application started"; false when it exited or <paramref name="timeout"/> passed first.</summary>
    public async Task<bool> WaitUntilStartedAsync(TimeSpan timeout)
    {
        var finished = await Task.WhenAny(_started.Task, _process.WaitForExitAsync(), Task.Delay(timeout));
        return finished == _started.Task;
    }

    /// <summary>SIGKILL (Process.Kill on Linux), then waits up to 5 s for the child to be gone.</summary>
    public void Kill()
    {
        try
        {
            if (_process.HasExited) return;
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Collect(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
        if (line.Contains("Application started", StringComparison.Ordinal)) _started.TrySetResult();
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
}
