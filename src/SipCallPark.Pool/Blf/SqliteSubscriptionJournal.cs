using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using SipCallPark.Pool.State;

namespace SipCallPark.Pool.Blf;

/// <summary>
/// The lamp subscriptions in the pool's SQLite file (table <c>blf_subscriptions</c>, made by a migration of
/// <see cref="StateDatabase"/>), written through a
/// <see cref="GroupCommitQueue{T}"/> so that a NOTIFY never waits for a commit of its own.
/// </summary>
internal sealed class SqliteSubscriptionJournal : ISubscriptionJournal, IAsyncDisposable
{
    private readonly StateDatabase _database;
    private readonly GroupCommitQueue<(SubscriptionRecord? Record, string CallId, string LocalTag)> _writes;

    public SqliteSubscriptionJournal(StateDatabase database, ILogger<SqliteSubscriptionJournal> logger)
    {
        _database = database;
        _writes = new(database, Apply, logger, "lamp subscription");
    }

    public IReadOnlyList<SubscriptionRecord> Load()
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT call_id, local_tag, remote_tag, local_uri, remote_uri, remote_target, route_set, local_cseq, remote_cseq,
                   resource, subscriber, event_id, version, expires_at FROM blf_subscriptions
            """;
        using var reader = command.ExecuteReader();
        var records = new List<SubscriptionRecord>();
        while (reader.Read())
        {
            records.Add(new SubscriptionRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), reader.GetString(5), JsonSerializer.Deserialize<string[]>(reader.GetString(6)) ?? [], reader.GetInt64(7),
                reader.IsDBNull(8) ? null : reader.GetInt64(8), reader.GetString(9), reader.GetString(10),
                reader.IsDBNull(11) ? null : reader.GetString(11), reader.GetInt64(12), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(13))));
        }
        return records;
    }

    public Task UpsertAsync(SubscriptionRecord record) => _writes.EnqueueAsync((record, record.CallId, record.LocalTag));

    public Task RemoveAsync(string callId, string localTag) => _writes.EnqueueAsync((null, callId, localTag));

    private static void Apply(SqliteConnection connection, SqliteTransaction tx, (SubscriptionRecord? Record, string CallId, string LocalTag) write)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.Parameters.AddWithValue("$call_id", write.CallId);
        command.Parameters.AddWithValue("$local_tag", write.LocalTag);
        if (write.Record is not { } r)
        {
            command.CommandText = "DELETE FROM blf_subscriptions WHERE call_id = $call_id AND local_tag = $local_tag";
            command.ExecuteNonQuery();
            return;
        }
        command.CommandText = """
            INSERT OR REPLACE INTO blf_subscriptions (call_id, local_tag, remote_tag, local_uri, remote_uri, remote_target, route_set,
                local_cseq, remote_cseq, resource, subscriber, event_id, version, expires_at)
            VALUES ($call_id, $local_tag, $remote_tag, $local_uri, $remote_uri, $remote_target, $route_set, $local_cseq, $remote_cseq,
                $resource, $subscriber, $event_id, $version, $expires_at)
            """;
        command.Parameters.AddWithValue("$remote_tag", r.RemoteTag);
        command.Parameters.AddWithValue("$local_uri", r.LocalUri);
        command.Parameters.AddWithValue("$remote_uri", r.RemoteUri);
        command.Parameters.AddWithValue("$remote_target", r.RemoteTarget);
        command.Parameters.AddWithValue("$route_set", JsonSerializer.Serialize(r.RouteSet));
        command.Parameters.AddWithValue("$local_cseq", r.LocalCSeq);
        command.Parameters.AddWithValue("$remote_cseq", (object?)r.RemoteCSeq ?? DBNull.Value);
        command.Parameters.AddWithValue("$resource", r.Resource);
        command.Parameters.AddWithValue("$subscriber", r.Subscriber);
        command.Parameters.AddWithValue("$event_id", (object?)r.EventId ?? DBNull.Value);
        command.Parameters.AddWithValue("$version", r.Version);
        command.Parameters.AddWithValue("$expires_at", r.ExpiresAt.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }

    public ValueTask DisposeAsync() => _writes.DisposeAsync();
}
