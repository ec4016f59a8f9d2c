using System.Collections.Concurrent;
using System.Diagnostics;

namespace SipCallPark.ParkLoad;

/// <summary>Counts of a cycles run, thread-safe: attempted, completed, failed by step and reason, and the latencies.</summary>
public sealed class CycleStats
{
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly List<double> _latenciesMs = [];
    private readonly List<double> _parkMs = [];
    private readonly Lock _lock = new();
    private long _attempted;
    private long _completed;
    private long _failed;
    private long _lastCompletion;

    public long Attempted => Interlocked.Read(ref _attempted);

    public long Completed => Interlocked.Read(ref _completed);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Failures by "step: reason", most frequent first.</summary>
    public IEnumerable<KeyValuePair<string, int>> Failures => _failures.OrderByDescending(f => f.Value);

    /// <summary>Timestamp (Stopwatch) of the last completed cycle.</summary>
    public long LastCompletion => Interlocked.Read(ref _lastCompletion);

    public void Started() => Interlocked.Increment(ref _attempted);

    public void Succeeded(long started, long parked)
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _completed);
        lock (_lock)
        {
            _latenciesMs.Add(Stopwatch.GetElapsedTime(started, now).TotalMilliseconds);
            _parkMs.Add(Stopwatch.GetElapsedTime(started, parked).TotalMilliseconds);
            if (now > _lastCompletion) _lastCompletion = now;
        }
    }

    public void FailedAt(CycleStep step, string reason)
    {
        Interlocked.Increment(ref _failed);
        _failures.AddOrUpdate($"{step}: {reason}", 1, (_, n) => n + 1);
    }

    /// <summary>Latency percentile (0–100) of completed cycles in ms; NaN when none completed.</summary>
    public double CyclePercentile(double p)
    {
        lock (_lock) return Percentile(_latenciesMs, p);
    }

    public double ParkPercentile(double p)
    {
        lock (_lock) return Percentile(_parkMs, p);
    }

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.ToArray();
        Array.Sort(sorted);
        // Nearest rank (p99 of 100 values is the 99th).
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
