using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace SipCallPark.Pool.State;

/// <summary>
/// Bridged calls kept in memory for reads and written through to the <c>bridged_calls</c> table, group-committed like
/// the park journal (<see cref="GroupCommitQueue{T}"/>). Loaded at construction, so a restarted pool knows the legs of
/// every bridge the process before it held.
/// </summary>
public sealed class SqliteBridgeJournal : InMemoryBridgeJournal, IAsyncDisposable
{
    private const string Table = "bridged_calls";

    private readonly Lock _order = new();
    private readonly GroupCommitQueue<PendingWrite> _writes;

    /// <summary>An upsert (<see cref="Record"/> set) or a removal of (<see cref="Pool"/>, <see cref="Id"/>).</summary>
    private sealed record PendingWrite(BridgedCallRecord? Record, string Pool, string Id);

    public SqliteBridgeJournal(StateDatabase database, ILogger<SqliteBridgeJournal> logger)
    {
        using (var connection = database.Open())
        {
            var loaded = BridgedCallRows.Load(connection, Table);
            foreach (var record in loaded) UpsertInMemory(record);
            logger.LogInformation("Loaded {Count} bridged calls from {Path}", loaded.Count, database.Path);
        }
        _writes = new GroupCommitQueue<PendingWrite>(database, Apply, logger, "bridged call");
    }

    public override Task UpsertAsync(BridgedCallRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_order)
        {
            UpsertInMemory(record);
            return _writes.EnqueueAsync(new PendingWrite(record, record.Pool, record.Id));
        }
    }

    public override Task RemoveAsync(string id, string pool, CancellationToken cancellationToken = default)
    {
        lock (_order)
        {
            RemoveInMemory(id, pool);
            return _writes.EnqueueAsync(new PendingWrite(null, pool, id));
        }
    }

    private static void Apply(SqliteConnection connection, SqliteTransaction tx, PendingWrite write)
    {
        if (write.Record is { } record) BridgedCallRows.Upsert(connection, tx, Table, write.Pool, record);
        else BridgedCallRows.Delete(connection, tx, Table, write.Pool, write.Id);
    }

    public ValueTask DisposeAsync() => _writes.DisposeAsync();
}
