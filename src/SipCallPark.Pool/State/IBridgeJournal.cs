namespace SipCallPark.Pool.State;

/// <summary>
/// The bridged calls a pool holds (its own while it bridges them; keyed by pool and bridge id). Reads come from
/// memory; a write completes once it is durable, so a restarted pool still finds the legs of every bridge it held.
/// </summary>
public interface IBridgeJournal
{
    /// <summary>Adds or replaces the record of (<c>record.Pool</c>, <c>record.Id</c>).</summary>
    Task UpsertAsync(BridgedCallRecord record, CancellationToken cancellationToken = default);

    /// <summary>Drops the record of a bridge of a pool; no-op when there is none.</summary>
    Task RemoveAsync(string id, string pool, CancellationToken cancellationToken = default);

    /// <summary>The records owned by <paramref name="pool"/>, oldest first.</summary>
    IReadOnlyList<BridgedCallRecord> ForPool(string pool);
}
