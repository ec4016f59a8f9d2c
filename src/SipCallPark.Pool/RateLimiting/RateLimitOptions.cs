namespace SipCallPark.Pool.RateLimiting;

/// <summary>
/// Per-source limits on requests entering the pool (<c>Pool:RateLimit</c>). The defaults leave room for a sipp
/// benchmark of ~2,000 requests/s from one address; a phone sends a handful a minute.
/// </summary>
public sealed class RateLimitOptions
{
    public bool Enabled { get; init; } = true;

    /// <summary>Tokens added to each source's bucket per second: its sustained request rate.</summary>
    public int RequestsPerSecond { get; init; } = 5000;

    /// <summary>The bucket's size: how many requests a quiet source may send at once.</summary>
    public int Burst { get; init; } = 10000;

    /// <summary>The <c>Retry-After</c> of the 503 (whole seconds, RFC 3261 §20.33).</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>At most one warning per source in this interval, counting the requests refused meanwhile.</summary>
    public TimeSpan WarningInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Sources tracked at once; beyond it, sources whose bucket has refilled are forgotten.</summary>
    public int MaxSources { get; init; } = 100_000;

    public void Validate(string prefix)
    {
        if (RequestsPerSecond is < 1 or > 1_000_000)
            throw new OptionsValidationError($"{prefix}:RequestsPerSecond", $"must be between 1 and 1000000 (was {RequestsPerSecond})");
        if (Burst < 1 || Burst > 10_000_000)
            throw new OptionsValidationError($"{prefix}:Burst", $"must be between 1 and 10000000 (was {Burst})");
        if (RetryAfter < TimeSpan.FromSeconds(1) || RetryAfter > TimeSpan.FromHours(1))
            throw new OptionsValidationError($"{prefix}:RetryAfter", $"must be between 1 s and 1 h (was {RetryAfter})");
        if (WarningInterval < TimeSpan.FromSeconds(1) || WarningInterval > TimeSpan.FromHours(24))
            throw new OptionsValidationError($"{prefix}:WarningInterval", $"must be between 1 s and 24 h (was {WarningInterval})");
        if (MaxSources is < 1 or > 10_000_000)
            throw new OptionsValidationError($"{prefix}:MaxSources", $"must be between 1 and 10000000 (was {MaxSources})");
    }
}
