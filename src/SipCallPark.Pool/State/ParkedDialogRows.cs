using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace SipCallPark.Pool.State;

/// <summary>
/// How a <see cref="ParkedDialogRecord"/> is stored in a SQLite table: the pool's own journal
/// (<c>parked_dialogs</c>) and the partner's replica (<c>replica_parked_dialogs</c>) share the columns.
/// </summary>
internal static class ParkedDialogRows
{
    public const string Columns = "pool, orbit, call_id, local_tag, remote_tag, local_uri, remote_uri, remote_target, route_set, "
                                  + "local_cseq, parked_party, parker, parked_at, timeout_due, attempts, state";

    public static string SelectAll(string table) => $"SELECT {Columns} FROM {table} ORDER BY pool, orbit";

    /// <summary>Makes <paramref name="command"/> the insert-or-replace of <paramref name="record"/> into <paramref name="table"/> under <paramref name="pool"/>.</summary>
    public static void Upsert(SqliteCommand command, string table, string pool, ParkedDialogRecord record)
    {
        command.CommandText = $"""
            INSERT OR REPLACE INTO {table} ({Columns})
            VALUES ($pool, $orbit, $cid, $ltag, $rtag, $luri, $ruri, $target, $routes, $cseq, $parked, $parker,
                $at, $due, $attempts, $state)
            """;
        var p = command.Parameters;
        p.AddWithValue("$pool", pool);
        p.AddWithValue("$orbit", record.Orbit);
        p.AddWithValue("$cid", record.CallId);
        p.AddWithValue("$ltag", record.LocalTag);
        p.AddWithValue("$rtag", record.RemoteTag);
        p.AddWithValue("$luri", record.LocalUri);
        p.AddWithValue("$ruri", record.RemoteUri);
        p.AddWithValue("$target", record.RemoteTarget);
        p.AddWithValue("$routes", JsonSerializer.Serialize(record.RouteSet.ToArray()));
        p.AddWithValue("$cseq", record.LocalCSeq);
        p.AddWithValue("$parked", record.ParkedParty);
        p.AddWithValue("$parker", record.Parker);
        p.AddWithValue("$at", record.ParkedAt.ToUnixTimeMilliseconds());
        p.AddWithValue("$due", record.TimeoutDue is { } due ? due.ToUnixTimeMilliseconds() : DBNull.Value);
        p.AddWithValue("$attempts", record.Attempts);
        p.AddWithValue("$state", (int)record.State);
    }

    /// <summary>The record at the reader's row (columns in <see cref="Columns"/> order).</summary>
    public static ParkedDialogRecord Read(SqliteDataReader reader) => new(
        Orbit: reader.GetString(1), Pool: reader.GetString(0), CallId: reader.GetString(2),
        LocalTag: reader.GetString(3), RemoteTag: reader.GetString(4), LocalUri: reader.GetString(5),
        RemoteUri: reader.GetString(6), RemoteTarget: reader.GetString(7),
        RouteSet: JsonSerializer.Deserialize<string[]>(reader.GetString(8)) ?? [],
        LocalCSeq: reader.GetInt64(9), ParkedParty: reader.GetString(10), Parker: reader.GetString(11),
        ParkedAt: DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(12)),
        TimeoutDue: reader.IsDBNull(13) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(13)),
        Attempts: reader.GetInt32(14), State: (ParkedDialogState)reader.GetInt32(15));
}
