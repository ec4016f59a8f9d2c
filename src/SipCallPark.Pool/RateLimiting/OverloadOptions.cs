namespace SipCallPark.Pool.RateLimiting;

/// <summary>
/// Load shedding for the whole pool (<c>Pool:Overload</c>): when the pool falls behind, new requests are answered
/// <c>503</c> with <c>Retry-After</c> at once instead of queueing behind work whose senders have already given up.
/// The per-source <see cref="RateLimitOptions"/> stops one noisy address; this stops the sum of all of them.
/// </summary>
public sealed class OverloadOptions
{
    public bool Enabled { get; init; } = true;

    /// <summary>A new request that waited longer than this between its arrival and the start of its handling is
    /// refused: its sender has retransmitted meanwhile (T1 is 500 ms) and the queue in front of it is growing.</summary>
    public TimeSpan MaxQueueDelay { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Requests being handled at once (waiting for a store commit, a fork, an answer); beyond it new
    /// requests are refused.</summary>
    public int MaxInFlight { get; init; } = 5000;

    /// <summary>The <c>Retry-After</c> of the 503 (whole seconds, RFC 3261 §20.33).</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>At most one warning line in this interval, counting the requests refused meanwhile.</summary>
    public TimeSpan WarningInterval { get; init; } = TimeSpan.FromSeconds(10);

    public void Validate(string prefix)
    {
        if (MaxQueueDelay < TimeSpan.FromMilliseconds(10) || MaxQueueDelay > TimeSpan.FromSeconds(30))
            throw new OptionsValidationError($"{prefix}:MaxQueueDelay", $"must be between 10 ms and 30 s (was {MaxQueueDelay})");
        if (MaxInFlight is < 1 or > 1_000_000)
            throw new OptionsValidationError($"{prefix}:MaxInFlight", $"must be between 1 and 1000000 (was {MaxInFlight})");
        if (RetryAfter < TimeSpan.FromSeconds(1) || RetryAfter > TimeSpan.FromHours(1))
            throw new OptionsValidationError($"{prefix}:RetryAfter", $"must be between 1 s and 1 h (was {RetryAfter})");
        if (WarningInterval < TimeSpan.FromSeconds(1) || WarningInterval > TimeSpan.FromHours(24))
            throw new OptionsValidationError($"{prefix}:WarningInterval", $"must be between 1 s and 24 h (was {WarningInterval})");
    }
}
