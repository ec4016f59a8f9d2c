using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace SipCallPark.Pool.State;

/// <summary>
/// Parked dialogs kept in memory for reads and written through to the <c>parked_dialogs</c> table. Writes are
/// group-committed through <see cref="GroupCommitQueue{T}"/>: a writer loop takes every pending change, writes them in
/// one transaction and only then completes their tasks. The journal is loaded at construction, so a restarted pool
/// sees every dialog it must BYE.
/// </summary>
public sealed class SqliteParkJournal : InMemoryParkJournal, IAsyncDisposable
{
    private readonly StateDatabase _database;
    private readonly ILogger _logger;
    private readonly Lock _order = new();
    private readonly GroupCommitQueue<PendingWrite> _writes;

    /// <summary>An upsert (<see cref="Record"/> set) or a removal of (<see cref="Pool"/>, <see cref="Orbit"/>).</summary>
    private sealed record PendingWrite(ParkedDialogRecord? Record, string Pool, string Orbit);

    public SqliteParkJournal(StateDatabase database, ILogger<SqliteParkJournal> logger)
    {
        _database = database;
        _logger = logger;
        Load();
        _writes = new GroupCommitQueue<PendingWrite>(database, Apply, logger, "parked dialog");
    }

    public override Task UpsertAsync(ParkedDialogRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        // Memory and the write queue change under one lock so two writers to one orbit land in the same order in both.
        lock (_order)
        {
            UpsertInMemory(record);
            return _writes.EnqueueAsync(new PendingWrite(record, record.Pool, record.Orbit));
        }
    }

    public override Task RemoveAsync(string orbit, string pool, CancellationToken cancellationToken = default)
    {
        lock (_order)
        {
            RemoveInMemory(orbit, pool);
            return _writes.EnqueueAsync(new PendingWrite(null, pool, orbit));
        }
    }

    private void Load()
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT pool, orbit, call_id, local_tag, remote_tag, local_uri, remote_uri, remote_target, route_set,
                   local_cseq, parked_party, parker, parked_at, timeout_due, attempts, state
            FROM parked_dialogs ORDER BY pool, orbit
            """;
        using var reader = command.ExecuteReader();
        var count = 0;
        while (reader.Read())
        {
            var routes = JsonSerializer.Deserialize<string[]>(reader.GetString(8)) ?? [];
            UpsertInMemory(new ParkedDialogRecord(
                Orbit: reader.GetString(1), Pool: reader.GetString(0), CallId: reader.GetString(2),
                LocalTag: reader.GetString(3), RemoteTag: reader.GetString(4), LocalUri: reader.GetString(5),
                RemoteUri: reader.GetString(6), RemoteTarget: reader.GetString(7), RouteSet: routes,
                LocalCSeq: reader.GetInt64(9), ParkedParty: reader.GetString(10), Parker: reader.GetString(11),
                ParkedAt: DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(12)),
                TimeoutDue: reader.IsDBNull(13) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(13)),
                Attempts: reader.GetInt32(14), State: (ParkedDialogState)reader.GetInt32(15)));
            count++;
        }
        _logger.LogInformation("Loaded {Count} parked dialogs from {Path}", count, _database.Path);
    }

    private static void Apply(SqliteConnection connection, SqliteTransaction tx, PendingWrite write)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.Parameters.AddWithValue("$pool", write.Pool);
        command.Parameters.AddWithValue("$orbit", write.Orbit);
        if (write.Record is not { } r)
        {
            command.CommandText = "DELETE FROM parked_dialogs WHERE pool = $pool AND orbit = $orbit";
            command.ExecuteNonQuery();
            return;
        }
        command.CommandText = """
            INSERT OR REPLACE INTO parked_dialogs (pool, orbit, call_id, local_tag, remote_tag, local_uri, remote_uri,
                remote_target, route_set, local_cseq, parked_party, parker, parked_at, timeout_due, attempts, state)
            VALUES ($pool, $orbit, $cid, $ltag, $rtag, $luri, $ruri, $target, $routes, $cseq, $parked, $parker,
                $at, $due, $attempts, $state)
            """;
        command.Parameters.AddWithValue("$cid", r.CallId);
        command.Parameters.AddWithValue("$ltag", r.LocalTag);
        command.Parameters.AddWithValue("$rtag", r.RemoteTag);
        command.Parameters.AddWithValue("$luri", r.LocalUri);
        command.Parameters.AddWithValue("$ruri", r.RemoteUri);
        command.Parameters.AddWithValue("$target", r.RemoteTarget);
        command.Parameters.AddWithValue("$routes", JsonSerializer.Serialize(r.RouteSet.ToArray()));
        command.Parameters.AddWithValue("$cseq", r.LocalCSeq);
        command.Parameters.AddWithValue("$parked", r.ParkedParty);
        command.Parameters.AddWithValue("$parker", r.Parker);
        command.Parameters.AddWithValue("$at", r.ParkedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$due", r.TimeoutDue is { } due ? due.ToUnixTimeMilliseconds() : DBNull.Value);
        command.Parameters.AddWithValue("$attempts", r.Attempts);
        command.Parameters.AddWithValue("$state", (int)r.State);
        command.ExecuteNonQuery();
    }

    public ValueTask DisposeAsync() => _writes.DisposeAsync();
}
