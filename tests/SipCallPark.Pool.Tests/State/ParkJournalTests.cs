using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.State;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Tests.State;

public class ParkJournalTests
{
    private string _path = null!;

    [SetUp]
    public void SetUp() => _path = Path.Combine(Path.GetTempPath(), $"scp-journal-{Guid.NewGuid():N}.db");

    [TearDown]
    public void TearDown()
    {
        SqliteConnection.ClearAllPools();
        foreach (var f in new[] { _path, _path + "-wal", _path + "-shm" }) File.Delete(f);
    }

    // Whole milliseconds: the journal stores instants as Unix milliseconds.
    private static readonly DateTimeOffset ParkedAt = DateTimeOffset.FromUnixTimeMilliseconds(1_760_000_000_123);

    private static ParkedDialogRecord Record(string orbit, string pool = "pool-a", DateTimeOffset? timeoutDue = null,
        ParkedDialogState state = ParkedDialogState.Parked) =>
        new(orbit, pool, $"call-{orbit}@10.0.0.5", "pooltag1", "bobtag9",
            "<sip:7001@callpark.lab>", "\"Bob\" <sip:bob@callpark.lab>", "sip:bob@10.0.0.9:5080;transport=udp",
            ["<sip:edge1.callpark.lab;lr>", "<sip:10.0.0.7:5060;lr;transport=tcp>"], 4,
            "\"Bob\" <sip:bob@callpark.lab>", "sip:alice@callpark.lab", ParkedAt, timeoutDue, 0, state);

    [Test]
    public async Task In_memory_upsert_replaces_by_pool_and_orbit_remove_drops_and_ForPool_filters()
    {
        var journal = new InMemoryParkJournal();
        await journal.UpsertAsync(Record("7001"));
        await journal.UpsertAsync(Record("7002"));
        await journal.UpsertAsync(Record("7001", pool: "pool-b"));
        await journal.UpsertAsync(Record("7002") with { Attempts = 2, State = ParkedDialogState.Retrieved });
        Assert.Multiple(() =>
        {
            Assert.That(journal.All(), Has.Count.EqualTo(3));
            Assert.That(journal.ForPool("pool-a").Select(r => r.Orbit), Is.EqualTo(new[] { "7001", "7002" }));
            Assert.That(journal.ForPool("pool-a")[1], Is.EqualTo(Record("7002") with { Attempts = 2, State = ParkedDialogState.Retrieved }));
            Assert.That(journal.ForPool("pool-b").Single().Orbit, Is.EqualTo("7001"));
            Assert.That(journal.ForPool("pool-c"), Is.Empty);
        });

        await journal.RemoveAsync("7001", "pool-a");
        await journal.RemoveAsync("7999", "pool-a");
        Assert.Multiple(() =>
        {
            Assert.That(journal.ForPool("pool-a").Select(r => r.Orbit), Is.EqualTo(new[] { "7002" }));
            Assert.That(journal.ForPool("pool-b"), Has.Count.EqualTo(1), "the same orbit of another pool is another record");
        });
    }

    [Test]
    public void Records_compare_route_sets_by_content()
    {
        var a = Record("7001");
        var b = a with { RouteSet = a.RouteSet.ToList() };
        Assert.Multiple(() =>
        {
            Assert.That(b, Is.EqualTo(a));
            Assert.That(b.GetHashCode(), Is.EqualTo(a.GetHashCode()));
            Assert.That(a with { RouteSet = a.RouteSet.Reverse().ToArray() }, Is.Not.EqualTo(a));
        });
    }

    [Test]
    public async Task Sqlite_journal_returns_equal_records_after_a_reopen()
    {
        var database = new StateDatabase(_path);
        var journal = new SqliteParkJournal(database, NullLogger<SqliteParkJournal>.Instance);
        var timed = Record("7001", timeoutDue: ParkedAt.AddSeconds(300)) with { Attempts = 1 };
        var retrieved = Record("7002", state: ParkedDialogState.Retrieved) with { RouteSet = [] };
        var backup = Record("8001", pool: "pool-b");
        // Issued together, so the writer loop commits them in one or more batches.
        await Task.WhenAll(journal.UpsertAsync(timed), journal.UpsertAsync(retrieved), journal.UpsertAsync(backup),
            journal.UpsertAsync(Record("7003")));
        await journal.RemoveAsync("7003", "pool-a");
        await journal.DisposeAsync();

        var reopened = new SqliteParkJournal(new StateDatabase(_path), NullLogger<SqliteParkJournal>.Instance);
        Assert.Multiple(() =>
        {
            Assert.That(reopened.All(), Is.EqualTo(new[] { timed, retrieved, backup }));
            Assert.That(reopened.ForPool("pool-b"), Is.EqualTo(new[] { backup }));
            Assert.That(reopened.ForPool("pool-a")[0].TimeoutDue, Is.EqualTo(ParkedAt.AddSeconds(300)));
            Assert.That(reopened.ForPool("pool-a")[1].TimeoutDue, Is.Null);
            Assert.That(database.IntegrityCheck(), Is.EqualTo("ok"));
        });
        await reopened.DisposeAsync();
    }

    [Test]
    public async Task A_write_is_in_the_file_when_its_task_completes()
    {
        var database = new StateDatabase(_path);
        var journal = new SqliteParkJournal(database, NullLogger<SqliteParkJournal>.Instance);
        await journal.UpsertAsync(Record("7001"));
        await journal.UpsertAsync(Record("7001") with { LocalCSeq = 9 });

        using (var connection = database.Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT local_cseq, route_set FROM parked_dialogs WHERE pool = 'pool-a' AND orbit = '7001'";
            using var reader = command.ExecuteReader();
            Assert.That(reader.Read(), Is.True);
            Assert.That(reader.GetInt64(0), Is.EqualTo(9));
            Assert.That(System.Text.Json.JsonSerializer.Deserialize<string[]>(reader.GetString(1)), Is.EqualTo(Record("7001").RouteSet),
                "the route set is a JSON array of the Route values, in order");
        }
        await journal.DisposeAsync();
    }

    [Test]
    public void ToDialog_builds_a_BYE_to_the_remote_target_with_the_tags_routes_and_next_CSeq()
    {
        var record = Record("7001");
        var bye = record.ToDialog().CreateRequest(SipMethods.Bye);
        Assert.Multiple(() =>
        {
            Assert.That(bye.Method, Is.EqualTo(SipMethods.Bye));
            Assert.That(bye.RequestUri.ToString(), Is.EqualTo("sip:bob@10.0.0.9:5080;transport=udp"));
            Assert.That(bye.CallId, Is.EqualTo("call-7001@10.0.0.5"));
            Assert.That(bye.From.Tag, Is.EqualTo("pooltag1"));
            Assert.That(bye.From.Uri.ToString(), Is.EqualTo("sip:7001@callpark.lab"));
            Assert.That(bye.To.Tag, Is.EqualTo("bobtag9"));
            Assert.That(bye.To.Uri.ToString(), Is.EqualTo("sip:bob@callpark.lab"));
            Assert.That(bye.Routes.Select(r => r.ToString()), Is.EqualTo(record.RouteSet));
            Assert.That(bye.CSeq.Number, Is.EqualTo(record.LocalCSeq + 1));
            Assert.That(bye.CSeq.Method, Is.EqualTo(SipMethods.Bye));
        });
    }

    /// <summary>
    /// A file as a release with only migration 1 left it: the first migration's SQL, copied here verbatim, run on a
    /// bare connection with <c>user_version = 1</c> and one binding in it. Opening it with today's
    /// <see cref="StateDatabase"/> must add <c>parked_dialogs</c> and keep the binding readable and writable.
    /// </summary>
    [Test]
    public async Task A_file_made_by_migration_1_gains_the_journal_and_keeps_its_bindings()
    {
        var expires = DateTimeOffset.UtcNow.AddHours(1);
        using (var old = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _path }.ToString()))
        {
            old.Open();
            using var command = old.CreateCommand();
            command.CommandText = $"""
                PRAGMA journal_mode=WAL;
                CREATE TABLE bindings (
                    aor TEXT NOT NULL, contact TEXT NOT NULL, expires_at INTEGER NOT NULL, q REAL NOT NULL,
                    call_id TEXT NOT NULL, cseq INTEGER NOT NULL, instance_id TEXT, reg_id TEXT, source TEXT,
                    mode INTEGER NOT NULL, pool TEXT NOT NULL, PRIMARY KEY (aor, contact));
                CREATE INDEX bindings_expiry ON bindings (expires_at);
                PRAGMA user_version=1;
                INSERT INTO bindings VALUES ('sip:alice@callpark.lab', 'sip:alice@127.0.0.1:5070', {expires.ToUnixTimeMilliseconds()},
                    1.0, 'reg-1', 7, NULL, NULL, 'udp:127.0.0.1:5070', 0, 'pool-a');
                """;
            command.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();

        var database = new StateDatabase(_path);
        using (var connection = database.Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "PRAGMA user_version;";
            Assert.That(Convert.ToInt32(command.ExecuteScalar()), Is.GreaterThanOrEqualTo(2), "migration 2 (the journal) ran, and any later ones");
        }

        var bindings = new SqliteBindingStore(database, NullLogger<SqliteBindingStore>.Instance);
        var alice = bindings.Get("sip:alice@callpark.lab", DateTimeOffset.UtcNow);
        Assert.That(alice.Single().CallId, Is.EqualTo("reg-1"));
        await bindings.SetAsync("sip:bob@callpark.lab",
            [new Binding("sip:bob@callpark.lab", "sip:bob@127.0.0.1:5080", expires, 1.0, "reg-2", 1, null, null, null, RegistrationMode.Normal, "pool-a")]);
        await bindings.DisposeAsync();

        var journal = new SqliteParkJournal(database, NullLogger<SqliteParkJournal>.Instance);
        Assert.That(journal.All(), Is.Empty);
        await journal.UpsertAsync(Record("7001"));
        await journal.DisposeAsync();

        var reopenedDatabase = new StateDatabase(_path);
        var reopened = new SqliteBindingStore(reopenedDatabase, NullLogger<SqliteBindingStore>.Instance);
        var reopenedJournal = new SqliteParkJournal(reopenedDatabase, NullLogger<SqliteParkJournal>.Instance);
        Assert.Multiple(() =>
        {
            Assert.That(reopened.All(DateTimeOffset.UtcNow).Select(b => b.Aor).Order(),
                Is.EqualTo(new[] { "sip:alice@callpark.lab", "sip:bob@callpark.lab" }));
            Assert.That(reopenedJournal.All(), Is.EqualTo(new[] { Record("7001") }));
            Assert.That(reopenedDatabase.IntegrityCheck(), Is.EqualTo("ok"));
        });
        await reopened.DisposeAsync();
        await reopenedJournal.DisposeAsync();
    }
}
