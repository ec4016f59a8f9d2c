using System.Collections.Concurrent;
using SipCallPark.Pool.Registrar;

namespace SipCallPark.Pool.State;

/// <summary>Bindings in memory only: for tests, and the read side of <see cref="SqliteBindingStore"/>.</summary>
public class InMemoryBindingStore : IBindingStore
{
    private readonly ConcurrentDictionary<string, IReadOnlyList<Binding>> _byAor = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyList<Binding> Get(string aor, DateTimeOffset now) =>
        _byAor.TryGetValue(aor, out var list) ? list.Where(b => !b.IsExpired(now)).ToArray() : [];

    public IReadOnlyList<Binding> All(DateTimeOffset now) =>
        _byAor.Values.SelectMany(l => l).Where(b => !b.IsExpired(now)).ToArray();

    public virtual Task SetAsync(string aor, IReadOnlyList<Binding> bindings, CancellationToken cancellationToken = default)
    {
        SetInMemory(aor, bindings);
        return Task.CompletedTask;
    }

    public virtual Task<int> PurgeExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default) =>
        Task.FromResult(PurgeInMemory(now));

    protected void SetInMemory(string aor, IReadOnlyList<Binding> bindings)
    {
        if (bindings.Count == 0) _byAor.TryRemove(aor, out _);
        else _byAor[aor] = bindings;
    }

    protected int PurgeInMemory(DateTimeOffset now)
    {
        var removed = 0;
        foreach (var (aor, list) in _byAor)
        {
            var kept = list.Where(b => !b.IsExpired(now)).ToArray();
            if (kept.Length == list.Count) continue;
            removed += list.Count - kept.Length;
            if (kept.Length == 0) _byAor.TryRemove(new KeyValuePair<string, IReadOnlyList<Binding>>(aor, list));
            else _byAor.TryUpdate(aor, kept, list);
        }
        return removed;
    }
}
