using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace SipCallPark.Pool.State;

/// <summary>
/// How a <see cref="BridgedCallRecord"/> is stored in a SQLite table: the pool's own journal (<c>bridged_calls</c>) and
/// the partner's replica (<c>replica_bridged_calls</c>) share the columns; each leg is one JSON column.
/// </summary>
internal static class BridgedCallRows
{
    /// <summary>The migration that adds both tables; self-contained, so it may run in any order among others.</summary>
    public const string Migration = """
        CREATE TABLE IF NOT EXISTS bridged_calls (
            pool TEXT NOT NULL, id TEXT NOT NULL, orbit TEXT NOT NULL, since INTEGER NOT NULL,
            parked_leg TEXT NOT NULL, retriever_leg TEXT NOT NULL, PRIMARY KEY (pool, id));
        CREATE TABLE IF NOT EXISTS replica_bridged_calls (
            pool TEXT NOT NULL, id TEXT NOT NULL, orbit TEXT NOT NULL, since INTEGER NOT NULL,
            parked_leg TEXT NOT NULL, retriever_leg TEXT NOT NULL, PRIMARY KEY (pool, id));
        """;

    private const string Columns = "pool, id, orbit, since, parked_leg, retriever_leg";

    public static List<BridgedCallRecord> Load(SqliteConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM {table} ORDER BY pool, since, id";
        using var reader = command.ExecuteReader();
        var records = new List<BridgedCallRecord>();
        while (reader.Read())
        {
            records.Add(new BridgedCallRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)), ReadLeg(reader.GetString(4)), ReadLeg(reader.GetString(5))));
        }
        return records;
    }

    public static void Upsert(SqliteConnection connection, SqliteTransaction tx, string table, string pool, BridgedCallRecord record)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = $"INSERT OR REPLACE INTO {table} ({Columns}) VALUES ($pool, $id, $orbit, $since, $parked, $retriever)";
        command.Parameters.AddWithValue("$pool", pool);
        command.Parameters.AddWithValue("$id", record.Id);
        command.Parameters.AddWithValue("$orbit", record.Orbit);
        command.Parameters.AddWithValue("$since", record.Since.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$parked", JsonSerializer.Serialize(record.Parked));
        command.Parameters.AddWithValue("$retriever", JsonSerializer.Serialize(record.Retriever));
        command.ExecuteNonQuery();
    }

    public static void Delete(SqliteConnection connection, SqliteTransaction tx, string table, string pool, string? id)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = id is null ? $"DELETE FROM {table} WHERE pool = $pool" : $"DELETE FROM {table} WHERE pool = $pool AND id = $id";
        command.Parameters.AddWithValue("$pool", pool);
        if (id is not null) command.Parameters.AddWithValue("$id", id);
        command.ExecuteNonQuery();
    }

    private static BridgeLegRecord ReadLeg(string json) =>
        JsonSerializer.Deserialize<BridgeLegRecord>(json) ?? throw new JsonException("a bridged call's leg is empty");
}
