using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;

namespace SipCallPark.Pool.RateLimiting;

/// <summary>
/// A token bucket per source IP address on the injected <see cref="TimeProvider"/>: each request takes a token,
/// buckets refill at <see cref="RateLimitOptions.RequestsPerSecond"/> up to <see cref="RateLimitOptions.Burst"/>.
/// Written here rather than taken from <c>System.Threading.RateLimiting</c>, whose token bucket reads the system
/// clock and cannot be driven by a <see cref="TimeProvider"/>, so its refills could not be tested on a fake clock.
/// </summary>
public sealed partial class SourceRateLimiter
{
    private readonly RateLimitOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<IPAddress, Bucket> _buckets = new();

    public SourceRateLimiter(RateLimitOptions options, TimeProvider time, ILogger<SourceRateLimiter> logger)
    {
        options.Validate("RateLimit");
        _options = options;
        _time = time;
        _logger = logger;
    }

    public RateLimitOptions Options => _options;

    /// <summary>Sources with a bucket now (for tests and metrics).</summary>
    public int TrackedSources => _buckets.Count;

    /// <summary>Takes a token for one request from <paramref name="source"/>; false when its bucket is empty.
    /// The first refusal in each warning interval logs one line per source.</summary>
    public bool TryAcquire(IPAddress source)
    {
        if (source.IsIPv4MappedToIPv6) source = source.MapToIPv4();
        var now = _time.GetTimestamp();
        if (!_buckets.TryGetValue(source, out var bucket))
        {
            if (_buckets.Count >= _options.MaxSources) Forget(now);
            bucket = _buckets.GetOrAdd(source, _ => new Bucket(_options.Burst, now));
        }

        long refusedSinceWarning;
        lock (bucket)
        {
            Refill(bucket, now);
            if (bucket.Tokens >= 1)
            {
                bucket.Tokens -= 1;
                return true;
            }
            bucket.Refused++;
            if (bucket.LastWarning is { } last && _time.GetElapsedTime(last, now) < _options.WarningInterval) return false;
            refusedSinceWarning = bucket.Refused;
            bucket.Refused = 0;
            bucket.LastWarning = now;
        }
        LogOverLimit(source, _options.RequestsPerSecond, _options.Burst, refusedSinceWarning, _options.WarningInterval);
        return false;
    }

    private void Refill(Bucket bucket, long now)
    {
        var elapsed = _time.GetElapsedTime(bucket.Updated, now);
        if (elapsed <= TimeSpan.Zero) return;
        bucket.Tokens = Math.Min(_options.Burst, bucket.Tokens + elapsed.TotalSeconds * _options.RequestsPerSecond);
        bucket.Updated = now;
    }

    /// <summary>Drops the buckets that have refilled: forgetting them changes nothing for their sources.</summary>
    private void Forget(long now)
    {
        foreach (var (source, bucket) in _buckets)
        {
            lock (bucket)
            {
                Refill(bucket, now);
                if (bucket.Tokens >= _options.Burst) _buckets.TryRemove(source, out _);
            }
        }
    }

    [LoggerMessage(2100, LogLevel.Warning,
        "Rate limit: {Source} sends over {RequestsPerSecond} requests/s (burst {Burst}); answering 503 ({Refused} refused, at most one line per {Interval} per source)")]
    private partial void LogOverLimit(IPAddress source, int requestsPerSecond, int burst, long refused, TimeSpan interval);

    private sealed class Bucket(double tokens, long updated)
    {
        public double Tokens = tokens;
        public long Updated = updated;
        public long Refused;
        public long? LastWarning;
    }
}
