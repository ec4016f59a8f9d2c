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
        command.CommandText = ParkedDialogRows.SelectAll("parked_dialogs");
        using var reader = command.ExecuteReader();
        var count = 0;
        while (reader.Read())
        {
            UpsertInMemory(ParkedDialogRows.Read(reader));
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
        command.Parameters.Clear();
        ParkedDialogRows.Upsert(command, "parked_dialogs", write.Pool, r);
        command.ExecuteNonQuery();
    }

    public ValueTask DisposeAsync() => _writes.DisposeAsync();
}
