using Microsoft.Data.Sqlite;
using SipCallPark.Pool.Resiliency;

namespace SipCallPark.Pool.State;

/// <summary>A pool's DR phase as last recorded, and since when.</summary>
public sealed record StoredDrPhase(string Pool, DrPhase Phase, DateTimeOffset Since);

/// <summary>
/// The DR phases a pool tracks, kept in its state store so that a restart resumes them (docs/design.md §7: the phase
/// survives restarts): the partner's phase as this pool drives it, and this pool's own as its partner reports it.
/// Without a database the phases live in memory only (tests).
/// </summary>
public sealed class DrPhaseStore(StateDatabase? database)
{
    private readonly Dictionary<string, StoredDrPhase> _memory = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _lock = new();

    public StoredDrPhase? Load(string pool)
    {
        if (database is null)
        {
            lock (_lock) return _memory.GetValueOrDefault(pool);
        }
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT phase, since FROM dr_phases WHERE pool = $pool;";
        command.Parameters.AddWithValue("$pool", pool);
        using var reader = command.ExecuteReader();
        if (!reader.Read() || !Enum.TryParse<DrPhase>(reader.GetString(0), out var phase)) return null;
        return new StoredDrPhase(pool, phase, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)));
    }

    /// <summary>Records a phase; durable when this returns (phases change rarely, so a synchronous write is fine).</summary>
    public void Save(StoredDrPhase phase)
    {
        if (database is null)
        {
            lock (_lock) _memory[phase.Pool] = phase;
            return;
        }
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO dr_phases (pool, phase, since) VALUES ($pool, $phase, $since)
            ON CONFLICT (pool) DO UPDATE SET phase = excluded.phase, since = excluded.since;
            """;
        command.Parameters.AddWithValue("$pool", phase.Pool);
        command.Parameters.AddWithValue("$phase", phase.Phase.ToString());
        command.Parameters.AddWithValue("$since", phase.Since.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }
}
