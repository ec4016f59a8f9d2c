using System.Collections.Concurrent;

namespace SipCallPark.Pool.State;

/// <summary>Bridged calls in memory only: for tests, and the read side of <see cref="SqliteBridgeJournal"/>.</summary>
public class InMemoryBridgeJournal : IBridgeJournal
{
    private readonly ConcurrentDictionary<(string Pool, string Id), BridgedCallRecord> _records = new();

    public IReadOnlyList<BridgedCallRecord> ForPool(string pool) =>
        _records.Values.Where(r => string.Equals(r.Pool, pool, StringComparison.Ordinal))
            .OrderBy(r => r.Since).ThenBy(r => r.Id, StringComparer.Ordinal).ToArray();

    public virtual Task UpsertAsync(BridgedCallRecord record, CancellationToken cancellationToken = default)
    {
        UpsertInMemory(record);
        return Task.CompletedTask;
    }

    public virtual Task RemoveAsync(string id, string pool, CancellationToken cancellationToken = default)
    {
        RemoveInMemory(id, pool);
        return Task.CompletedTask;
    }

    protected void UpsertInMemory(BridgedCallRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _records[(record.Pool, record.Id)] = record;
    }

    protected void RemoveInMemory(string id, string pool) => _records.TryRemove((pool, id), out _);
}
