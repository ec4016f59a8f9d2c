using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Replication;
using SipCallPark.Pool.State;
using SipCallPark.Pool.Tests.Integration;
using static SipCallPark.Pool.Tests.Replication.ReplicaSamples;

namespace SipCallPark.Pool.Tests.Replication;

public class ReplicationSenderTests
{
    private FakeTimeProvider _time = null!;
    private FakeBackup _backup = null!;
    private SipMetrics _metrics = null!;
    private TestLog _log = null!;
    private InMemoryBindingStore _bindings = null!;
    private InMemoryParkJournal _journal = null!;
    private ReplicationSender _sender = null!;
    private IBindingStore _tracked = null!;
    private IParkJournal _trackedJournal = null!;

    private static readonly ReplicationOptions Defaults = new() { RetryDelay = TimeSpan.FromSeconds(1), MaxRetryDelay = TimeSpan.FromSeconds(4) };

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider(Now);
        _backup = new FakeBackup(_time);
        _metrics = new SipMetrics();
        _log = new TestLog();
        _bindings = new InMemoryBindingStore();
        _journal = new InMemoryParkJournal();
    }

    [TearDown]
    public async Task TearDown()
    {
        if (_sender is not null) await _sender.DisposeAsync();
        _backup.Dispose(); // the sender disposed it already when it ran; disposing twice is harmless
        _log.Dispose();
    }

    private void CreateSender(ReplicationOptions? options = null)
    {
        _sender = new ReplicationSender("pool-a", "pool-b", new Uri("http://127.0.0.1:8062"), options ?? Defaults, _backup,
            SipCallPark.Pool.Tests.Pairing.PartnerKeys.For("pool-a", _time), _metrics, _time,
            _log.CreateLogger<ReplicationSender>());
        _sender.ReadFrom(_bindings);
        _sender.ReadFrom(_journal);
        _tracked = new ReplicatedBindingStore(_bindings, _sender);
        _trackedJournal = new ReplicatedParkJournal(_journal, "pool-a", _sender);
    }

    /// <summary>Runs one send to its end, moving the fake clock so that Polly's backoff delays elapse.</summary>
    private Task SendAsync() => DriveAsync(_sender.SendPendingAsync(CancellationToken.None));

    private async Task DriveAsync(Task sending)
    {
        for (var i = 0; i < 300 && !sending.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.WhenAny(sending, Task.Delay(5));
        }
        await sending.WaitAsync(TimeSpan.FromSeconds(5));
    }

    private long Batches(string kind) => _metrics.Count(ReplicationSender.BatchesMetric, ("partner", "pool-b"), ("kind", kind));

    private long Failures => _metrics.Count(ReplicationSender.FailuresMetric, ("partner", "pool-b"));

    [Test]
    public async Task The_first_send_is_a_snapshot_of_the_pools_own_bindings_and_parks_only()
    {
        await _bindings.SetAsync("sip:alice@callpark.lab", [Binding("alice")]);
        await _bindings.SetAsync("sip:erin@callpark.lab", [Binding("erin", "pool-b")]);
        await _journal.UpsertAsync(ParkRecord("7000"));
        await _journal.UpsertAsync(ParkRecord("7100", "pool-b"));
        CreateSender();

        await SendAsync();

        var request = _backup.Requests.Single();
        Assert.Multiple(() =>
        {
            Assert.That(request.Method, Is.EqualTo(HttpMethod.Put));
            Assert.That(request.Path, Is.EqualTo("/replication/pool-a/snapshot"));
            Assert.That(request.Snapshot.Bindings, Is.EqualTo(new[] { Binding("alice") }));
            Assert.That(request.Snapshot.Parks, Is.EqualTo(new[] { ParkRecord("7000") }));
            Assert.That(request.Authorization, Is.Null, "no token configured");
            Assert.That(Batches("snapshot"), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Changes_after_the_snapshot_go_in_one_batch_with_the_current_state_of_each_changed_key()
    {
        CreateSender();
        await SendAsync();

        await _tracked.SetAsync("sip:alice@callpark.lab", [Binding("alice")]);
        await _tracked.SetAsync("sip:alice@callpark.lab", [Binding("alice"), Binding("alice", port: 5071)]);
        await _tracked.SetAsync("sip:bob@callpark.lab", []);
        await _trackedJournal.UpsertAsync(ParkRecord("7000"));
        await _trackedJournal.UpsertAsync(ParkRecord("7001"));
        await _trackedJournal.RemoveAsync("7000", "pool-a");
        await _trackedJournal.UpsertAsync(ParkRecord("7100", "pool-b"));
        Assert.That(_sender.Pending, Is.EqualTo(6), "another pool's park is not this pool's to replicate");

        await SendAsync();

        var request = _backup.Requests[1];
        var batch = request.Batch;
        Assert.Multiple(() =>
        {
            Assert.That(request.Method, Is.EqualTo(HttpMethod.Post));
            Assert.That(request.Path, Is.EqualTo("/replication/pool-a/changes"));
            Assert.That(batch.Bindings.Single(s => s.Aor == "sip:alice@callpark.lab").Bindings, Is.EqualTo(new[] { Binding("alice"), Binding("alice", port: 5071) }));
            Assert.That(batch.Bindings.Single(s => s.Aor == "sip:bob@callpark.lab").Bindings, Is.Empty);
            Assert.That(batch.Parks, Is.EqualTo(new[] { ParkRecord("7001") }));
            Assert.That(batch.RemovedOrbits, Is.EqualTo(new[] { "7000" }));
            Assert.That(_backup.Requests, Has.Count.EqualTo(2));
            Assert.That(_sender.Pending, Is.Zero);
            Assert.That(Batches("changes"), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task A_failed_batch_is_retried_with_backoff_and_the_backup_gets_a_snapshot_before_any_further_change()
    {
        CreateSender();
        await SendAsync();
        await _tracked.SetAsync("sip:alice@callpark.lab", [Binding("alice")]);
        _backup.Answer(null, HttpStatusCode.ServiceUnavailable);   // the POST finds no one, the first snapshot gets 503

        var sending = _sender.SendPendingAsync(CancellationToken.None);
        await _bindings.SetAsync("sip:carol@callpark.lab", [Binding("carol")]); // changed while the backup is away (not even queued)
        await DriveAsync(sending);

        var requests = _backup.Requests;
        Assert.Multiple(() =>
        {
            Assert.That(requests.Select(r => $"{r.Method} {r.Path}"), Is.EqualTo(new[]
            {
                "PUT /replication/pool-a/snapshot", "POST /replication/pool-a/changes", "PUT /replication/pool-a/snapshot", "PUT /replication/pool-a/snapshot",
            }));
            Assert.That(requests[2].At, Is.GreaterThan(requests[1].At), "the retry waited for the backoff on the clock");
            Assert.That(requests[3].At, Is.GreaterThan(requests[2].At));
            Assert.That(requests[3].Snapshot.Bindings.Select(b => b.Aor), Is.EquivalentTo(new[] { "sip:alice@callpark.lab", "sip:carol@callpark.lab" }));
            Assert.That(Failures, Is.EqualTo(2));
            Assert.That(Batches("snapshot"), Is.EqualTo(2));
            Assert.That(_sender.IsFailing, Is.False);
        });
        var lines = _log.Lines.Where(l => l.Contains("Replication to pool-b")).ToArray();
        Assert.That(lines.Count(l => l.Contains("stopped working")), Is.EqualTo(1), string.Join("\n", lines));
        Assert.That(lines.Single(l => l.Contains("resumes")), Does.Contain("snapshot of 2 bindings and 0 parked dialogs"));

        await _tracked.SetAsync("sip:dave@callpark.lab", [Binding("dave")]);
        await SendAsync();
        Assert.That(_backup.Requests[^1].Method, Is.EqualTo(HttpMethod.Post), "deltas again once the snapshot is in");
    }

    [Test]
    public async Task A_backup_unreachable_at_start_is_logged_as_not_reached_yet_rather_than_stopped()
    {
        CreateSender();
        _backup.Answer(null, null);

        await SendAsync();

        var lines = _log.Lines.Where(l => l.Contains("Replication to pool-b")).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(lines.Count(l => l.Contains("cannot reach it yet")), Is.EqualTo(1), string.Join("\n", lines));
            Assert.That(lines.Any(l => l.Contains("stopped working")), Is.False);
            Assert.That(lines.Count(l => l.Contains("started: snapshot")), Is.EqualTo(1));
            Assert.That(_backup.Requests, Has.Count.EqualTo(3));
        });
    }

    [Test]
    public async Task Keys_beyond_the_queue_limit_are_dropped_and_covered_by_a_snapshot()
    {
        CreateSender(new ReplicationOptions { MaxBatch = 2, MaxPending = 2 });
        await SendAsync();

        foreach (var user in new[] { "alice", "bob", "carol" }) await _tracked.SetAsync($"sip:{user}@callpark.lab", [Binding(user)]);
        Assert.That(_sender.Pending, Is.EqualTo(2));
        await SendAsync();

        var request = _backup.Requests[^1];
        Assert.That(request.Method, Is.EqualTo(HttpMethod.Put));
        Assert.That(request.Snapshot.Bindings, Has.Count.EqualTo(3));
        Assert.That(_sender.Pending, Is.Zero);
    }

    [Test]
    public async Task Without_snapshot_on_reconnect_a_failed_batch_is_sent_again_as_a_batch()
    {
        CreateSender(new ReplicationOptions { RetryDelay = TimeSpan.FromSeconds(1), SnapshotOnReconnect = false });
        await SendAsync();
        await _tracked.SetAsync("sip:alice@callpark.lab", [Binding("alice")]);
        _backup.Answer(HttpStatusCode.BadGateway);

        await SendAsync();

        Assert.That(_backup.Requests.Skip(1).Select(r => r.Method), Is.EqualTo(new[] { HttpMethod.Post, HttpMethod.Post }));
        Assert.That(_backup.Requests[^1].Batch.Bindings.Single().Aor, Is.EqualTo("sip:alice@callpark.lab"));
    }

    [Test]
    public async Task A_running_sender_sends_a_change_once_the_batch_interval_has_passed_with_the_backups_token()
    {
        CreateSender(new ReplicationOptions { BackupToken = "s3cret" });
        _sender.Start();
        await WaitForRequestsAsync(1);
        await _tracked.SetAsync("sip:alice@callpark.lab", [Binding("alice")]);
        var changed = _time.GetUtcNow();

        await WaitForRequestsAsync(2);

        var request = _backup.Requests[1];
        Assert.Multiple(() =>
        {
            Assert.That(request.Method, Is.EqualTo(HttpMethod.Post));
            Assert.That(request.At - changed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(200)), "changes are gathered for the batch interval");
            Assert.That(request.Authorization, Is.EqualTo("Bearer s3cret"));
        });
    }

    private async Task WaitForRequestsAsync(int count)
    {
        for (var i = 0; i < 300 && _backup.Requests.Count < count; i++)
        {
            await Task.Delay(5);
            if (_backup.Requests.Count < count) _time.Advance(TimeSpan.FromMilliseconds(50));
        }
        Assert.That(_backup.Requests, Has.Count.GreaterThanOrEqualTo(count));
    }
}
