using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace SipCallPark.Lab;

/// <summary>
/// One pool of the lab pair: its loopback ports, its data directory (kept across a restart, so a returning pool
/// resumes from its state store) and the process currently running it. Reads its admin API for DR phases.
/// </summary>
internal sealed class LabPool : IDisposable
{
    private readonly LabSettings _settings;
    private readonly string _topologyFile;
    private readonly string _folder;
    private readonly string _tracePrefix;
    private int _runs;

    public LabPool(LabSettings settings, string name, string folder, string topologyFile, string tracePrefix, int sipPort, int adminPort, int mediaFirstPort)
    {
        _settings = settings;
        Name = name;
        _folder = folder;
        _topologyFile = topologyFile;
        _tracePrefix = tracePrefix;
        SipPort = sipPort;
        AdminPort = adminPort;
        MediaFirstPort = mediaFirstPort;
        Directory.CreateDirectory(Path.Combine(folder, "data"));
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}"), Timeout = settings.Bound };
    }

    public string Name { get; }

    public int SipPort { get; }

    public int AdminPort { get; }

    public int MediaFirstPort { get; }

    public IPEndPoint SipEndPoint => new(IPAddress.Loopback, SipPort);

    public HttpClient Http { get; }

    public PoolProcess? Process { get; private set; }

    /// <summary>Console output of every run of this pool so far, for a failing cell's report.</summary>
    public string Output => string.Join(Environment.NewLine, _outputs.Select(p => p.Output));

    private readonly List<PoolProcess> _outputs = [];

    /// <summary>Starts (or restarts on the same ports and data) the pool and waits until its host runs.</summary>
    public async Task StartAsync()
    {
        if (Process is { HasExited: false }) throw new InvalidOperationException($"{Name} is already running (pid {Process.Id})");
        _runs++;
        var args = new List<string>
        {
            "--config", Path.Combine(_settings.ConfigDirectory, $"{Name}.json"),
            $"--Pool:Sip:Port={SipPort}",
            $"--Pool:Admin:Url=http://127.0.0.1:{AdminPort}",
            $"--Pool:TopologyFile={_topologyFile}",
            $"--Pool:UsersFile={Path.Combine(_settings.ConfigDirectory, "users.json")}",
            $"--Pool:DataDirectory={Path.Combine(_folder, "data")}",
            "--Pool:Park:OrbitAssignment=Lowest",
            $"--Pool:Park:MediaPorts={MediaFirstPort}-{MediaFirstPort + 99}",
            $"--Pool:Health:Interval={Span(_settings.HealthInterval)}",
            $"--Pool:Health:DownAfter={Span(_settings.DownAfter)}",
            $"--Pool:Health:SuccessesToUp={_settings.SuccessesToUp}",
            $"--Pool:Dr:FailoverDuration={Span(_settings.FailoverDuration)}",
            $"--Pool:Dr:FailbackDuration={Span(_settings.FailbackDuration)}",
        };
        if (_settings.PcapDirectory is { } pcap)
        {
            var run = _runs == 1 ? "" : $"-run{_runs}";
            args.AddRange(["--pcap", Path.Combine(pcap, $"{_tracePrefix}-{Name}{run}.pcap")]);
        }
        Process = PoolProcess.Start(_settings.PoolDll, _folder, args);
        _outputs.Add(Process);
        if (!await Process.WaitUntilStartedAsync(_settings.Bound * 3))
            throw new LabException($"{Name} did not start: {Process.Output}");
    }

    /// <summary>The outage: SIGKILL to the running process. Returns the Stopwatch timestamp taken just before it.</summary>
    public long Kill()
    {
        var process = Process ?? throw new InvalidOperationException($"{Name} is not running");
        var at = Stopwatch.GetTimestamp();
        process.Kill();
        return at;
    }

    /// <summary>This pool's view of <paramref name="pool"/>: its DR phase and, when it probes that pool, its health.</summary>
    public async Task<(string Phase, bool? Healthy)> DrOfAsync(string pool)
    {
        var status = await Http.GetFromJsonAsync<JsonElement>("/status");
        foreach (var entry in status.GetProperty("dr").EnumerateArray())
        {
            if (!string.Equals(entry.GetProperty("pool").GetString(), pool, StringComparison.OrdinalIgnoreCase)) continue;
            var healthy = entry.GetProperty("healthy");
            return (entry.GetProperty("phase").GetString()!, healthy.ValueKind == JsonValueKind.Null ? null : healthy.GetBoolean());
        }
        throw new LabException($"{Name}'s /status names no pool {pool}");
    }

    /// <summary>Polls /status every 20 ms until <paramref name="condition"/> holds; the Stopwatch timestamp it first held.</summary>
    public async Task<long> WaitForAsync(string pool, Func<string, bool?, bool> condition, string what)
    {
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < _settings.Bound)
        {
            var (phase, healthy) = await DrOfAsync(pool);
            if (condition(phase, healthy)) return Stopwatch.GetTimestamp();
            await Task.Delay(20);
        }
        var (last, lastHealthy) = await DrOfAsync(pool);
        throw new LabException($"{Name} did not see {pool} {what} within {_settings.Bound.TotalSeconds:0} s (phase {last}, healthy {lastHealthy})");
    }

    public Task<long> WaitForPhaseAsync(string pool, string phase) => WaitForAsync(pool, (p, _) => p == phase, $"reach {phase}");

    /// <summary>POST /dr/failover or /dr/failback for <paramref name="pool"/> (this pool must be its backup); the timestamp it was sent.</summary>
    public async Task<long> DrCommandAsync(string command, string pool)
    {
        var at = Stopwatch.GetTimestamp();
        using var response = await Http.PostAsJsonAsync($"/dr/{command}", new { pool });
        if (!response.IsSuccessStatusCode)
            throw new LabException($"{command} {pool} at {Name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return at;
    }

    /// <summary>
    /// Waits until this pool's replication to its backup has caught up: nothing pending, at least one request (batch
    /// or snapshot) accepted since <paramref name="acceptedBefore"/>, and both counters unchanged for twice the batch
    /// interval (so a batch that was in flight has landed). False when the pool does not report replication metrics
    /// (it does not replicate).
    /// </summary>
    public async Task<bool> WaitForReplicationAsync(double acceptedBefore)
    {
        var started = Stopwatch.GetTimestamp();
        (double, double, double)? last = null;
        var quietSince = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < _settings.Bound)
        {
            var reading = await ReplicationAsync();
            if (reading is not { } now) return false;
            if (now != last)
            {
                last = now;
                quietSince = Stopwatch.GetTimestamp();
            }
            else if (now.Pending == 0 && now.Accepted > acceptedBefore && Stopwatch.GetElapsedTime(quietSince) >= QuietReplication) return true;
            await Task.Delay(20);
        }
        throw new LabException($"{Name}'s replication did not catch up within {_settings.Bound.TotalSeconds:0} s (pending, accepted, failed: {last})");
    }

    /// <summary>Two batch intervals of the shipped Pool:Replication:BatchInterval (200 ms).</summary>
    private static readonly TimeSpan QuietReplication = TimeSpan.FromMilliseconds(400);

    /// <summary>
    /// Waits until the backup has accepted this pool's first replication request (the snapshot that opens the link),
    /// so what a cell changes next goes as batches to a backup that listens. Both pools start at once, so the first
    /// tries may meet a backup whose admin API is not listening yet and wait out a retry delay. False when the pool
    /// does not report replication metrics (it does not replicate).
    /// </summary>
    public async Task<bool> WaitForReplicationLinkAsync()
    {
        var started = Stopwatch.GetTimestamp();
        (double Pending, double Accepted, double Failed)? last = null;
        while (Stopwatch.GetElapsedTime(started) < _settings.Bound)
        {
            last = await ReplicationAsync();
            if (last is not { } now) return false;
            if (now.Accepted >= 1) return true;
            await Task.Delay(20);
        }
        throw new LabException($"{Name}'s replication link did not open within {_settings.Bound.TotalSeconds:0} s (pending, accepted, failed: {last})");
    }

    /// <summary>
    /// This pool's replication counters from /metrics: changes pending, requests the backup accepted (change batches
    /// and snapshots: after a failure the sender sends a snapshot, which carries every change queued meanwhile),
    /// failed requests.
    /// </summary>
    public async Task<(double Pending, double Accepted, double Failed)?> ReplicationAsync()
    {
        var text = await Http.GetStringAsync("/metrics");
        double? pending = null, changes = null, snapshots = null, failed = null;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("sipcallpark_replication_pending_changes ", StringComparison.Ordinal)) pending = Value(line);
            else if (line.StartsWith("sipcallpark_replication_batches_total{", StringComparison.Ordinal) && line.Contains("kind=\"changes\"", StringComparison.Ordinal)) changes = Value(line);
            else if (line.StartsWith("sipcallpark_replication_batches_total{", StringComparison.Ordinal) && line.Contains("kind=\"snapshot\"", StringComparison.Ordinal)) snapshots = Value(line);
            else if (line.StartsWith("sipcallpark_replication_failures_total{", StringComparison.Ordinal)) failed = Value(line);
        }
        return pending is { } p && changes is { } c ? (p, c + (snapshots ?? 0), failed ?? 0) : null;

        static double Value(string line) => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }

    /// <summary>The orbits this pool lists in GET /parked.</summary>
    public async Task<string[]> ParkedOrbitsAsync() =>
        (await Http.GetFromJsonAsync<JsonElement>("/parked")).EnumerateArray().Select(c => c.GetProperty("orbit").GetString()!).ToArray();

    public void Dispose()
    {
        foreach (var process in _outputs) process.Dispose();
        Http.Dispose();
    }

    private static string Span(TimeSpan span) => span.ToString("c", CultureInfo.InvariantCulture);
}

/// <summary>The lab could not set a cell up or a wait overran its bound: the cell fails with this message.</summary>
internal sealed class LabException(string message) : Exception(message);
