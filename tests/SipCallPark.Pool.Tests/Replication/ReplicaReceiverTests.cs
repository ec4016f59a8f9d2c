using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Replication;
using SipCallPark.Pool.Tests.Integration;
using static SipCallPark.Pool.Tests.Replication.ReplicaSamples;

namespace SipCallPark.Pool.Tests.Replication;

public class ReplicaReceiverTests
{
    private ReplicaStore _store = null!;
    private ReplicaReceiver _receiver = null!;

    [SetUp]
    public void SetUp()
    {
        var topology = LabPools.CreateTopology(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 5060), new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 5062));
        _store = new ReplicaStore(null, NullLogger<ReplicaStore>.Instance);
        _receiver = new ReplicaReceiver("pool-b", topology, _store, new SipMetrics(), new FakeTimeProvider(Now), NullLogger<ReplicaReceiver>.Instance);
    }

    [TearDown]
    public async Task TearDown() => await _store.DisposeAsync();

    [Test]
    public async Task The_backup_stores_what_the_pool_it_backs_up_sends_about_itself()
    {
        var snapshot = await _receiver.ReceiveSnapshotAsync("pool-a", new ReplicationSnapshot([Binding("alice")], [ParkRecord("7000")]), CancellationToken.None);
        var changes = await _receiver.ReceiveChangesAsync("pool-a", new ReplicationBatch([], [ParkRecord("7001")], ["7000"]), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(snapshot.Outcome, Is.EqualTo(CommandOutcome.Done));
            Assert.That(changes.Outcome, Is.EqualTo(CommandOutcome.Done));
            Assert.That(_store.Get("sip:alice@callpark.lab", Now), Is.EqualTo(new[] { Binding("alice") }));
            Assert.That(_store.ParksOf("pool-a"), Is.EqualTo(new[] { ParkRecord("7001") }));
        });
    }

    [Test]
    public async Task A_pool_this_one_does_not_back_up_an_unknown_pool_and_another_pools_state_are_refused()
    {
        var self = await _receiver.ReceiveSnapshotAsync("pool-b", new ReplicationSnapshot([], []), CancellationToken.None);
        var unknown = await _receiver.ReceiveChangesAsync("pool-z", new ReplicationBatch([], [], []), CancellationToken.None);
        var foreignBinding = await _receiver.ReceiveSnapshotAsync("pool-a", new ReplicationSnapshot([Binding("erin", "pool-b")], []), CancellationToken.None);
        var foreignPark = await _receiver.ReceiveChangesAsync("pool-a", new ReplicationBatch([], [ParkRecord("7100", "pool-b")], []), CancellationToken.None);
        var misfiled = await _receiver.ReceiveChangesAsync("pool-a",
            new ReplicationBatch([new AorBindings("sip:bob@callpark.lab", [Binding("alice")])], [], []), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(self.Outcome, Is.EqualTo(CommandOutcome.Refused));
            Assert.That(self.Message, Does.Contain("not pool-b's backup"));
            Assert.That(unknown.Outcome, Is.EqualTo(CommandOutcome.NotFound));
            Assert.That(foreignBinding.Outcome, Is.EqualTo(CommandOutcome.Refused));
            Assert.That(foreignPark.Outcome, Is.EqualTo(CommandOutcome.Refused));
            Assert.That(misfiled.Outcome, Is.EqualTo(CommandOutcome.Refused));
            Assert.That(_store.Pools, Is.Empty);
        });
    }

    [Test]
    public async Task Bindings_of_users_homed_on_another_pool_or_with_a_contact_that_is_not_a_SIP_URI_are_left_out()
    {
        var erinAsPoolA = Binding("erin") with { Pool = "pool-a" };   // erin is homed on pool-b, the receiver itself
        var stranger = Binding("mallory");
        var badContact = Binding("bob") with { Contact = "<http://127.0.0.1:9999/>" };
        var withHeaders = Binding("carol") with { Contact = "<sip:carol@127.0.0.1:9999?Replaces=x>" };

        var snapshot = await _receiver.ReceiveSnapshotAsync("pool-a", new ReplicationSnapshot([Binding("alice"), erinAsPoolA, stranger, badContact, withHeaders], []),
            CancellationToken.None);
        var changes = await _receiver.ReceiveChangesAsync("pool-a",
            new ReplicationBatch([new AorBindings("sip:erin@callpark.lab", [erinAsPoolA]), new AorBindings("sip:dave@callpark.lab", [Binding("dave")])], [], []),
            CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(snapshot.Outcome, Is.EqualTo(CommandOutcome.Done));
            Assert.That(changes.Outcome, Is.EqualTo(CommandOutcome.Done));
            Assert.That(_store.BindingsOf("pool-a", Now).Select(b => b.Aor), Is.EquivalentTo(new[] { "sip:alice@callpark.lab", "sip:dave@callpark.lab" }));
        });
    }

    [Test]
    public async Task A_park_on_an_orbit_outside_the_sending_pools_range_or_with_a_target_that_is_not_a_SIP_URI_is_refused_whole()
    {
        var foreignOrbit = await _receiver.ReceiveChangesAsync("pool-a", new ReplicationBatch([], [ParkRecord("7150")], []), CancellationToken.None);
        var notAnOrbit = await _receiver.ReceiveChangesAsync("pool-a", new ReplicationBatch([], [ParkRecord("park")], []), CancellationToken.None);
        var badTarget = await _receiver.ReceiveSnapshotAsync("pool-a",
            new ReplicationSnapshot([Binding("alice")], [ParkRecord("7001") with { RemoteTarget = "tel:+15550100" }]), CancellationToken.None);
        var badRoute = await _receiver.ReceiveChangesAsync("pool-a",
            new ReplicationBatch([], [ParkRecord("7002") with { RouteSet = ["<sip:a@b?X=y>"] }], []), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(foreignOrbit.Outcome, Is.EqualTo(CommandOutcome.Refused));
            Assert.That(foreignOrbit.Message, Does.Contain("not in pool-a's ranges"));
            Assert.That(notAnOrbit.Outcome, Is.EqualTo(CommandOutcome.Refused));
            Assert.That(badTarget.Outcome, Is.EqualTo(CommandOutcome.Refused));
            Assert.That(badRoute.Outcome, Is.EqualTo(CommandOutcome.Refused));
            Assert.That(_store.Pools, Is.Empty);
        });
    }

    [Test]
    public async Task A_snapshot_that_would_wipe_most_of_a_replica_is_refused_and_a_small_change_is_taken()
    {
        var parks = Enumerable.Range(0, 20).Select(i => ParkRecord($"70{i:00}")).ToArray();
        await _receiver.ReceiveSnapshotAsync("pool-a", new ReplicationSnapshot([Binding("alice")], parks), CancellationToken.None);

        var wipe = await _receiver.ReceiveSnapshotAsync("pool-a", new ReplicationSnapshot([], []), CancellationToken.None);
        var keepsMost = await _receiver.ReceiveSnapshotAsync("pool-a", new ReplicationSnapshot([Binding("alice")], parks[..12]), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(wipe.Outcome, Is.EqualTo(CommandOutcome.Refused));
            Assert.That(wipe.Message, Does.Contain("would delete 21 of the 21"));
            Assert.That(keepsMost.Outcome, Is.EqualTo(CommandOutcome.Done), "8 of 21 deleted: fewer than half");
            Assert.That(_store.ParksOf("pool-a"), Has.Count.EqualTo(12));
        });
    }
}
