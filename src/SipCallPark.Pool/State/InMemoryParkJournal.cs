using System.Collections.Concurrent;

namespace SipCallPark.Pool.State;

/// <summary>Parked dialogs in memory only: for tests, and the read side of <see cref="SqliteParkJournal"/>.</summary>
public class InMemoryParkJournal : IParkJournal
{
    private readonly ConcurrentDictionary<(string Pool, string Orbit), ParkedDialogRecord> _records = new();

    public IReadOnlyList<ParkedDialogRecord> All() => Sorted(_records.Values);

    public IReadOnlyList<ParkedDialogRecord> ForPool(string pool) =>
        Sorted(_records.Values.Where(r => string.Equals(r.Pool, pool, StringComparison.Ordinal)));

    public virtual Task UpsertAsync(ParkedDialogRecord record, CancellationToken cancellationToken = default)
    {
        UpsertInMemory(record);
        return Task.CompletedTask;
    }

    public virtual Task RemoveAsync(string orbit, string pool, CancellationToken cancellationToken = default)
    {
        RemoveInMemory(orbit, pool);
        return Task.CompletedTask;
    }

    protected void UpsertInMemory(ParkedDialogRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _records[(record.Pool, record.Orbit)] = record;
    }

    protected void RemoveInMemory(string orbit, string pool) => _records.TryRemove((pool, orbit), out _);

    private static ParkedDialogRecord[] Sorted(IEnumerable<ParkedDialogRecord> records) =>
        records.OrderBy(r => r.Pool, StringComparer.Ordinal).ThenBy(r => r.Orbit, StringComparer.Ordinal).ToArray();
}
