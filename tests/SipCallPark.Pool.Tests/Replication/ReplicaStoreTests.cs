using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Pool.Replication;
using SipCallPark.Pool.State;
using static SipCallPark.Pool.Tests.Replication.ReplicaSamples;

namespace SipCallPark.Pool.Tests.Replication;

public class ReplicaStoreTests
{
    private string _path = null!;

    [SetUp]
    public void SetUp() => _path = Path.Combine(Path.GetTempPath(), $"scp-replica-{Guid.NewGuid():N}.db");

    [TearDown]
    public void TearDown()
    {
        SqliteConnection.ClearAllPools();
        foreach (var f in new[] { _path, _path + "-wal", _path + "-shm" }) File.Delete(f);
    }

    private ReplicaStore Open() => new(new StateDatabase(_path), NullLogger<ReplicaStore>.Instance);

    [Test]
    public async Task A_batch_sets_the_bindings_of_each_aor_adds_parks_and_removes_orbits_of_the_sending_pool_only()
    {
        await using var store = new ReplicaStore(null, NullLogger<ReplicaStore>.Instance);
        await store.ReplaceAsync("pool-b", new ReplicationSnapshot([Binding("erin", "pool-b")], [ParkRecord("7100", "pool-b")]), Now);
        await store.ApplyAsync("pool-a", new ReplicationBatch(
            [new AorBindings("sip:alice@callpark.lab", [Binding("alice"), Binding("alice", port: 5071)])], [ParkRecord("7000"), ParkRecord("7001")], []), Now);

        await store.ApplyAsync("pool-a", new ReplicationBatch([new AorBindings("sip:alice@callpark.lab", [Binding("alice", port: 5071)])], [], ["7000"]), Now);

        Assert.Multiple(() =>
        {
            Assert.That(store.Get("sip:alice@callpark.lab", Now), Is.EqualTo(new[] { Binding("alice", port: 5071) }));
            Assert.That(store.ParksOf("pool-a"), Is.EqualTo(new[] { ParkRecord("7001") }));
            Assert.That(store.BindingsOf("pool-b", Now), Is.EqualTo(new[] { Binding("erin", "pool-b") }), "pool-b's replica is untouched");
            Assert.That(store.ParksOf("pool-b"), Is.EqualTo(new[] { ParkRecord("7100", "pool-b") }));
            Assert.That(store.Pools, Is.EqualTo(new[] { "pool-a", "pool-b" }));
        });

        await store.ApplyAsync("pool-a", new ReplicationBatch([new AorBindings("sip:alice@callpark.lab", [])], [], []), Now);
        Assert.That(store.Get("sip:alice@callpark.lab", Now), Is.Empty, "an empty set means the user unregistered");
    }

    [Test]
    public async Task A_snapshot_replaces_everything_held_for_that_pool()
    {
        await using var store = new ReplicaStore(null, NullLogger<ReplicaStore>.Instance);
        await store.ApplyAsync("pool-a", new ReplicationBatch([new AorBindings("sip:alice@callpark.lab", [Binding("alice")])], [ParkRecord("7000")], []), Now);

        await store.ReplaceAsync("pool-a", new ReplicationSnapshot([Binding("bob")], [ParkRecord("7005")]), Now);

        Assert.Multiple(() =>
        {
            Assert.That(store.BindingsOf("pool-a", Now), Is.EqualTo(new[] { Binding("bob") }));
            Assert.That(store.ParksOf("pool-a"), Is.EqualTo(new[] { ParkRecord("7005") }));
        });
    }

    [Test]
    public async Task Expired_bindings_are_not_served_and_retrieved_dialogs_are_not_listed_as_parked()
    {
        await using var store = new ReplicaStore(null, NullLogger<ReplicaStore>.Instance);
        await store.ReplaceAsync("pool-a", new ReplicationSnapshot(
            [Binding("alice", expires: Now.AddSeconds(30)), Binding("bob", expires: Now.AddSeconds(-1))],
            [ParkRecord("7000"), ParkRecord("7001", state: ParkedDialogState.Retrieved)]), Now);

        Assert.Multiple(() =>
        {
            Assert.That(store.BindingsOf("pool-a", Now).Select(b => b.Aor), Is.EqualTo(new[] { "sip:alice@callpark.lab" }));
            Assert.That(store.Get("sip:alice@callpark.lab", Now.AddSeconds(31)), Is.Empty, "expired since");
            Assert.That(store.ParksOf("pool-a").Select(p => p.Orbit), Is.EqualTo(new[] { "7000" }));
        });
    }

    [Test]
    public async Task Replicas_survive_a_restart_and_a_park_torn_down_by_the_backup_stays_forgotten()
    {
        var store = Open();
        await store.ReplaceAsync("pool-a", new ReplicationSnapshot([Binding("alice"), Binding("bob")], [ParkRecord("7000"), ParkRecord("7001")]), Now);
        await store.ApplyAsync("pool-a", new ReplicationBatch([new AorBindings("sip:bob@callpark.lab", [])], [ParkRecord("7002")], ["7000"]), Now);
        await store.RemoveParkAsync("pool-a", "7001");
        await store.DisposeAsync();

        await using var reopened = Open();
        Assert.Multiple(() =>
        {
            Assert.That(reopened.BindingsOf("pool-a", Now), Is.EqualTo(new[] { Binding("alice") }));
            Assert.That(reopened.ParksOf("pool-a"), Is.EqualTo(new[] { ParkRecord("7002") }));
        });
    }

    [Test]
    public async Task The_replica_tables_leave_the_pools_own_bindings_and_journal_alone()
    {
        var database = new StateDatabase(_path);
        await using (var journal = new SqliteParkJournal(database, NullLogger<SqliteParkJournal>.Instance))
        await using (var store = new ReplicaStore(database, NullLogger<ReplicaStore>.Instance))
        {
            await journal.UpsertAsync(ParkRecord("7100", "pool-b"));
            await store.ReplaceAsync("pool-a", new ReplicationSnapshot([Binding("alice")], [ParkRecord("7000")]), Now);
        }

        await using var reopenedJournal = new SqliteParkJournal(new StateDatabase(_path), NullLogger<SqliteParkJournal>.Instance);
        await using var bindings = new SqliteBindingStore(new StateDatabase(_path), NullLogger<SqliteBindingStore>.Instance);
        Assert.Multiple(() =>
        {
            Assert.That(reopenedJournal.All(), Is.EqualTo(new[] { ParkRecord("7100", "pool-b") }), "pool-b's own journal holds only its own park");
            Assert.That(bindings.All(Now), Is.Empty);
        });
    }

    [Test]
    public void A_database_at_version_2_is_migrated_to_hold_replicas()
    {
        using (var connection = new SqliteConnection($"Data Source={_path}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE bindings (aor TEXT NOT NULL, contact TEXT NOT NULL, expires_at INTEGER NOT NULL, q REAL NOT NULL,
                    call_id TEXT NOT NULL, cseq INTEGER NOT NULL, instance_id TEXT, reg_id TEXT, source TEXT,
                    mode INTEGER NOT NULL, pool TEXT NOT NULL, PRIMARY KEY (aor, contact));
                CREATE TABLE parked_dialogs (pool TEXT NOT NULL, orbit TEXT NOT NULL, call_id TEXT NOT NULL, local_tag TEXT NOT NULL,
                    remote_tag TEXT NOT NULL, local_uri TEXT NOT NULL, remote_uri TEXT NOT NULL, remote_target TEXT NOT NULL,
                    route_set TEXT NOT NULL, local_cseq INTEGER NOT NULL, parked_party TEXT NOT NULL, parker TEXT NOT NULL,
                    parked_at INTEGER NOT NULL, timeout_due INTEGER, attempts INTEGER NOT NULL, state INTEGER NOT NULL,
                    PRIMARY KEY (pool, orbit));
                PRAGMA user_version=2;
                """;
            command.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();

        var database = new StateDatabase(_path);
        using var check = database.Open();
        using var version = check.CreateCommand();
        version.CommandText = "PRAGMA user_version; ";
        Assert.That(Convert.ToInt32(version.ExecuteScalar()), Is.GreaterThanOrEqualTo(3));
        using var tables = check.CreateCommand();
        tables.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('replica_bindings', 'replica_parked_dialogs')";
        Assert.That(Convert.ToInt32(tables.ExecuteScalar()), Is.EqualTo(2));
    }
}
