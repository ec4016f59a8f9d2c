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
}
