using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.ParkLoad;

/// <summary>
/// The failover figure (docs/design.md §6, §10): parks <see cref="LoadSettings.Calls"/> calls on the primary, waits until the
/// primary reports them and its replication to the backup has gone quiet, prints <c>READY</c>, then waits for the
/// script that kills the primary to write the kill's Unix time in milliseconds to <see cref="LoadSettings.KillFile"/>.
/// From the kill it times, on the same clock: the backup's <c>/status</c> showing the primary in <c>Outage</c> (polled
/// every 10 ms), each parked party's BYE from the backup (the orphan teardown), and the first <c>200</c> to a REGISTER of
/// a primary user (<see cref="LoadSettings.RegisterUser"/>, lab password) sent to the backup every 20 ms. Everything is
/// bounded by <see cref="LoadSettings.Duration"/> after the kill.
/// </summary>
public sealed class FailoverRun(LoadSettings settings, LoadLab lab, TextWriter output)
{
    private static readonly TimeSpan KillFileBound = TimeSpan.FromMinutes(2);
    private readonly ParkFlow _flow = new(lab);
    private readonly ConcurrentBag<ParkedLeg> _parked = [];
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        await output.WriteLineAsync($"failover: parking {settings.Calls} calls on {settings.Pool} ({settings.Concurrency} at a time)");
        await ParkAllAsync(cancellationToken);
        var failed = _failures.Values.Sum();
        foreach (var (what, count) in _failures.OrderByDescending(f => f.Value).Take(10)) await output.WriteLineAsync($"  failed {count,6} × {what}");
        var reported = await WaitParkedAsync(_parked.Count, TimeSpan.FromSeconds(10), cancellationToken);
        var quiet = await WaitReplicationQuietAsync(TimeSpan.FromSeconds(15), cancellationToken);
        await output.WriteLineAsync($"parked {_parked.Count} ({failed} failed), the primary reports {reported?.ToString() ?? "?"}; " +
                                    $"replication {(quiet ? "caught up" : "did not go quiet within 15 s")}");

        // Each parked leg's end, stamped as it happens (Unix ms), from now on: a BYE before the kill would show as negative.
        var ends = new ConcurrentBag<(long At, CallEndReason Reason)>();
        var watches = _parked.Select(p => p.Leg.Ended.ContinueWith(
            t => ends.Add((DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), t.Result)), TaskScheduler.Default)).ToArray();

        await output.WriteLineAsync($"READY parked={_parked.Count}");
        await output.FlushAsync(cancellationToken);
        if (await WaitForKillAsync(cancellationToken) is not { } killedAt)
        {
            await output.WriteLineAsync($"parkload: no kill time in {settings.KillFile} within {KillFileBound.TotalSeconds:0} s");
            await ReleaseAllAsync();
            return 1;
        }
        await output.WriteLineAsync($"primary killed at {killedAt} (Unix ms); watching for {settings.Duration.TotalSeconds:0} s");
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(settings.Duration);
        var outage = WaitOutageAsync(bound.Token);
        var registration = FirstRegistrationAsync(bound.Token);
        try
        {
            await Task.WhenAll(watches).WaitAsync(bound.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
        var (outageAt, phaseSeen) = await outage;
        var (registeredAt, attempts, lastOutcome) = await registration;

        var byes = ends.Where(e => e.Reason == CallEndReason.RemoteHangUp).Select(e => e.At - killedAt).Order().ToArray();
        var otherEnds = ends.Count(e => e.Reason != CallEndReason.RemoteHangUp);
        var early = byes.Count(ms => ms < 0);
        await output.WriteLineAsync($"backup's phase for {settings.PrimaryName}: {phaseSeen}{(outageAt is { } o ? $" after {o - killedAt} ms" : " (no Outage seen)")}");
        await output.WriteLineAsync(byes.Length == 0
            ? $"orphan BYEs: none of {_parked.Count} parked parties got one"
            : $"orphan BYEs: {byes.Length} of {_parked.Count} parked parties, first {byes[0]} ms, last {byes[^1]} ms after the kill" +
              (early > 0 ? $" ({early} before the kill)" : "") + (otherEnds > 0 ? $"; {otherEnds} ended otherwise" : ""));
        await output.WriteLineAsync(registeredAt is { } r
            ? $"{settings.RegisterUser} registered at the backup {r - killedAt} ms after the kill (attempt {attempts}; before it: {lastOutcome})"
            : $"{settings.RegisterUser} did not register at the backup in {attempts} attempts (last: {lastOutcome})");
        await output.WriteLineAsync(
            $"RESULT mode=failover calls={settings.Calls} parked={_parked.Count} failed={failed} reported={reported?.ToString() ?? "?"} " +
            $"replication_quiet={(quiet ? 1 : 0)} outage_ms={Ms(outageAt, killedAt)} byes={byes.Length} " +
            $"first_bye_ms={(byes.Length > 0 ? byes[0].ToString(CultureInfo.InvariantCulture) : "?")} " +
            $"last_bye_ms={(byes.Length > 0 ? byes[^1].ToString(CultureInfo.InvariantCulture) : "?")} other_ends={otherEnds} " +
            $"register_ms={Ms(registeredAt, killedAt)} register_attempts={attempts}");
        await ReleaseAllAsync();
        return failed == 0 && outageAt is not null && byes.Length == _parked.Count && early == 0 && registeredAt is not null ? 0 : 1;
    }

    private static string Ms(long? at, long killedAt) => at is { } a ? (a - killedAt).ToString(CultureInfo.InvariantCulture) : "?";

    private Task ParkAllAsync(CancellationToken cancellationToken) =>
        _flow.ParkManyAsync(settings.Calls, settings.Concurrency, 0, _parked, _failures, cancellationToken);

    /// <summary>Hangs up whatever is still parked (a run that did not get its BYEs), bounded per call.</summary>
    private async Task ReleaseAllAsync()
    {
        foreach (var parked in _parked.Where(p => !p.Leg.IsEnded)) await _flow.ReleaseAsync(parked.Leg);
    }

    private async Task<int?> WaitParkedAsync(int expected, TimeSpan bound, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        int? count;
        do
        {
            count = await lab.Admin.ParkedAsync(cancellationToken);
            if (count == expected) return count;
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
        while (Stopwatch.GetElapsedTime(started) < bound);
        return count;
    }

    /// <summary>
    /// Until the primary's replication has nothing pending and its batch counter has not moved for 600 ms (three batch
    /// intervals of the shipped 200 ms): what was parked has reached the backup. Replication is asynchronous, so a park
    /// made just before a crash is lost; the figure is about calls the backup has heard of.
    /// </summary>
    private async Task<bool> WaitReplicationQuietAsync(TimeSpan bound, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        (double?, double?) last = (null, null);
        var quietSince = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < bound)
        {
            var now = (await lab.Admin.MetricAsync("sipcallpark_replication_pending_changes", cancellationToken),
                       await lab.Admin.MetricSumAsync("sipcallpark_replication_batches_total", cancellationToken));
            if (now.Item1 is null) return false;
            if (now != last)
            {
                last = now;
                quietSince = Stopwatch.GetTimestamp();
            }
            else if (now.Item1 == 0 && Stopwatch.GetElapsedTime(quietSince) >= TimeSpan.FromMilliseconds(600)) return true;
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
        return false;
    }

    private async Task<long?> WaitForKillAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < KillFileBound)
        {
            try
            {
                var text = await File.ReadAllTextAsync(settings.KillFile!, cancellationToken);
                if (text.EndsWith('\n') && long.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var at)) return at;
            }
            catch (Exception e) when (e is FileNotFoundException or IOException)
            {
            }
            await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken);
        }
        return null;
    }

    /// <summary>Polls the backup's /status every 10 ms; the Unix ms it first showed the primary in Outage, and the last phase seen.</summary>
    private async Task<(long? At, string Phase)> WaitOutageAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = settings.BackupAdmin, Timeout = TimeSpan.FromSeconds(2) };
        var phase = "?";
        try
        {
            while (true)
            {
                try
                {
                    using var status = JsonDocument.Parse(await http.GetStringAsync("/status", cancellationToken));
                    foreach (var entry in status.RootElement.GetProperty("dr").EnumerateArray())
                    {
                        if (!string.Equals(entry.GetProperty("pool").GetString(), settings.PrimaryName, StringComparison.OrdinalIgnoreCase)) continue;
                        phase = entry.GetProperty("phase").GetString() ?? "?";
                        if (phase == "Outage") return (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), phase);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException)
                {
                    phase = $"unreadable ({e.GetType().Name})";
                }
                catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    phase = "no answer within 2 s";
                }
                await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            return (null, phase);
        }
    }

    /// <summary>A fresh phone for <see cref="LoadSettings.RegisterUser"/> REGISTERs at the backup every 20 ms until a 2xx.</summary>
    private async Task<(long? At, int Attempts, string LastOutcome)> FirstRegistrationAsync(CancellationToken cancellationToken)
    {
        var backup = settings.Backup!.Value;
        await using var phone = await LoadPhone.StartAsync(settings.RegisterUser, settings with { Pool = backup }, lab.Sink.Port,
                                                           supportsReplaces: true, cancellationToken);
        var attempts = 0;
        var last = "none";
        while (!cancellationToken.IsCancellationRequested)
        {
            attempts++;
            var (ok, outcome) = await phone.RegisterAsync(backup, TimeSpan.FromSeconds(1));
            if (ok) return (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), attempts, last);
            last = outcome;
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        return (null, attempts, last);
    }
}
