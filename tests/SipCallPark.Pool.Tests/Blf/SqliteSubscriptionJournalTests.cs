using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Pool.Blf;
using SipCallPark.Pool.State;

namespace SipCallPark.Pool.Tests.Blf;

[TestFixture]
public sealed class SqliteSubscriptionJournalTests
{
    private string _path = null!;

    [SetUp]
    public void SetUp() => _path = Path.Combine(Path.GetTempPath(), $"scp-lamps-{Guid.NewGuid():N}.db");

    [TearDown]
    public void TearDown()
    {
        SqliteConnection.ClearAllPools();
        foreach (var f in new[] { _path, _path + "-wal", _path + "-shm" }) File.Delete(f);
    }

    private static SubscriptionRecord Record(string callId, string? eventId = "17", long? remoteCSeq = 3) =>
        new(callId, "pooltag", "phonetag", "<sip:7001@callpark.lab>", "<sip:alice@callpark.lab>", "sip:alice@10.0.0.9:5080;transport=tcp",
            ["<sip:10.0.0.7:5060;lr;ep=abc>"], 4, remoteCSeq, "7001", "sip:alice@callpark.lab", eventId, 2,
            DateTimeOffset.FromUnixTimeMilliseconds(1_760_000_000_123));

    [Test]
    public async Task A_subscription_written_is_read_back_field_for_field_by_the_next_process_and_a_removed_one_is_gone()
    {
        using (var database = new StateDatabase(_path))
        {
            var journal = new SqliteSubscriptionJournal(database, NullLogger<SqliteSubscriptionJournal>.Instance);
            await journal.UpsertAsync(Record("a@host"));
            await journal.UpsertAsync(Record("b@host", eventId: null, remoteCSeq: null));
            await journal.UpsertAsync(Record("a@host") with { Version = 5, LocalCSeq = 9 });
            await journal.RemoveAsync("b@host", "pooltag");
            await journal.DisposeAsync();
        }

        using var reopened = new StateDatabase(_path);
        var records = new SqliteSubscriptionJournal(reopened, NullLogger<SqliteSubscriptionJournal>.Instance).Load();

        Assert.That(records, Has.Count.EqualTo(1));
        var expected = Record("a@host") with { Version = 5, LocalCSeq = 9 };
        Assert.Multiple(() =>
        {
            Assert.That(records[0] with { RouteSet = expected.RouteSet }, Is.EqualTo(expected));
            Assert.That(records[0].RouteSet, Is.EqualTo(expected.RouteSet));
        });
    }
}
