using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Pairing;
using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.State;

namespace SipCallPark.Pool.Replication;

/// <summary>
/// Streams this pool's own bindings and park dialogs to its backup's admin API (docs/design.md §7 "Replication"). The stores'
/// decorators (<see cref="ReplicatedBindingStore"/>, <see cref="ReplicatedParkJournal"/>) queue the keys that changed;
/// every <see cref="ReplicationOptions.BatchInterval"/> the sender reads their current values and posts them as one
/// <see cref="ReplicationBatch"/>. A failed request is retried by a Polly pipeline (per-request timeout, exponential
/// backoff without end); once the backup answers again a full <see cref="ReplicationSnapshot"/> goes before any
/// further batch, so nothing that changed while it was away is lost. The first contact is a snapshot too.
/// </summary>
internal sealed class ReplicationSender : IAsyncDisposable
{
    private readonly string _self;
    private readonly Uri _backupAdmin;
    private readonly ReplicationOptions _options;
    private readonly HttpClient _http;
    private readonly PartnerAuthenticator _signer;
    private readonly SipMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _pipeline;
    private readonly Channel<Change> _changes;
    private readonly IDisposable _pendingGauge;
    private readonly CancellationTokenSource _stop = new();
    private IBindingStore? _bindings;
    private IParkJournal? _journal;
    private IBridgeJournal? _bridgeJournal;
    private Task _loop = Task.CompletedTask;
    private int _overflowed;
    private volatile bool _needsSnapshot = true;
    private volatile LinkState _link = LinkState.NotYetReached;
    private bool _reached;

    private enum LinkState { NotYetReached, Working, Failing }

    private enum ChangeKind { Bindings, Park, Bridge }

    /// <summary>A key that changed: an address of record, one of this pool's orbits, or a bridge id.</summary>
    private readonly record struct Change(ChangeKind Kind, string Key);

    /// <param name="backupAdmin">The backup's admin API base URL (its <c>Admin</c> in the topology).</param>
    /// <param name="handler">The HTTP handler (tests fake it); disposed with the sender.</param>
    /// <param name="signer">Signs each request with the pools' shared secret; the backup takes nothing unsigned.</param>
    public ReplicationSender(string self, string backup, Uri backupAdmin, ReplicationOptions options, HttpMessageHandler handler,
        PartnerAuthenticator signer, SipMetrics metrics, TimeProvider time, ILogger<ReplicationSender> logger)
    {
        _signer = signer;
        options.Validate();
        _self = self;
        Backup = backup;
        _backupAdmin = backupAdmin.AbsoluteUri.EndsWith('/') ? backupAdmin : new Uri(backupAdmin.AbsoluteUri + "/");
        _options = options;
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _changes = Channel.CreateBounded<Change>(new BoundedChannelOptions(options.MaxPending)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails, and the overflow is covered by a snapshot
        });
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>().Handle<TimeoutRejectedException>().Handle<ReplicationRefusedException>(),
                MaxRetryAttempts = int.MaxValue, // until the backup answers or the pool stops
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                MaxDelay = options.MaxRetryDelay,
                OnRetry = args =>
                {
                    Failed(args.Outcome.Exception, args.RetryDelay);
                    return default;
                },
            })
            .AddTimeout(options.RequestTimeout)
            .Build();
        _pendingGauge = metrics.RegisterGauge("replication_pending_changes", "Changed keys waiting to be replicated to the backup pool",
            () => _changes.Reader.Count);
        metrics.Add(BatchesMetric, BatchesHelp, 0, ("partner", backup), ("kind", "changes"));
        metrics.Add(BatchesMetric, BatchesHelp, 0, ("partner", backup), ("kind", "snapshot"));
        metrics.Add(FailuresMetric, FailuresHelp, 0, ("partner", backup));
    }

    internal const string BatchesMetric = "replication_batches_total";
    internal const string FailuresMetric = "replication_failures_total";
    private const string BatchesHelp = "Replication requests the backup pool accepted, by kind (changes, snapshot)";
    private const string FailuresHelp = "Replication requests to the backup pool that failed (each retry counts)";

    /// <summary>The pool this one replicates to.</summary>
    public string Backup { get; }

    /// <summary>Changed keys not yet sent.</summary>
    public int Pending => _changes.Reader.Count;

    /// <summary>True while the backup is not answering (after at least one failure, until the next success).</summary>
    public bool IsFailing => _link == LinkState.Failing;

    /// <summary>The store whose own bindings are replicated (read when a batch or snapshot is built).</summary>
    public void ReadFrom(IBindingStore bindings) => _bindings = bindings;

    /// <summary>The journal whose own park dialogs are replicated.</summary>
    public void ReadFrom(IParkJournal journal) => _journal = journal;

    /// <summary>The journal whose own bridged calls are replicated; without one, none are.</summary>
    public void ReadFrom(IBridgeJournal bridges) => _bridgeJournal = bridges;

    public void BindingsChanged(string aor) => Enqueue(new Change(ChangeKind.Bindings, aor));

    public void ParkChanged(string orbit) => Enqueue(new Change(ChangeKind.Park, orbit));

    public void BridgeChanged(string id) => Enqueue(new Change(ChangeKind.Bridge, id));

    /// <summary>Starts the loop: a snapshot at once, then batches as changes come.</summary>
    public void Start()
    {
        if (_bindings is null || _journal is null) throw new InvalidOperationException("ReadFrom both stores before Start");
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    private void Enqueue(Change change)
    {
        if (!_changes.Writer.TryWrite(change)) Interlocked.Exchange(ref _overflowed, 1);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (!_needsSnapshot && Volatile.Read(ref _overflowed) == 0)
                {
                    if (!await _changes.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false)) return;
                    // Gather what else changes meanwhile, unless a full batch is already waiting.
                    if (_changes.Reader.Count < _options.MaxBatch)
                        await Task.Delay(_options.BatchInterval, _time, cancellationToken).ConfigureAwait(false);
                }
                await SendPendingAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Not a failure of the backup (those are retried inside): a bug. Keep replicating after a pause.
                _logger.LogError(e, "Replication to {Backup} failed unexpectedly", Backup);
                _needsSnapshot = true;
                try
                {
                    await Task.Delay(_options.MaxRetryDelay, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Sends what is pending — a snapshot when one is due, else one batch of at most
    /// <see cref="ReplicationOptions.MaxBatch"/> changed keys — retrying until the backup takes it.
    /// </summary>
    internal async Task SendPendingAsync(CancellationToken cancellationToken)
    {
        var keys = new HashSet<Change>();
        Drain(keys, _options.MaxBatch);
        if (keys.Count == 0 && !_needsSnapshot && Volatile.Read(ref _overflowed) == 0) return;
        await _pipeline.ExecuteAsync(async token =>
        {
            if (Interlocked.Exchange(ref _overflowed, 0) == 1) _needsSnapshot = true;
            if (_needsSnapshot)
            {
                // The snapshot is read after the queue is emptied, so it holds every change queued so far.
                Drain(null, int.MaxValue);
                keys.Clear();
                await SendSnapshotAsync(token).ConfigureAwait(false);
            }
            else
            {
                await SendBatchAsync(keys, token).ConfigureAwait(false);
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    private void Drain(HashSet<Change>? into, int max)
    {
        for (var n = into?.Count ?? 0; n < max && _changes.Reader.TryRead(out var change); n++) into?.Add(change);
    }

    private async Task SendSnapshotAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var snapshot = new ReplicationSnapshot(_bindings!.All(now).Where(IsOwn).ToArray(), _journal!.ForPool(_self), _bridgeJournal?.ForPool(_self) ?? []);
        await SendAsync(HttpMethod.Put, "snapshot", snapshot, cancellationToken).ConfigureAwait(false);
        _needsSnapshot = false;
        _metrics.Increment(BatchesMetric, BatchesHelp, ("partner", Backup), ("kind", "snapshot"));
        var previous = _link;
        _link = LinkState.Working;
        var first = !_reached;
        _reached = true;
        if (!first && previous == LinkState.Failing)
            _logger.LogWarning("Replication to {Backup} resumes: snapshot of {Bindings} bindings and {Parks} parked dialogs sent",
                Backup, snapshot.Bindings.Count, snapshot.Parks.Count);
        else if (first)
            _logger.LogInformation("Replication to {Backup} started: snapshot of {Bindings} bindings and {Parks} parked dialogs sent",
                Backup, snapshot.Bindings.Count, snapshot.Parks.Count);
    }

    private async Task SendBatchAsync(HashSet<Change> keys, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var parks = keys.Any(k => k.Kind == ChangeKind.Park)
            ? _journal!.ForPool(_self).ToDictionary(r => r.Orbit, StringComparer.Ordinal)
            : [];
        var bridges = keys.Any(k => k.Kind == ChangeKind.Bridge) && _bridgeJournal is not null
            ? _bridgeJournal.ForPool(_self).ToDictionary(r => r.Id, StringComparer.Ordinal)
            : [];
        var bindings = new List<AorBindings>();
        var upserts = new List<ParkedDialogRecord>();
        var removed = new List<string>();
        var bridged = new List<BridgedCallRecord>();
        var ended = new List<string>();
        foreach (var key in keys)
        {
            if (key.Kind == ChangeKind.Bindings) bindings.Add(new AorBindings(key.Key, _bindings!.Get(key.Key, now).Where(IsOwn).ToArray()));
            else if (key.Kind == ChangeKind.Bridge && bridges.TryGetValue(key.Key, out var bridge)) bridged.Add(bridge);
            else if (key.Kind == ChangeKind.Bridge) ended.Add(key.Key);
            else if (parks.TryGetValue(key.Key, out var record)) upserts.Add(record);
            else removed.Add(key.Key);
        }
        // Bridges travel only when there are some, so a backup that does not know them reads the batch as before.
        var batch = new ReplicationBatch(bindings, upserts, removed, bridged.Count > 0 ? bridged : null, ended.Count > 0 ? ended : null);
        await SendAsync(HttpMethod.Post, "changes", batch, cancellationToken).ConfigureAwait(false);
        _metrics.Increment(BatchesMetric, BatchesHelp, ("partner", Backup), ("kind", "changes"));
        if (_link == LinkState.Failing)
            _logger.LogWarning("Replication to {Backup} resumes: the failed batch of {Count} changes was sent again", Backup, keys.Count);
        _link = LinkState.Working;
    }

    private async Task SendAsync<T>(HttpMethod method, string what, T body, CancellationToken cancellationToken)
    {
        var uri = new Uri(_backupAdmin, $"replication/{Uri.EscapeDataString(_self)}/{what}");
        // Signed for the backup (docs/design.md §11 "Trust"): method, path, time, nonce and the body's digest.
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, AdminJson.Options);
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        using var request = new HttpRequestMessage(method, uri) { Content = content };
        if (_signer.SignHttp(method.Method, uri.AbsolutePath, bytes) is { } signature) request.Headers.TryAddWithoutValidation(PoolAuthHeader.Name, signature);
        if (_options.BackupToken is { } token) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new ReplicationRefusedException(response.StatusCode, text.Length > 200 ? text[..200] : text);
        }
    }

    private void Failed(Exception? error, TimeSpan retryIn)
    {
        _metrics.Increment(FailuresMetric, FailuresHelp, ("partner", Backup));
        if (_options.SnapshotOnReconnect) _needsSnapshot = true;
        var previous = _link;
        _link = LinkState.Failing;
        var reason = error?.Message ?? "no answer";
        if (previous == LinkState.Working)
            _logger.LogError("Replication to {Backup} stopped working: {Reason}; retrying with backoff", Backup, reason);
        else if (previous == LinkState.NotYetReached)
            _logger.LogWarning("Replication to {Backup} cannot reach it yet: {Reason}; retrying with backoff", Backup, reason);
        else
            _logger.LogDebug("Replication to {Backup} still failing: {Reason}; next try in {Delay}", Backup, reason, retryIn);
    }

    private bool IsOwn(Binding binding) => string.Equals(binding.Pool, _self, StringComparison.OrdinalIgnoreCase);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _pendingGauge.Dispose();
        _http.Dispose();
        _stop.Dispose();
    }
}
