using SipCallPark.Pool.Resiliency;
using SipCallPark.Pool.State;

namespace SipCallPark.Pool.Tests.State;

public sealed class DrPhaseStoreTests
{
    private string _path = "";

    [SetUp]
    public void SetUp() => _path = Path.Combine(Path.GetTempPath(), $"callpark-dr-{Guid.NewGuid():N}.db");

    [TearDown]
    public void TearDown()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in (string[])["", "-wal", "-shm"]) File.Delete(_path + suffix);
    }

    [Test]
    public void A_saved_phase_is_read_back_after_the_database_is_opened_again()
    {
        var since = DateTimeOffset.FromUnixTimeMilliseconds(1_790_000_000_000);
        using (var database = new StateDatabase(_path))
        {
            var store = new DrPhaseStore(database);
            store.Save(new StoredDrPhase("pool-a", DrPhase.FailingOver, since.AddSeconds(-5)));
            store.Save(new StoredDrPhase("pool-a", DrPhase.FailedOver, since));
        }

        using var reopened = new StateDatabase(_path);
        Assert.That(new DrPhaseStore(reopened).Load("pool-a"), Is.EqualTo(new StoredDrPhase("pool-a", DrPhase.FailedOver, since)));
        Assert.That(new DrPhaseStore(reopened).Load("pool-b"), Is.Null, "a pool never recorded has no phase");
    }

    [Test]
    public void Without_a_database_phases_are_kept_in_memory()
    {
        var store = new DrPhaseStore(null);
        var phase = new StoredDrPhase("pool-b", DrPhase.Outage, DateTimeOffset.UnixEpoch);
        store.Save(phase);
        Assert.That(store.Load("POOL-B"), Is.EqualTo(phase));
    }
}
