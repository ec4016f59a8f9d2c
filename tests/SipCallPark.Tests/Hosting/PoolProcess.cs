using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace SipCallPark.Tests.Hosting;

/// <summary>
/// The real pool executable run as a child process in its own temporary folder, with its output collected.
/// Disposing it kills the child by its id if it is still running, and removes the folder.
/// </summary>
internal sealed class PoolProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _workDirectory;

    private PoolProcess(Process process, string workDirectory)
    {
        _process = process;
        _workDirectory = workDirectory;
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    public int Id => _process.Id;

    public string WorkDirectory => _workDirectory;

    /// <param name="configJson">Written to <c>pool.json</c> in the child's folder and passed as <c>--config</c>; null passes no file.</param>
    public static PoolProcess Start(string? configJson, params string[] extraArgs)
    {
        var workDirectory = Directory.CreateTempSubdirectory("sipcallpark-test-").FullName;
        var args = new List<string> { Path.Combine(AppContext.BaseDirectory, "SipCallPark.dll") };
        if (configJson is not null)
        {
            File.WriteAllText(Path.Combine(workDirectory, "pool.json"), configJson);
            // The pool also reads the shared topology and users files, relative to its current directory.
            Directory.CreateDirectory(Path.Combine(workDirectory, "config"));
            foreach (var shared in new[] { "topology.json", "users.json" })
            {
                File.Copy(RepositoryPaths.Config(shared), Path.Combine(workDirectory, "config", shared));
            }
            args.AddRange(["--config", "pool.json"]);
        }

        args.AddRange(extraArgs);
        var startInfo = new ProcessStartInfo(DotnetHost(), args)
        {
            WorkingDirectory = workDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        var pool = new PoolProcess(new Process { StartInfo = startInfo }, workDirectory);
        pool._process.OutputDataReceived += (_, e) => pool.Collect(pool._output, e.Data, isOutput: true);
        pool._process.ErrorDataReceived += (_, e) => pool.Collect(pool._error, e.Data, isOutput: false);
        pool._process.Start();
        pool._process.BeginOutputReadLine();
        pool._process.BeginErrorReadLine();
        return pool;
    }

    /// <summary>Waits until the pool has logged that the host started; false on timeout or exit.</summary>
    public async Task<bool> WaitUntilStartedAsync(TimeSpan timeout)
    {
        var finished = await Task.WhenAny(_started.Task, _process.WaitForExitAsync(), Task.Delay(timeout));
        return finished == _started.Task;
    }

    /// <summary>The exit code, or null when the child overran <paramref name="timeout"/> (it is then killed).</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            return null;
        }

        // The parameterless wait also drains the redirected output.
        await _process.WaitForExitAsync();
        return _process.ExitCode;
    }

    /// <summary>True when the child ignores the signal (inherited from a shell's background job), so sending it proves nothing.</summary>
    public bool Ignores(PosixSignalNumber signal)
    {
        var status = File.ReadAllLines($"/proc/{Id}/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return status is not null
            && (Convert.ToUInt64(status["SigIgn:".Length..].Trim(), 16) & (1UL << ((int)signal - 1))) != 0;
    }

    /// <summary>Stops the pool gracefully when this process tree lets it hear SIGTERM, else kills it; either way waits for the exit.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        Send(Ignores(PosixSignalNumber.Terminate) ? PosixSignalNumber.Kill : PosixSignalNumber.Terminate);
        Assert.That(await WaitForExitAsync(timeout), Is.Not.Null, "the pool exited");
    }

    public void Send(PosixSignalNumber signal)
    {
        if (SendSignal(Id, (int)signal) != 0)
        {
            throw new InvalidOperationException($"kill({Id}, {signal}) failed with errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
        try
        {
            Directory.Delete(_workDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A log file still open by a dying child; the temp folder is cleaned by the system.
        }
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }
    }

    private void Collect(StringBuilder buffer, string? line, bool isOutput)
    {
        if (line is null)
        {
            return;
        }

        lock (buffer)
        {
            buffer.AppendLine(line);
        }

        if (isOutput && line.Contains("Application started", StringComparison.Ordinal))
        {
            _started.TrySetResult();
        }
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    // DllImport rather than LibraryImport: the generated stub needs unsafe code, and an int call needs no marshalling.
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
#pragma warning restore SYSLIB1054
}

/// <summary>Linux signal numbers the tests send.</summary>
public enum PosixSignalNumber
{
    Interrupt = 2,
    /// <summary>SIGKILL: cannot be caught or ignored, so the process dies as in a crash, without any shutdown code.</summary>
    Kill = 9,
    Terminate = 15,
}
