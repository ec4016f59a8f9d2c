namespace SipCallPark.Pool.State;

/// <summary>
/// The parked dialogs a pool holds (its own, and its paired pool's by replication), keyed by pool and orbit. Reads
/// come from memory; a write completes only once it is durable, so a restart finds every call it must tear down.
/// </summary>
public interface IParkJournal
{
    /// <summary>Adds or replaces the record of (<c>record.Pool</c>, <c>record.Orbit</c>).</summary>
    Task UpsertAsync(ParkedDialogRecord record, CancellationToken cancellationToken = default);

    /// <summary>Drops the record of an orbit of a pool; no-op when there is none.</summary>
    Task RemoveAsync(string orbit, string pool, CancellationToken cancellationToken = default);

    /// <summary>Every record, of every pool.</summary>
    IReadOnlyList<ParkedDialogRecord> All();

    /// <summary>The records owned by <paramref name="pool"/>.</summary>
    IReadOnlyList<ParkedDialogRecord> ForPool(string pool);
}
