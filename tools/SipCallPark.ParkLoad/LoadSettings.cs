using System.Net;
using SipCallPark.Sip.Transport;

namespace SipCallPark.ParkLoad;

public enum LoadMode { Cycles, Hold, Failover }

/// <summary>
/// What one run of the load generator does, read from the command line and checked once (<see cref="Validate"/>).
/// <see cref="Rate"/> &gt; 0 runs cycles open-loop at that rate with at most <see cref="Concurrency"/> in flight;
/// <see cref="Rate"/> = 0 runs them closed-loop, <see cref="Concurrency"/> at a time, as fast as the pool answers.
/// </summary>
public sealed record LoadSettings
{
    public required SipEndPoint Pool { get; init; }

    public required Uri Admin { get; init; }

    public LoadMode Mode { get; init; } = LoadMode.Cycles;

    /// <summary>Cycles started per second (open loop); 0 = closed loop.</summary>
    public double Rate { get; init; }

    /// <summary>How long cycles are started for (the run then waits for the ones in flight).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Calls parked and held (hold mode).</summary>
    public int Calls { get; init; } = 1000;

    /// <summary>Closed loop: cycles at once. Open loop and hold: the most in flight.</summary>
    public int Concurrency { get; init; } = 50;

    /// <summary>The pool's process id, for its RSS and CPU from /proc (hold mode; optional in cycles mode).</summary>
    public int? PoolPid { get; init; }

    /// <summary>Phones (SIP stacks) per role: parked parties (bob) and retrievers (carol, dave).</summary>
    public int Phones { get; init; } = 2;

    /// <summary>Bound on each step of a cycle (park, retrieve, hang up) before it counts as a timeout.</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time a call stays parked before it is retrieved (cycles mode).</summary>
    public TimeSpan ParkedFor { get; init; } = TimeSpan.Zero;

    /// <summary>How long CPU is sampled in hold mode.</summary>
    public TimeSpan Measure { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Failover mode: the backup pool's SIP address (where the primary's user registers after the kill).</summary>
    public SipEndPoint? Backup { get; init; }

    /// <summary>Failover mode: the backup's admin API (its /status shows the primary's DR phase).</summary>
    public Uri? BackupAdmin { get; init; }

    /// <summary>Failover mode: the primary's pool name as the backup's /status names it.</summary>
    public string PrimaryName { get; init; } = "pool-a";

    /// <summary>Failover mode: the file the killing script writes the kill's Unix time (ms) into, newline-terminated.</summary>
    public string? KillFile { get; init; }

    /// <summary>Failover mode: the primary's user who registers at the backup after the kill (lab password).</summary>
    public string RegisterUser { get; init; } = "dave";

    public string Domain { get; init; } = "callpark.lab";

    public string ParkService { get; init; } = "park";

    public void Validate()
    {
        if (!IPAddress.IsLoopback(Pool.Address.Address)) throw new ArgumentException("--pool must be a loopback address (127.0.0.1:port)");
        if (!Admin.IsLoopback) throw new ArgumentException("--admin must be a loopback URL");
        if (Rate < 0 || Rate > 100_000) throw new ArgumentException("--rate must be between 0 (closed loop) and 100000");
        if (Duration <= TimeSpan.Zero || Duration > TimeSpan.FromHours(1)) throw new ArgumentException("--seconds must be between 1 and 3600");
        if (Calls is < 1 or > 100_000) throw new ArgumentException("--calls must be between 1 and 100000");
        if (Concurrency is < 1 or > 10_000) throw new ArgumentException("--concurrency must be between 1 and 10000");
        if (Phones is < 1 or > 64) throw new ArgumentException("--phones must be between 1 and 64");
        if (StepTimeout < TimeSpan.FromMilliseconds(100) || StepTimeout > TimeSpan.FromMinutes(2)) throw new ArgumentException("--timeout must be between 0.1 and 120 s");
        if (ParkedFor < TimeSpan.Zero || ParkedFor > TimeSpan.FromMinutes(5)) throw new ArgumentException("--parked-ms must be between 0 and 300000");
        if (Measure < TimeSpan.FromSeconds(1) || Measure > TimeSpan.FromMinutes(10)) throw new ArgumentException("--measure-seconds must be between 1 and 600");
        if (Mode == LoadMode.Failover && (Backup is null || BackupAdmin is null || string.IsNullOrEmpty(KillFile)))
            throw new ArgumentException("failover mode needs --backup, --backup-admin and --kill-file");
        if (Backup is { } backup && !IPAddress.IsLoopback(backup.Address.Address)) throw new ArgumentException("--backup must be a loopback address (127.0.0.1:port)");
        if (BackupAdmin is { IsLoopback: false }) throw new ArgumentException("--backup-admin must be a loopback URL");
        if (Mode == LoadMode.Hold && PoolPid is null) throw new ArgumentException("hold mode needs --pool-pid (the pool's RSS and CPU are read from /proc)");
    }
}
