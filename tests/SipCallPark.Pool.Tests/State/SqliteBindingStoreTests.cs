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
}
