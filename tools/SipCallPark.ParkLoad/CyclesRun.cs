using System.Diagnostics;

namespace SipCallPark.ParkLoad;

/// <summary>
/// Park+retrieve+hang-up cycles for <see cref="LoadSettings.Duration"/>: open loop at <see cref="LoadSettings.Rate"/>
/// (a cycle that would exceed <see cref="LoadSettings.Concurrency"/> in flight is not started and counts as failed:
/// the pool is not keeping up), or closed loop with <see cref="LoadSettings.Concurrency"/> cycles at a time. Prints
/// progress each second, then the totals and one <c>RESULT</c> line for scripts.
/// </summary>
public sealed class CyclesRun(LoadSettings settings, LoadLab lab, TextWriter output)
{
    private readonly ParkFlow _flow = new(lab);
    private readonly CycleStats _stats = new();
    private int _inFlight;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var openLoop = settings.Rate > 0;
        await output.WriteLineAsync(openLoop
            ? $"cycles: open loop at {settings.Rate:0.#}/s for {settings.Duration.TotalSeconds:0.#} s (at most {settings.Concurrency} in flight)"
            : $"cycles: closed loop, {settings.Concurrency} at a time, for {settings.Duration.TotalSeconds:0.#} s");
        var cpu = settings.PoolPid is { } pid ? PoolProcess.TrySample(pid) : null;
        var machine = MachineLoad.Sample();
        var messagesBefore = lab.MessagesReceived;
        var start = Stopwatch.GetTimestamp();
        using var stopProgress = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var progress = ProgressAsync(start, stopProgress.Token);
        var cycles = new List<Task>();
        if (openLoop) await OpenLoopAsync(start, cycles, cancellationToken);
        else await ClosedLoopAsync(start, cycles, cancellationToken);
        var startedFor = Stopwatch.GetElapsedTime(start);
        // Every step is bounded, so this ends; the extra bound only guards against a bug here.
        var drainBound = settings.StepTimeout * 4 + settings.ParkedFor + TimeSpan.FromSeconds(5);
        try
        {
            await Task.WhenAll(cycles).WaitAsync(drainBound, cancellationToken);
        }
        catch (TimeoutException)
        {
            await output.WriteLineAsync($"parkload: {cycles.Count(c => !c.IsCompleted)} cycles still running after {drainBound.TotalSeconds:0} s");
        }
        var wall = Stopwatch.GetElapsedTime(start);
        var cpuPercent = cpu is { } before && PoolProcess.TrySample(before.Pid) is { } after ? PoolProcess.CpuPercent(before, after) : (double?)null;
        var (busy, capacity, self) = MachineLoad.Between(machine, MachineLoad.Sample());
        await stopProgress.CancelAsync();
        await progress;

        var active = _stats.LastCompletion > start ? Stopwatch.GetElapsedTime(start, _stats.LastCompletion) : wall;
        var achieved = _stats.Completed / Math.Max(active.TotalSeconds, 0.001);
        // Let the pool's last BYEs and journal removals land before asking it what is left.
        await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        var leftParked = await lab.Admin.ParkedAsync(cancellationToken);
        var leftBridges = await lab.Admin.MetricAsync("sipcallpark_park_bridges_active", cancellationToken);
        var messages = lab.MessagesReceived - messagesBefore;

        await output.WriteLineAsync();
        await output.WriteLineAsync($"attempted {_stats.Attempted}, completed {_stats.Completed}, failed {_stats.Failed} " +
                                    $"in {startedFor.TotalSeconds:0.0} s of starting ({wall.TotalSeconds:0.0} s with the drain)");
        await output.WriteLineAsync($"achieved {achieved:0.0} cycles/s; cycle latency p50 {_stats.CyclePercentile(50):0.0} ms, " +
                                    $"p99 {_stats.CyclePercentile(99):0.0} ms, max {_stats.CyclePercentile(100):0.0} ms; park step p50 {_stats.ParkPercentile(50):0.0} ms, p99 {_stats.ParkPercentile(99):0.0} ms");
        await output.WriteLineAsync($"alice received {messages} park MESSAGEs; after the run the pool reports {Show(leftParked)} parked, {Show(leftBridges)} bridges");
        await output.WriteLineAsync($"CPU during the run (100% = one core): pool {(cpuPercent is { } c ? c.ToString("0") : "?")}%, load generator {self:0}%, " +
                                    $"whole machine {busy:0}% of {capacity:0}% ({Environment.ProcessorCount} cores)");
        foreach (var (what, count) in _stats.Failures.Take(15)) await output.WriteLineAsync($"  failed {count,6} × {what}");
        await output.WriteLineAsync(
            $"RESULT mode=cycles loop={(openLoop ? "open" : "closed")} rate={settings.Rate:0.#} concurrency={settings.Concurrency} seconds={settings.Duration.TotalSeconds:0.#} " +
            $"attempted={_stats.Attempted} completed={_stats.Completed} failed={_stats.Failed} cps={achieved:0.0} " +
            $"p50_ms={_stats.CyclePercentile(50):0.0} p99_ms={_stats.CyclePercentile(99):0.0} cpu_pct={(cpuPercent is { } p ? p.ToString("0") : "?")} " +
            $"gen_cpu_pct={self:0} machine_pct={busy:0} left_parked={Show(leftParked)} messages={messages}");
        return _stats.Failed == 0 && _stats.Completed > 0 ? 0 : 1;
    }

    private async Task OpenLoopAsync(long start, List<Task> cycles, CancellationToken cancellationToken)
    {
        var total = (long)Math.Round(settings.Rate * settings.Duration.TotalSeconds);
        for (long i = 0; i < total && !cancellationToken.IsCancellationRequested; i++)
        {
            var due = TimeSpan.FromSeconds(i / settings.Rate);
            var wait = due - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.FromMilliseconds(1)) await Task.Delay(wait, cancellationToken);
            if (Volatile.Read(ref _inFlight) >= settings.Concurrency)
            {
                _stats.Started();
                _stats.FailedAt(CycleStep.Park, $"not started: {settings.Concurrency} cycles already in flight");
                continue;
            }
            cycles.Add(Task.Run(() => CycleAsync(cancellationToken), cancellationToken));
        }
    }

    private async Task ClosedLoopAsync(long start, List<Task> cycles, CancellationToken cancellationToken)
    {
        for (var w = 0; w < settings.Concurrency; w++)
        {
            cycles.Add(Task.Run(async () =>
            {
                while (!cancellationToken.IsCancellationRequested && Stopwatch.GetElapsedTime(start) < settings.Duration)
                    await CycleAsync(cancellationToken);
            }, cancellationToken));
        }
        try
        {
            await Task.Delay(settings.Duration, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task CycleAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _inFlight);
        _stats.Started();
        try
        {
            var started = Stopwatch.GetTimestamp();
            var park = await _flow.ParkAsync(lab.NextParked(), cancellationToken);
            if (park.Value is not { } parked)
            {
                _stats.FailedAt(CycleStep.Park, park.Failure!);
                return;
            }
            var parkedAt = Stopwatch.GetTimestamp();
            if (settings.ParkedFor > TimeSpan.Zero) await Task.Delay(settings.ParkedFor, cancellationToken);
            var retrieve = await _flow.RetrieveAsync(lab.NextRetriever(), parked.Orbit, cancellationToken);
            if (retrieve.Value is not { } retrieverLeg)
            {
                _stats.FailedAt(CycleStep.Retrieve, retrieve.Failure!);
                await _flow.ReleaseAsync(parked.Leg);
                return;
            }
            var (step, failure) = await _flow.HangUpAsync(retrieverLeg, parked.Leg, cancellationToken);
            if (failure is not null) _stats.FailedAt(step, failure);
            else _stats.Succeeded(started, parkedAt);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _stats.FailedAt(CycleStep.Park, $"load generator: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task ProgressAsync(long start, CancellationToken cancellationToken)
    {
        var last = 0L;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var completed = _stats.Completed;
                await output.WriteLineAsync($"  t={Stopwatch.GetElapsedTime(start).TotalSeconds,5:0} s  started {_stats.Attempted,7}  completed {completed,7} " +
                                            $"(+{completed - last,5}/s)  failed {_stats.Failed,5}  in flight {Volatile.Read(ref _inFlight),5}");
                last = completed;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string Show<T>(T? value) where T : struct => value?.ToString() ?? "?";
}
