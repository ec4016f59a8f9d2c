using System.Diagnostics;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Lab;

/// <summary>
/// One cell's run: a fresh pool pair, the phones, the DR steps (kill pool-a, wait for the outage, failover, restart
/// and failback) with their timings, and the observations the cell makes. Disposing stops phones, then pools.
/// </summary>
internal sealed class CellRun : IAsyncDisposable
{
    private readonly List<LabPhone> _phones = [];
    private readonly List<Observation> _observations = [];
    private long? _killedAt;
    private double? _outageDetected;
    private double? _orphansByed;
    private double? _failover;
    private double? _failback;

    public CellRun(LabSettings settings, SeedCell cell)
    {
        Settings = settings;
        Cell = cell;
        Pools = PoolPair.Create(settings, cell.Slug);
    }

    public LabSettings Settings { get; }

    public SeedCell Cell { get; }

    public PoolPair Pools { get; }

    public LabPool A => Pools.A;

    public LabPool B => Pools.B;

    public CellTimings Timings => new(_outageDetected, _orphansByed, _failover, _failback);

    public IReadOnlyList<Observation> Observations => _observations;

    /// <summary>Records what was seen; <paramref name="held"/> false makes the cell fail.</summary>
    public void See(bool held, string what) => _observations.Add(new Observation(what, held));

    /// <summary>A phone of <paramref name="user"/> registered at <paramref name="pool"/>, checked for the mode the pool gives it.</summary>
    public async Task<LabPhone> PhoneAsync(string user, LabPool pool, string expectedMode = "normal")
    {
        var phone = await LabPhone.StartAsync(user, pool);
        _phones.Add(phone);
        var result = await phone.RegisterAsync();
        var mode = ModeOf(result);
        if (result.StatusCode != 200 || mode != expectedMode)
            See(false, $"{user} REGISTER at {pool.Name} → {result.StatusCode} {mode} (wanted 200 {expectedMode})");
        return phone;
    }

    public static string ModeOf(ClientTransactionResult result) => result.Response?.Headers.Get("X-Registration-Mode") ?? "-";

    /// <summary>
    /// Reads pool-a's replication counters before the cell's calls are set up, so <see cref="KillPrimaryAndDetectAsync"/>
    /// can wait for what they changed to reach pool-b.
    /// </summary>
    public async Task MarkReplicationAsync() => _acceptedBefore = (await A.ReplicationAsync())?.Accepted ?? 0;

    private double? _acceptedBefore;

    /// <summary>
    /// The outage: SIGKILL to pool-a, then the time until pool-b's /status shows it in Outage. When the cell set up
    /// calls on pool-a (<see cref="MarkReplicationAsync"/>), the kill waits until pool-a's replication has caught up:
    /// replication is asynchronous (batches every 200 ms), so a park made milliseconds before a crash is lost, in
    /// Lync too; the seed table is about calls the backup has heard of.
    /// </summary>
    public async Task KillPrimaryAndDetectAsync()
    {
        if (_acceptedBefore is { } before)
        {
            var caughtUp = await A.WaitForReplicationAsync(before);
            // A note, not a verdict: the cells that need the replica fail on what the phones see.
            See(true, caughtUp ? "pool-a's state replicated to pool-b, then pool-a killed" : "pool-a reports no replication; killed");
        }
        _killedAt = A.Kill();
        var detected = await B.WaitForPhaseAsync(A.Name, "Outage");
        _outageDetected = Ms(_killedAt.Value, detected);
    }

    /// <summary>POST /dr/failover to pool-b for pool-a; then <see cref="CompleteFailoverAsync"/> waits for FailedOver.</summary>
    public async Task<long> StartFailoverAsync() => await B.DrCommandAsync("failover", A.Name);

    public async Task CompleteFailoverAsync(long commandAt)
    {
        var done = await B.WaitForPhaseAsync(A.Name, "FailedOver");
        _failover = Ms(commandAt, done);
    }

    /// <summary>
    /// pool-a comes back on the same ports and data; once pool-b sees it healthy, POST /dr/failback to pool-b, and
    /// wait until pool-a has learned (from pool-b's OPTIONS answers) that it is failing back.
    /// </summary>
    public async Task<long> RestartPrimaryAndStartFailbackAsync()
    {
        await A.StartAsync();
        await B.WaitForAsync(A.Name, (_, healthy) => healthy == true, "healthy again");
        await A.WaitForPhaseAsync(A.Name, "FailedOver");
        var at = await B.DrCommandAsync("failback", A.Name);
        await A.WaitForPhaseAsync(A.Name, "FailingBack");
        return at;
    }

    public async Task CompleteFailbackAsync(long commandAt)
    {
        var done = await B.WaitForPhaseAsync(A.Name, "Normal");
        _failback = Ms(commandAt, done);
        await A.WaitForPhaseAsync(A.Name, "Normal");
    }

    /// <summary>pool-b's phase for pool-a right now (to show a check ran inside the phase it is about).</summary>
    public async Task<string> PhaseOfPrimaryAtBackupAsync() => (await B.DrOfAsync(A.Name)).Phase;

    /// <summary>Waits for <paramref name="watch"/>'s call to end (a BYE from the pool), at most <paramref name="within"/>.</summary>
    public async Task<bool> WaitForByeAsync(CallWatch watch, TimeSpan within)
    {
        try
        {
            await watch.Call.Ended.WaitAsync(within);
        }
        catch (TimeoutException)
        {
            return false;
        }
        // The watch's own continuation usually ran first and stamped the BYE; if not, now is within a scheduling tick of it.
        var ended = watch.EndedAt ?? Stopwatch.GetTimestamp();
        var byed = await watch.Call.Ended == CallEndReason.RemoteHangUp;
        if (byed && _killedAt is { } killed) _orphansByed ??= Ms(killed, ended);
        return byed;
    }

    /// <summary>Watches calls that must stay up for <see cref="LabSettings.QuietWindow"/>; sees one observation for all.</summary>
    public async Task SeeStayingUpAsync(string when, params CallWatch[] calls)
    {
        await Task.Delay(Settings.QuietWindow);
        var ended = calls.Where(c => !c.IsUp).ToArray();
        See(ended.Length == 0, ended.Length == 0
            ? $"{string.Join(" and ", calls.Select(c => c.Label))}: no BYE {when} (watched {Settings.QuietWindow.TotalSeconds:0.#} s)"
            : $"{string.Join(", ", ended.Select(c => $"{c.Label} ended ({c.Reason})"))} {when}");
    }

    /// <summary>How a refused park REFER was answered: <c>403 (warning)</c>, or for the refusal that keeps the call
    /// (docs/design.md §7) <c>202, subscription ended with 100 (warning)</c>.</summary>
    public static string Refusal(ReferOutcome outcome)
    {
        var status = outcome.Accepted ? $"{outcome.ReferStatus}, subscription ended with {outcome.StatusCode}" : outcome.ReferStatus.ToString();
        return outcome.ReferResponse?.Headers.Get(HeaderNames.Warning) is { } warning ? $"{status} ({warning})" : status;
    }

    /// <summary>The refusal that keeps the call: 202 with a Warning, then the subscription ended without a final status.</summary>
    public static bool RefusedKeepingCall(ReferOutcome outcome) =>
        outcome.ReferStatus == 202 && outcome.StatusCode == 100 && outcome.ReferResponse?.Headers.Get(HeaderNames.Warning) is not null;

    public CellResult Result(string? error) =>
        new(Cell, _observations.ToArray(), Timings, error, error is null && _observations.All(o => o.Held) ? "" : Pools.Output, Pools.Folder);

    public async ValueTask DisposeAsync()
    {
        foreach (var phone in _phones) await phone.DisposeAsync();
        Pools.Dispose();
    }

    private static double Ms(long from, long to) => Math.Round(Stopwatch.GetElapsedTime(from, to).TotalMilliseconds);
}
