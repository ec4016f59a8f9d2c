using Microsoft.Data.Sqlite;

namespace SipCallPark.Pool.State;

/// <summary>
/// The pool's SQLite file (<c>data/&lt;pool&gt;.db</c>): opened in WAL mode, schema created or migrated at start.
/// Each migration runs once, in order; the file records the version it reached.
/// </summary>
public sealed class StateDatabase : IDisposable
{
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE bindings (
            aor TEXT NOT NULL, contact TEXT NOT NULL, expires_at INTEGER NOT NULL, q REAL NOT NULL,
            call_id TEXT NOT NULL, cseq INTEGER NOT NULL, instance_id TEXT, reg_id TEXT, source TEXT,
            mode INTEGER NOT NULL, pool TEXT NOT NULL, PRIMARY KEY (aor, contact));
        CREATE INDEX bindings_expiry ON bindings (expires_at);
        """,
        """
        CREATE TABLE parked_dialogs (
            pool TEXT NOT NULL, orbit TEXT NOT NULL, call_id TEXT NOT NULL, local_tag TEXT NOT NULL,
            remote_tag TEXT NOT NULL, local_uri TEXT NOT NULL, remote_uri TEXT NOT NULL, remote_target TEXT NOT NULL,
            route_set TEXT NOT NULL, local_cseq INTEGER NOT NULL, parked_party TEXT NOT NULL, parker TEXT NOT NULL,
            parked_at INTEGER NOT NULL, timeout_due INTEGER, attempts INTEGER NOT NULL, state INTEGER NOT NULL,
            PRIMARY KEY (pool, orbit));
        """,
        // 3: the DR phases this pool tracks (DrPhaseStore), resumed after a restart.
        """
        CREATE TABLE dr_phases (
            pool TEXT NOT NULL PRIMARY KEY, phase TEXT NOT NULL, since INTEGER NOT NULL);
        """,
        // 4: what this pool holds of its partners by replication (Replication/ReplicaStore), apart from its own state.
        """
        CREATE TABLE replica_bindings (
            pool TEXT NOT NULL, aor TEXT NOT NULL, contact TEXT NOT NULL, expires_at INTEGER NOT NULL, q REAL NOT NULL,
            call_id TEXT NOT NULL, cseq INTEGER NOT NULL, instance_id TEXT, reg_id TEXT, source TEXT, mode INTEGER NOT NULL,
            PRIMARY KEY (pool, aor, contact));
        CREATE INDEX replica_bindings_expiry ON replica_bindings (expires_at);
        CREATE TABLE replica_parked_dialogs (
            pool TEXT NOT NULL, orbit TEXT NOT NULL, call_id TEXT NOT NULL, local_tag TEXT NOT NULL,
            remote_tag TEXT NOT NULL, local_uri TEXT NOT NULL, remote_uri TEXT NOT NULL, remote_target TEXT NOT NULL,
            route_set TEXT NOT NULL, local_cseq INTEGER NOT NULL, parked_party TEXT NOT NULL, parker TEXT NOT NULL,
            parked_at INTEGER NOT NULL, timeout_due INTEGER, attempts INTEGER NOT NULL, state INTEGER NOT NULL,
            PRIMARY KEY (pool, orbit));
        """,
        // 5: what the registrar's NAT test saw (Registrar/NatSigns); NULL for bindings stored before, reached at their source.
        """
        ALTER TABLE bindings ADD COLUMN nat INTEGER;
        ALTER TABLE replica_bindings ADD COLUMN nat INTEGER;
        """,
        // The bridged calls this pool holds (State/SqliteBridgeJournal) and its partner's (Replication/ReplicaStore).
        BridgedCallRows.Migration,
        // The orbit lamp subscriptions (Blf/SqliteSubscriptionJournal), resumed after a restart; IF NOT EXISTS, so it
        // stands alone in whatever place it ends up.
        """
        CREATE TABLE IF NOT EXISTS blf_subscriptions (
            call_id TEXT NOT NULL, local_tag TEXT NOT NULL, remote_tag TEXT NOT NULL, local_uri TEXT NOT NULL,
            remote_uri TEXT NOT NULL, remote_target TEXT NOT NULL, route_set TEXT NOT NULL, local_cseq INTEGER NOT NULL,
            remote_cseq INTEGER, resource TEXT NOT NULL, subscriber TEXT NOT NULL, event_id TEXT, version INTEGER NOT NULL,
            expires_at INTEGER NOT NULL, PRIMARY KEY (call_id, local_tag));
        """,
    ];

    private readonly string _connectionString;

    /// <summary>The schema version a file has after opening: the number of migrations.</summary>
    public static int SchemaVersion => Migrations.Length;

    public StateDatabase(string path)
    {
        Path = path;
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        using var connection = Open();
        Execute(connection, "PRAGMA journal_mode=WAL;");
        Migrate(connection);
    }

    public string Path { get; }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;");
        return connection;
    }

    /// <summary>Result of <c>PRAGMA integrity_check</c>: "ok" when the file is sound.</summary>
    public string IntegrityCheck()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check;";
        return Convert.ToString(command.ExecuteScalar()) ?? "";
    }

    private static void Migrate(SqliteConnection connection)
    {
        using var read = connection.CreateCommand();
        read.CommandText = "PRAGMA user_version;";
        var version = Convert.ToInt32(read.ExecuteScalar());
        for (var i = version; i < Migrations.Length; i++)
        {
            using var tx = connection.BeginTransaction();
            Execute(connection, Migrations[i], tx);
            Execute(connection, $"PRAGMA user_version={i + 1};", tx);
            tx.Commit();
        }
    }

    internal static void Execute(SqliteConnection connection, string sql, SqliteTransaction? tx = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose() => SqliteConnection.ClearAllPools();
}
