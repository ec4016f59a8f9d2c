namespace SipCallPark.Pool.Replication;

/// <summary>
/// How this pool streams its bindings and park dialogs to its backup (docs/design.md §7 "Replication", <c>Pool:Replication</c>).
/// Changes are gathered for <see cref="BatchInterval"/> and posted in batches of at most <see cref="MaxBatch"/> keys;
/// a failed request is retried with exponential backoff (<see cref="RetryDelay"/> up to <see cref="MaxRetryDelay"/>)
/// until the backup answers, and then — <see cref="SnapshotOnReconnect"/> — a full snapshot goes first.
/// </summary>
public sealed class ReplicationOptions
{
    public const string Section = "Pool:Replication";

    /// <summary>Stream this pool's state to the backup named in the topology. Receiving from the pools this one backs
    /// up does not depend on it.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>How long changes are gathered before a batch is sent (10 ms – 1 min).</summary>
    public TimeSpan BatchInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The most changed keys (addresses of record, orbits) one batch carries (1 – 100 000).</summary>
    public int MaxBatch { get; init; } = 500;

    /// <summary>Changed keys queued for sending at most; beyond that they are dropped and a snapshot is sent instead.</summary>
    public int MaxPending { get; init; } = 100_000;

    /// <summary>Time allowed for one HTTP request to the backup (100 ms – 5 min).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The first retry delay; it doubles (with jitter) on each failure (0 – 1 min).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest retry delay (at least <see cref="RetryDelay"/>, at most 10 min).</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>After a failure, send a full snapshot once the backup answers again (so nothing changed while it was
    /// away is lost). Off: the failed batch is retried as it was (a queue overflow still forces a snapshot).</summary>
    public bool SnapshotOnReconnect { get; init; } = true;

    /// <summary>Bearer token for the backup's admin API when it requires one (its <c>Pool:Admin:Token</c>).</summary>
    public string? BackupToken { get; init; }

    public void Validate(string prefix = Section)
    {
        if (BatchInterval < TimeSpan.FromMilliseconds(10) || BatchInterval > TimeSpan.FromMinutes(1))
            throw new OptionsValidationError($"{prefix}:BatchInterval", $"must be between 10 ms and 1 min (was {BatchInterval})");
        if (MaxBatch is < 1 or > 100_000)
            throw new OptionsValidationError($"{prefix}:MaxBatch", $"must be between 1 and 100000 (was {MaxBatch})");
        if (MaxPending < MaxBatch || MaxPending > 10_000_000)
            throw new OptionsValidationError($"{prefix}:MaxPending", $"must be between MaxBatch ({MaxBatch}) and 10000000 (was {MaxPending})");
        if (RequestTimeout < TimeSpan.FromMilliseconds(100) || RequestTimeout > TimeSpan.FromMinutes(5))
            throw new OptionsValidationError($"{prefix}:RequestTimeout", $"must be between 100 ms and 5 min (was {RequestTimeout})");
        if (RetryDelay < TimeSpan.Zero || RetryDelay > TimeSpan.FromMinutes(1))
            throw new OptionsValidationError($"{prefix}:RetryDelay", $"must be between 0 and 1 min (was {RetryDelay})");
        if (MaxRetryDelay < RetryDelay || MaxRetryDelay > TimeSpan.FromMinutes(10))
            throw new OptionsValidationError($"{prefix}:MaxRetryDelay", $"must be between RetryDelay ({RetryDelay}) and 10 min (was {MaxRetryDelay})");
        if (BackupToken is not null && string.IsNullOrWhiteSpace(BackupToken))
            throw new OptionsValidationError($"{prefix}:BackupToken", "must not be blank; leave it out when the backup's admin API needs no token");
    }
}
