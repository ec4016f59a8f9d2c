using Microsoft.Data.Sqlite;
using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.State;

namespace SipCallPark.Pool.Replication;

/// <summary>One change to the replica tables: a batch, a snapshot (replace the pool's rows) or one park forgotten.</summary>
internal sealed record ReplicaWrite(
    string Pool,
    ReplicationBatch? Batch = null,
    ReplicationSnapshot? Snapshot = null,
    string? RemovedOrbit = null,
    DateTimeOffset? PurgeBefore = null,
    string? RemovedBridge = null);

/// <summary>
/// The rows of <c>replica_bindings</c> and <c>replica_parked_dialogs</c> (state database migration 3). The park rows
/// have the columns of <c>parked_dialogs</c>, so a replicated dialog is stored exactly as its owner journals it.
/// </summary>
internal static class ReplicaTables
{
    private const string BridgeTable = "replica_bridged_calls";

    public static (List<Binding> Bindings, List<ParkedDialogRecord> Parks, List<BridgedCallRecord> Bridges) Load(StateDatabase database)
    {
        using var connection = database.Open();
        var bindings = new List<Binding>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT pool, aor, contact, expires_at, q, call_id, cseq, instance_id, reg_id, source, mode, nat
                FROM replica_bindings ORDER BY pool, aor
                """;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                bindings.Add(new Binding(reader.GetString(1), reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                    reader.GetDouble(4), reader.GetString(5), reader.GetInt64(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                    reader.IsDBNull(8) ? null : reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9),
                    (RegistrationMode)reader.GetInt32(10), reader.GetString(0), BindingRows.ReadNat(reader, 11)));
            }
        }
        var parks = new List<ParkedDialogRecord>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = ParkedDialogRows.SelectAll("replica_parked_dialogs");
            using var reader = command.ExecuteReader();
            while (reader.Read()) parks.Add(ParkedDialogRows.Read(reader));
        }
        return (bindings, parks, BridgedCallRows.Load(connection, BridgeTable));
    }

    public static void Apply(SqliteConnection connection, SqliteTransaction tx, ReplicaWrite write)
    {
        var pool = write.Pool;
        if (write.Snapshot is { } snapshot)
        {
            Execute(connection, tx, "DELETE FROM replica_bindings WHERE pool = $pool", ("$pool", pool));
            Execute(connection, tx, "DELETE FROM replica_parked_dialogs WHERE pool = $pool", ("$pool", pool));
            foreach (var binding in snapshot.Bindings) InsertBinding(connection, tx, pool, binding);
            foreach (var park in snapshot.Parks) UpsertPark(connection, tx, pool, park);
            BridgedCallRows.Delete(connection, tx, BridgeTable, pool, id: null);
            foreach (var bridge in snapshot.Bridges ?? []) BridgedCallRows.Upsert(connection, tx, BridgeTable, pool, bridge with { Pool = pool });
        }
        if (write.Batch is { } batch)
        {
            foreach (var set in batch.Bindings)
            {
                Execute(connection, tx, "DELETE FROM replica_bindings WHERE pool = $pool AND aor = $aor", ("$pool", pool), ("$aor", set.Aor));
                foreach (var binding in set.Bindings) InsertBinding(connection, tx, pool, binding);
            }
            foreach (var park in batch.Parks) UpsertPark(connection, tx, pool, park);
            foreach (var orbit in batch.RemovedOrbits) RemovePark(connection, tx, pool, orbit);
            foreach (var bridge in batch.Bridges ?? []) BridgedCallRows.Upsert(connection, tx, BridgeTable, pool, bridge with { Pool = pool });
            foreach (var id in batch.EndedBridges ?? []) BridgedCallRows.Delete(connection, tx, BridgeTable, pool, id);
        }
        if (write.RemovedOrbit is { } removed) RemovePark(connection, tx, pool, removed);
        if (write.RemovedBridge is { } ended) BridgedCallRows.Delete(connection, tx, BridgeTable, pool, ended);
        if (write.PurgeBefore is { } before)
            Execute(connection, tx, "DELETE FROM replica_bindings WHERE expires_at <= $t", ("$t", before.ToUnixTimeMilliseconds()));
    }

    private static void RemovePark(SqliteConnection connection, SqliteTransaction tx, string pool, string orbit) =>
        Execute(connection, tx, "DELETE FROM replica_parked_dialogs WHERE pool = $pool AND orbit = $orbit", ("$pool", pool), ("$orbit", orbit));

    private static void InsertBinding(SqliteConnection connection, SqliteTransaction tx, string pool, Binding b)
    {
        using var insert = connection.CreateCommand();
        insert.Transaction = tx;
        BindingRows.Upsert(insert, "replica_bindings", pool, b);
        insert.ExecuteNonQuery();
    }

    private static void UpsertPark(SqliteConnection connection, SqliteTransaction tx, string pool, ParkedDialogRecord r)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        ParkedDialogRows.Upsert(command, "replica_parked_dialogs", pool, r);
        command.ExecuteNonQuery();
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction tx, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        command.ExecuteNonQuery();
    }
}
