using System.Collections.Concurrent;
using System.Diagnostics;

namespace SipCallPark.ParkLoad;

/// <summary>
/// Parks <see cref="LoadSettings.Calls"/> calls by way 2 (at most <see cref="LoadSettings.Concurrency"/> at a time,
/// paced at <see cref="LoadSettings.Rate"/> when set), holds them, and reads the pool process: RSS idle and with every
/// call parked, CPU over <see cref="LoadSettings.Measure"/>, then the music arriving at the media sink. Then every
/// parked party hangs up and the run checks that the pool has nothing left parked.
/// </summary>
public sealed class HoldRun(LoadSettings settings, LoadLab lab, TextWriter output)
{
    private readonly ParkFlow _flow = new(lab);
    private readonly ConcurrentBag<ParkedLeg> _parked = [];
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var pid = settings.PoolPid!.Value;
        if (PoolProcess.TrySample(pid) is not { } idle)
        {
            await output.WriteLineAsync($"parkload: no process {pid} to measure");
            return 1;
        }
        await output.WriteLineAsync($"hold: parking {settings.Calls} calls ({settings.Concurrency} at a time{(settings.Rate > 0 ? $", {settings.Rate:0}/s" : "")}); " +
                                    $"pool {pid} idle: RSS {Mb(idle.RssKb)} MB, {idle.Threads} threads, {idle.OpenFiles} open files");
        var start = Stopwatch.GetTimestamp();
        await ParkAllAsync(cancellationToken);
        var parkSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var failed = _failures.Values.Sum();
        await output.WriteLineAsync($"parked {_parked.Count} in {parkSeconds:0.0} s ({_parked.Count / Math.Max(parkSeconds, 0.001):0}/s), {failed} failed");
        foreach (var (what, count) in _failures.OrderByDescending(f => f.Value).Take(10)) await output.WriteLineAsync($"  failed {count,6} × {what}");

        var reported = await WaitParkedAsync(_parked.Count, TimeSpan.FromSeconds(10), cancellationToken);
        // Let the start-up of the last parks (journal writes, first music packets) settle before reading memory.
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        var settled = await WaitTransactionsEndedAsync(_parked.Count, cancellationToken);
        await output.WriteLineAsync($"steady state: {settled.Active?.ToString() ?? "?"} SIP transactions still active after {settled.Waited.TotalSeconds:0} s " +
                                    "(an answered INVITE's transaction lives 32 s, RFC 6026 Timer L)");
        var before = PoolProcess.TrySample(pid);
        var machine = MachineLoad.Sample();
        await Task.Delay(settings.Measure, cancellationToken);
        var after = PoolProcess.TrySample(pid);
        var (busy, capacity, self) = MachineLoad.Between(machine, MachineLoad.Sample());
        if (before is null || after is null)
        {
            await output.WriteLineAsync($"parkload: pool process {pid} went away while measuring");
            return 1;
        }
        var cpu = PoolProcess.CpuPercent(before, after);
        var streams = await lab.Admin.MetricAsync("sipcallpark_park_moh_streams", cancellationToken);
        var rtpWindow = TimeSpan.FromSeconds(2);
        var rtp = await lab.Sink.CountAsync(rtpWindow, cancellationToken);
        var perCallKb = _parked.IsEmpty ? 0 : (after.RssKb - idle.RssKb) / (double)_parked.Count;
        await output.WriteLineAsync($"with {reported?.ToString() ?? "?"} parked (admin /status): RSS {Mb(after.RssKb)} MB (peak {Mb(after.HwmKb)} MB, " +
                                    $"{perCallKb:0.0} kB per parked call over idle), CPU {cpu:0.0}% of one core over {settings.Measure.TotalSeconds:0} s, " +
                                    $"{after.Threads} threads, {after.OpenFiles} open files; meanwhile load generator {self:0.0}%, whole machine {busy:0}% of {capacity:0}%");
        await output.WriteLineAsync($"music on hold: {streams?.ToString() ?? "?"} streams; {rtp / rtpWindow.TotalSeconds:0} RTP packets/s reached the phones " +
                                    $"(expected {(streams ?? 0) * 50:0} at 50/s each)");

        var releaseStart = Stopwatch.GetTimestamp();
        await ReleaseAllAsync(cancellationToken);
        var left = await WaitParkedAsync(0, TimeSpan.FromSeconds(15), cancellationToken);
        await output.WriteLineAsync($"released every call in {Stopwatch.GetElapsedTime(releaseStart).TotalSeconds:0.0} s; the pool reports {left?.ToString() ?? "?"} parked");
        await output.WriteLineAsync(
            $"RESULT mode=hold calls={settings.Calls} parked={_parked.Count} failed={failed} reported={reported?.ToString() ?? "?"} " +
            $"rss_idle_mb={Mb(idle.RssKb)} rss_mb={Mb(after.RssKb)} hwm_mb={Mb(after.HwmKb)} kb_per_call={perCallKb:0.0} cpu_pct={cpu:0.0} " +
            $"moh_streams={streams?.ToString() ?? "?"} rtp_pps={rtp / rtpWindow.TotalSeconds:0} threads={after.Threads} fds={after.OpenFiles} " +
            $"gen_cpu_pct={self:0.0} machine_pct={busy:0} park_s={parkSeconds:0.0} left_parked={left?.ToString() ?? "?"}");
        return failed == 0 && reported == settings.Calls && left == 0 ? 0 : 1;
    }

    private Task ParkAllAsync(CancellationToken cancellationToken) =>
        _flow.ParkManyAsync(settings.Calls, settings.Concurrency, settings.Rate, _parked, _failures, cancellationToken);

    private async Task ReleaseAllAsync(CancellationToken cancellationToken)
    {
        using var slots = new SemaphoreSlim(settings.Concurrency);
        var releases = new List<Task>(_parked.Count);
        foreach (var parked in _parked)
        {
            await slots.WaitAsync(cancellationToken);
            releases.Add(Task.Run(async () =>
            {
                try
                {
                    await _flow.ReleaseAsync(parked.Leg);
                }
                finally
                {
                    slots.Release();
                }
            }, cancellationToken));
        }
        await Task.WhenAll(releases);
    }

    /// <summary>Polls /status until it reports <paramref name="expected"/> parked calls (bounded); returns the last count.</summary>
    private async Task<int?> WaitParkedAsync(int expected, TimeSpan bound, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(bound.TotalSeconds * Stopwatch.Frequency);
        int? count;
        do
        {
            count = await lab.Admin.ParkedAsync(cancellationToken);
            if (count == expected) return count;
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }
        while (Stopwatch.GetTimestamp() < deadline);
        return count;
    }

    private static string Mb(long kb) => (kb / 1024.0).ToString("0.0");

    /// <summary>
    /// Waits (at most 40 s) until the pool's transactions from parking are over, so memory is read for calls that are
    /// parked rather than being parked: active transactions at most 1% of the calls, plus 50 for probes and keepalives.
    /// </summary>
    private async Task<(double? Active, TimeSpan Waited)> WaitTransactionsEndedAsync(int calls, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var limit = calls / 100 + 50;
        double? active = null;
        for (var i = 0; i < 80; i++)
        {
            active = await lab.Admin.MetricAsync("sipcallpark_transactions_active", cancellationToken);
            if (active is null || active <= limit) break;
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
        return (active, Stopwatch.GetElapsedTime(start));
    }
}
