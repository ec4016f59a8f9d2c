using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Registrar;

namespace SipCallPark.Pool.State;

/// <summary>
/// Bindings kept in memory for reads and written through to SQLite. Writes are group-committed (<see cref="GroupCommitQueue{T}"/>): a writer loop takes
/// every pending change, writes them in one transaction and only then completes their tasks, so the registrar's
/// 200 OK follows a durable write without one fsync per REGISTER.
/// </summary>
public sealed class SqliteBindingStore : InMemoryBindingStore, IAsyncDisposable
{
    private readonly StateDatabase _database;
    private readonly ILogger _logger;
    private readonly GroupCommitQueue<PendingWrite> _writes;

    /// <summary>The bindings of one address of record, or (<see cref="PurgeBefore"/> set) a purge of expired ones.</summary>
    private sealed record PendingWrite(string? Aor, IReadOnlyList<Binding> Bindings, DateTimeOffset? PurgeBefore);

    public SqliteBindingStore(StateDatabase database, ILogger<SqliteBindingStore> logger)
    {
        _database = database;
        _logger = logger;
        Load();
        _writes = new GroupCommitQueue<PendingWrite>(database, Apply, logger, "binding");
    }

    public override Task SetAsync(string aor, IReadOnlyList<Binding> bindings, CancellationToken cancellationToken = default)
    {
        SetInMemory(aor, bindings);
        return _writes.EnqueueAsync(new PendingWrite(aor, bindings, null));
    }

    public override async Task<int> PurgeExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var removed = PurgeInMemory(now);
        await _writes.EnqueueAsync(new PendingWrite(null, [], now)).ConfigureAwait(false);
        return removed;
    }

    private void Load()
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT aor, contact, expires_at, q, call_id, cseq, instance_id, reg_id, source, mode, pool, nat FROM bindings ORDER BY aor";
        using var reader = command.ExecuteReader();
        var byAor = new Dictionary<string, List<Binding>>(StringComparer.OrdinalIgnoreCase);
        while (reader.Read())
        {
            var binding = new Binding(reader.GetString(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                reader.GetDouble(3), reader.GetString(4), reader.GetInt64(5), reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8),
                (RegistrationMode)reader.GetInt32(9), reader.GetString(10), BindingRows.ReadNat(reader, 11));
            if (!byAor.TryGetValue(binding.Aor, out var list)) byAor[binding.Aor] = list = [];
            list.Add(binding);
        }
        foreach (var (aor, list) in byAor) SetInMemory(aor, list);
        _logger.LogInformation("Loaded {Count} bindings from {Path}", byAor.Values.Sum(l => l.Count), _database.Path);
    }

    private static void Apply(SqliteConnection connection, SqliteTransaction tx, PendingWrite write)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        if (write.PurgeBefore is { } before)
        {
            command.CommandText = "DELETE FROM bindings WHERE expires_at <= $t";
            command.Parameters.AddWithValue("$t", before.ToUnixTimeMilliseconds());
            command.ExecuteNonQuery();
            return;
        }
        command.CommandText = "DELETE FROM bindings WHERE aor = $aor";
        command.Parameters.AddWithValue("$aor", write.Aor);
        command.ExecuteNonQuery();
        foreach (var b in write.Bindings)
        {
            using var insert = connection.CreateCommand();
            insert.Transaction = tx;
            BindingRows.Upsert(insert, "bindings", b.Pool, b);
            insert.ExecuteNonQuery();
        }
    }

    public ValueTask DisposeAsync() => _writes.DisposeAsync();
}
