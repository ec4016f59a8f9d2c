using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Replication;
using SipCallPark.Pool.State;
using SipCallPark.Pool.Tests.Integration;
using static SipCallPark.Pool.Tests.Replication.ReplicaSamples;
using static SipCallPark.Pool.Tests.State.BridgeSamples;

namespace SipCallPark.Pool.Tests.Replication;

/// <summary>Bridged calls travel to the backup with both legs (docs/design.md §7 "Bridged calls"), checked like park dialogs (§11).</summary>
public class BridgeReplicationTests
{
    private string _path = null!;
    private FakeTimeProvider _time = null!;

    [SetUp]
    public void SetUp()
    {
        _path = Path.Combine(Path.GetTempPath(), $"scp-bridge-replica-{Guid.NewGuid():N}.db");
        _time = new FakeTimeProvider(Now);
    }

    [TearDown]
    public void TearDown()
    {
        SqliteConnection.ClearAllPools();
        foreach (var f in new[] { _path, _path + "-wal", _path + "-shm" }) File.Delete(f);
    }

    private ReplicaReceiver Receiver(ReplicaStore store) =>
        new("pool-b", LabPools.CreateTopology(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 5060), new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 5062)),
            store, new SipMetrics(), _time, NullLogger<ReplicaReceiver>.Instance);

    [Test]
    public async Task The_backup_keeps_both_legs_of_each_bridged_call_from_snapshot_and_batches_across_its_own_restart_and_forgets_ended_ones()
    {
        await using (var store = new ReplicaStore(new StateDatabase(_path), NullLogger<ReplicaStore>.Instance))
        {
            var receiver = Receiver(store);
            var snapshot = await receiver.ReceiveSnapshotAsync("pool-a", new ReplicationSnapshot([], [], [Bridge("one"), Bridge("two")]), CancellationToken.None);
            var changes = await receiver.ReceiveChangesAsync("pool-a",
                new ReplicationBatch([], [], [], [Bridge("one", parkedCSeq: 9, retrieverCSeq: 4)], ["two"]), CancellationToken.None);
            Assert.That((snapshot.Outcome, changes.Outcome), Is.EqualTo((CommandOutcome.Done, CommandOutcome.Done)), snapshot.Message + changes.Message);
        }
        SqliteConnection.ClearAllPools();

        await using var reopened = new ReplicaStore(new StateDatabase(_path), NullLogger<ReplicaStore>.Instance);
        Assert.That(reopened.BridgesOf("pool-a"), Is.EqualTo(new[] { Bridge("one", parkedCSeq: 9, retrieverCSeq: 4) }));

        await reopened.RemoveBridgeAsync("pool-a", "one");
        Assert.That(reopened.BridgesOf("pool-a"), Is.Empty);
    }

    [Test]
    public async Task A_bridged_call_on_an_orbit_outside_the_senders_ranges_or_of_another_pool_or_with_a_leg_that_is_no_SIP_dialog_refuses_the_request()
    {
        await using var store = new ReplicaStore(null, NullLogger<ReplicaStore>.Instance);
        var receiver = Receiver(store);
        var good = Bridge();
        var attempts = new (string Why, BridgedCallRecord Bridge)[]
        {
            ("an orbit of pool-b", good with { Orbit = "7100" }),
            ("not an orbit", good with { Orbit = "alice" }),
            ("another pool's", good with { Pool = "pool-b" }),
            ("a tel: target", good with { Retriever = good.Retriever with { RemoteTarget = "tel:+15551234" } }),
            ("a target with headers", good with { Parked = good.Parked with { RemoteTarget = "sip:bob@10.0.0.9?Subject=x" } }),
            ("an http route", good with { Parked = good.Parked with { RouteSet = ["<http://evil.example/>"] } }),
            ("no tag", good with { Retriever = good.Retriever with { RemoteTag = "" } }),
            ("no Call-ID", good with { Parked = good.Parked with { CallId = " " } }),
            ("a negative CSeq", good with { Parked = good.Parked with { LocalCSeq = -1 } }),
        };

        foreach (var (why, bridge) in attempts)
        {
            var batch = await receiver.ReceiveChangesAsync("pool-a", new ReplicationBatch([], [], [], [bridge]), CancellationToken.None);
            var snapshot = await receiver.ReceiveSnapshotAsync("pool-a", new ReplicationSnapshot([], [], [bridge]), CancellationToken.None);
            Assert.That((batch.Outcome, snapshot.Outcome), Is.EqualTo((CommandOutcome.Refused, CommandOutcome.Refused)), why);
        }
        Assert.That(store.BridgesOf("pool-a"), Is.Empty);
    }

    [Test]
    public void Batches_and_snapshots_without_bridges_read_as_before_and_a_batch_with_them_is_read_whole()
    {
        var old = JsonSerializer.Deserialize<ReplicationBatch>("""{"bindings":[],"parks":[],"removedOrbits":["7000"]}""", AdminJson.Options)!;
        var oldSnapshot = JsonSerializer.Deserialize<ReplicationSnapshot>("""{"bindings":[],"parks":[]}""", AdminJson.Options)!;
        var roundTrip = JsonSerializer.Deserialize<ReplicationBatch>(
            JsonSerializer.Serialize(new ReplicationBatch([], [], [], [Bridge()], ["gone"]), AdminJson.Options), AdminJson.Options)!;

        Assert.Multiple(() =>
        {
            Assert.That(old.Bridges, Is.Null);
            Assert.That(old.Count, Is.EqualTo(1));
            Assert.That(oldSnapshot.Bridges, Is.Null);
            Assert.That(roundTrip.Bridges, Is.EqualTo(new[] { Bridge() }));
            Assert.That(roundTrip.EndedBridges, Is.EqualTo(new[] { "gone" }));
        });
    }

    [Test]
    public async Task The_sender_puts_this_pools_bridged_calls_in_its_snapshot_and_each_change_or_end_in_a_batch()
    {
        var backup = new FakeBackup(_time);
        var bindings = new InMemoryBindingStore();
        var journal = new InMemoryBridgeJournal();
        await journal.UpsertAsync(Bridge("one"));
        await journal.UpsertAsync(Bridge("theirs", pool: "pool-b"));
        await using var sender = new ReplicationSender("pool-a", "pool-b", new Uri("http://127.0.0.1:8062"),
            new ReplicationOptions { RetryDelay = TimeSpan.FromSeconds(1), MaxRetryDelay = TimeSpan.FromSeconds(4) }, backup,
            SipCallPark.Pool.Tests.Pairing.PartnerKeys.For("pool-a", _time), new SipMetrics(), _time, NullLogger<ReplicationSender>.Instance);
        sender.ReadFrom(bindings);
        sender.ReadFrom(new InMemoryParkJournal());
        sender.ReadFrom(journal);
        var tracked = new ReplicatedBridgeJournal(journal, "pool-a", sender);

        await sender.SendPendingAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        await tracked.UpsertAsync(Bridge("one", parkedCSeq: 6));
        await tracked.UpsertAsync(Bridge("two"));
        await tracked.RemoveAsync("two", "pool-a");
        await tracked.UpsertAsync(Bridge("three"));
        await tracked.RemoveAsync("three", "pool-a");
        await tracked.UpsertAsync(Bridge("theirs", pool: "pool-b", parkedCSeq: 8));
        await sender.SendPendingAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));

        var snapshot = backup.Requests[0].Snapshot;
        var batch = backup.Requests[1].Batch;
        Assert.Multiple(() =>
        {
            Assert.That(snapshot.Bridges, Is.EqualTo(new[] { Bridge("one") }), "only this pool's own bridges");
            Assert.That(batch.Bridges, Is.EqualTo(new[] { Bridge("one", parkedCSeq: 6) }));
            Assert.That(batch.EndedBridges, Is.EquivalentTo(new[] { "two", "three" }));
        });
    }
}
