using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Pool.State;
using SipCallPark.Sip.Message;
using static SipCallPark.Pool.Tests.State.BridgeSamples;

namespace SipCallPark.Pool.Tests.State;

public class BridgeJournalTests
{
    private string _path = null!;

    [SetUp]
    public void SetUp() => _path = Path.Combine(Path.GetTempPath(), $"scp-bridges-{Guid.NewGuid():N}.db");

    [TearDown]
    public void TearDown()
    {
        SqliteConnection.ClearAllPools();
        foreach (var f in new[] { _path, _path + "-wal", _path + "-shm" }) File.Delete(f);
    }

    [Test]
    public async Task Both_legs_of_a_bridged_call_survive_a_reopen_with_route_set_target_tags_and_CSeq_and_a_removed_one_is_gone()
    {
        await using (var journal = new SqliteBridgeJournal(new StateDatabase(_path), NullLogger<SqliteBridgeJournal>.Instance))
        {
            await journal.UpsertAsync(Bridge("one", parkedCSeq: 3));
            await journal.UpsertAsync(Bridge("two"));
            await journal.UpsertAsync(Bridge("one", parkedCSeq: 5, retrieverCSeq: 2));
            await journal.RemoveAsync("two", "pool-a");
        }
        SqliteConnection.ClearAllPools();

        await using var reopened = new SqliteBridgeJournal(new StateDatabase(_path), NullLogger<SqliteBridgeJournal>.Instance);
        Assert.Multiple(() =>
        {
            Assert.That(reopened.ForPool("pool-a"), Is.EqualTo(new[] { Bridge("one", parkedCSeq: 5, retrieverCSeq: 2) }));
            Assert.That(reopened.ForPool("pool-b"), Is.Empty);
        });
    }

    [Test]
    public void A_stored_leg_rebuilds_its_dialog_whose_next_request_is_a_BYE_right_above_the_journaled_CSeq()
    {
        var leg = Bridge(parkedCSeq: 7).Parked;

        var dialog = leg.ToDialog();
        var bye = dialog.CreateRequest(SipMethods.Bye);

        Assert.Multiple(() =>
        {
            Assert.That(bye.CSeq.Number, Is.EqualTo(8), "the journal holds the last CSeq used: no guessed offset");
            Assert.That(bye.CallId, Is.EqualTo(leg.CallId));
            Assert.That(bye.From.Tag, Is.EqualTo("pooltag1"));
            Assert.That(bye.To.Tag, Is.EqualTo("bobtag9"));
            Assert.That(bye.RequestUri.ToString(), Is.EqualTo("sip:bob@10.0.0.9:5080;transport=udp"));
            Assert.That(bye.Routes.Single().ToString(), Is.EqualTo("<sip:edge1.callpark.lab;lr>"));
        });
    }

    [Test]
    public void A_leg_counts_a_request_about_to_leave_as_used()
    {
        var dialog = Bridge(parkedCSeq: 4).Parked.ToDialog();

        Assert.That(BridgeLegRecord.Of(dialog, ahead: 1).LocalCSeq, Is.EqualTo(5));
    }

    [Test]
    public void A_request_belongs_to_a_leg_only_with_its_Call_ID_and_both_tags()
    {
        var bridge = Bridge();
        SipRequest Bye(string callId, string fromTag, string toTag)
        {
            var bye = new SipRequest(SipMethods.Bye, SipUri.Parse("sip:park@127.0.0.1:5060"));
            bye.Headers.Add(HeaderNames.From, $"<sip:dave@callpark.lab>;tag={fromTag}");
            bye.Headers.Add(HeaderNames.To, $"<sip:7000@callpark.lab>;tag={toTag}");
            bye.Headers.Add(HeaderNames.CallId, callId);
            bye.Headers.Add(HeaderNames.CSeq, "2 BYE");
            return bye;
        }

        Assert.Multiple(() =>
        {
            Assert.That(bridge.LegOf(Bye(bridge.Retriever.CallId, "davetag4", "pooltag2"))?.Other, Is.EqualTo(bridge.Parked));
            Assert.That(bridge.LegOf(Bye(bridge.Parked.CallId, "bobtag9", "pooltag1"))?.Other, Is.EqualTo(bridge.Retriever));
            Assert.That(bridge.LegOf(Bye(bridge.Retriever.CallId, "guessed", "pooltag2")), Is.Null, "a wrong From tag");
            Assert.That(bridge.LegOf(Bye(bridge.Retriever.CallId, "davetag4", "guessed")), Is.Null, "a wrong To tag");
            Assert.That(bridge.LegOf(Bye(bridge.Retriever.CallId, "bobtag9", "pooltag1")), Is.Null, "the other leg's tags under this leg's Call-ID");
        });
    }

    [Test]
    public void A_new_state_file_has_both_bridge_tables_at_the_current_schema_version()
    {
        using (var database = new StateDatabase(_path))
        {
            using var connection = database.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('bridged_calls', 'replica_bridged_calls'); PRAGMA user_version;";
            using var reader = command.ExecuteReader();
            reader.Read();
            Assert.That(reader.GetInt32(0), Is.EqualTo(2));
            reader.NextResult();
            reader.Read();
            Assert.That(reader.GetInt32(0), Is.EqualTo(StateDatabase.SchemaVersion));
        }
    }
}
