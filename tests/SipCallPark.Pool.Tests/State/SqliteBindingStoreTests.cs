using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.State;

namespace SipCallPark.Pool.Tests.State;

public class SqliteBindingStoreTests
{
    private string _path = null!;

    [SetUp]
    public void SetUp() => _path = Path.Combine(Path.GetTempPath(), $"scp-bindings-{Guid.NewGuid():N}.db");

    [TearDown]
    public void TearDown()
    {
        foreach (var f in new[] { _path, _path + "-wal", _path + "-shm" }) File.Delete(f);
    }

    private static Binding Binding(string aor, string contact, DateTimeOffset expires) =>
        new(aor, contact, expires, 0.5, "call", 3, "\"<urn:uuid:x>\"", "1", "udp:127.0.0.1:5070", RegistrationMode.Resiliency, "pool-a");

    [Test]
    public async Task Bindings_written_before_a_restart_are_there_after_it_and_expired_ones_are_not_served()
    {
        var now = DateTimeOffset.UtcNow;
        var database = new StateDatabase(_path);
        var store = new SqliteBindingStore(database, NullLogger<SqliteBindingStore>.Instance);
        await store.SetAsync("sip:alice@callpark.lab", [Binding("sip:alice@callpark.lab", "sip:alice@127.0.0.1:5070", now.AddHours(1))]);
        await store.SetAsync("sip:bob@callpark.lab", [Binding("sip:bob@callpark.lab", "sip:bob@127.0.0.1:5080", now.AddSeconds(-1))]);
        await store.DisposeAsync();

        var reopened = new SqliteBindingStore(new StateDatabase(_path), NullLogger<SqliteBindingStore>.Instance);
        var alice = reopened.Get("sip:alice@callpark.lab", now);
        Assert.Multiple(() =>
        {
            Assert.That(alice, Has.Count.EqualTo(1));
            Assert.That(alice[0], Is.EqualTo(Binding("sip:alice@callpark.lab", "sip:alice@127.0.0.1:5070", DateTimeOffset.FromUnixTimeMilliseconds(now.AddHours(1).ToUnixTimeMilliseconds()))));
            Assert.That(reopened.Get("sip:bob@callpark.lab", now), Is.Empty);
            Assert.That(database.IntegrityCheck(), Is.EqualTo("ok"));
        });
        Assert.That(await reopened.PurgeExpiredAsync(now), Is.EqualTo(1));
        await reopened.DisposeAsync();
    }

    [Test]
    public async Task The_nat_signs_of_a_binding_are_stored_and_read_back()
    {
        var expires = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds());
        var binding = Binding("sip:alice@callpark.lab", "sip:alice@127.0.0.1:5070", expires) with { Nat = NatSigns.ViaSentBy | NatSigns.Outbound };
        var store = new SqliteBindingStore(new StateDatabase(_path), NullLogger<SqliteBindingStore>.Instance);
        await store.SetAsync(binding.Aor, [binding]);
        await store.DisposeAsync();

        var reopened = new SqliteBindingStore(new StateDatabase(_path), NullLogger<SqliteBindingStore>.Instance);
        Assert.That(reopened.Get(binding.Aor, DateTimeOffset.UtcNow).Single(), Is.EqualTo(binding));
        await reopened.DisposeAsync();
    }

    [Test]
    public async Task A_database_from_before_the_nat_test_is_migrated_and_its_bindings_load_with_no_signs_known()
    {
        var expires = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds();
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_path}"))
        {
            // The two binding tables as schema version 4 left them.
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                CREATE TABLE bindings (
                    aor TEXT NOT NULL, contact TEXT NOT NULL, expires_at INTEGER NOT NULL, q REAL NOT NULL,
                    call_id TEXT NOT NULL, cseq INTEGER NOT NULL, instance_id TEXT, reg_id TEXT, source TEXT,
                    mode INTEGER NOT NULL, pool TEXT NOT NULL, PRIMARY KEY (aor, contact));
                CREATE TABLE replica_bindings (
                    pool TEXT NOT NULL, aor TEXT NOT NULL, contact TEXT NOT NULL, expires_at INTEGER NOT NULL, q REAL NOT NULL,
                    call_id TEXT NOT NULL, cseq INTEGER NOT NULL, instance_id TEXT, reg_id TEXT, source TEXT, mode INTEGER NOT NULL,
                    PRIMARY KEY (pool, aor, contact));
                INSERT INTO bindings VALUES ('sip:alice@callpark.lab', 'sip:alice@127.0.0.1:5080', {expires}, 1.0, 'c', 1, NULL, NULL,
                    'udp:127.0.0.1:5070', 0, 'pool-a');
                PRAGMA user_version=4;
                """;
            command.ExecuteNonQuery();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        var database = new StateDatabase(_path);
        var store = new SqliteBindingStore(database, NullLogger<SqliteBindingStore>.Instance);
        var alice = store.Get("sip:alice@callpark.lab", DateTimeOffset.UtcNow).Single();

        Assert.Multiple(() =>
        {
            Assert.That(alice.Nat, Is.Null);
            Assert.That(new BindingTargets(NatTraversal.Auto).Choose(alice).Destination?.ToString(), Is.EqualTo("udp:127.0.0.1:5070"),
                "reached at its source, as before the upgrade");
            Assert.That(database.IntegrityCheck(), Is.EqualTo("ok"));
        });
        await store.SetAsync(alice.Aor, [alice with { Nat = NatSigns.None }]);
        await store.DisposeAsync();
        var reopened = new SqliteBindingStore(new StateDatabase(_path), NullLogger<SqliteBindingStore>.Instance);
        Assert.That(reopened.Get(alice.Aor, DateTimeOffset.UtcNow).Single().Nat, Is.EqualTo(NatSigns.None));
        await reopened.DisposeAsync();
    }
}
