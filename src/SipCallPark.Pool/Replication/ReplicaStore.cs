using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.State;

namespace SipCallPark.Pool.Replication;

/// <summary>
/// What this pool holds of its partners by replication, in memory for reads and — when a <see cref="StateDatabase"/>
/// is given — written through to its <c>replica_bindings</c> and <c>replica_parked_dialogs</c> tables, so a restarted
/// backup still knows its partner's users and parked calls. Kept apart from the pool's own bindings and journal:
/// <see cref="IParkJournal.ForPool"/> of the pool itself never sees a partner's parks.
/// Writes are group-committed (<see cref="GroupCommitQueue{T}"/>); their tasks complete once durable, so the
/// receiving side acknowledges a batch only after it would survive a crash.
/// </summary>
public sealed class ReplicaStore : IReplicaStore, IAsyncDisposable
{
    /// <summary>How often expired bindings are dropped from memory and disk while batches arrive.</summary>
    private static readonly TimeSpan PurgeEvery = TimeSpan.FromMinutes(1);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, PoolReplica> _pools = new(StringComparer.OrdinalIgnoreCase);
    private readonly GroupCommitQueue<ReplicaWrite>? _writes;
    private DateTimeOffset _lastPurge = DateTimeOffset.MinValue;

    /// <summary>The replica of one partner pool.</summary>
    private sealed class PoolReplica
    {
        public Dictionary<string, Binding[]> Bindings { get; } = new(StringComparer.OrdinalIgnoreCase);

        public Dictionary<string, ParkedDialogRecord> Parks { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, BridgedCallRecord> Bridges { get; } = new(StringComparer.Ordinal);
    }

    /// <param name="database">The pool's state file; null keeps the replicas in memory only (tests).</param>
    public ReplicaStore(StateDatabase? database, ILogger<ReplicaStore> logger)
    {
        if (database is null) return;
        var (bindings, parks, bridges) = ReplicaTables.Load(database);
        foreach (var group in bindings.GroupBy(b => (b.Pool, b.Aor)))
            Replica(group.Key.Pool).Bindings[group.Key.Aor] = group.ToArray();
        foreach (var park in parks) Replica(park.Pool).Parks[park.Orbit] = park;
        foreach (var bridge in bridges) Replica(bridge.Pool).Bridges[bridge.Id] = bridge;
        logger.LogInformation("Loaded replicas of {Pools}: {Bindings} bindings, {Parks} parked dialogs and {Bridges} bridged calls from {Path}",
            _pools.Count == 0 ? "no pool" : string.Join(", ", _pools.Keys), bindings.Count, parks.Count, bridges.Count, database.Path);
        _writes = new GroupCommitQueue<ReplicaWrite>(database, ReplicaTables.Apply, logger, "replica");
    }

    public IReadOnlyList<Binding> Get(string aor, DateTimeOffset now)
    {
        lock (_lock)
        {
            return _pools.Values.SelectMany(p => p.Bindings.TryGetValue(aor, out var list) ? list : []).Where(b => !b.IsExpired(now)).ToArray();
        }
    }

    public IReadOnlyList<Binding> BindingsOf(string pool, DateTimeOffset now)
    {
        lock (_lock)
        {
            return _pools.TryGetValue(pool, out var replica)
                ? replica.Bindings.Values.SelectMany(l => l).Where(b => !b.IsExpired(now)).OrderBy(b => b.Aor, StringComparer.Ordinal).ToArray()
                : [];
        }
    }

    public IReadOnlyList<ParkedDialogRecord> ParksOf(string pool)
    {
        lock (_lock)
        {
            return _pools.TryGetValue(pool, out var replica)
                ? replica.Parks.Values.Where(p => p.State == ParkedDialogState.Parked).OrderBy(p => p.Orbit, StringComparer.Ordinal).ToArray()
                : [];
        }
    }

    public Task RemoveParkAsync(string pool, string orbit, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_pools.TryGetValue(pool, out var replica)) replica.Parks.Remove(orbit);
            return Persist(new ReplicaWrite(pool, RemovedOrbit: orbit));
        }
    }

    public IReadOnlyList<BridgedCallRecord> BridgesOf(string pool)
    {
        lock (_lock)
        {
            return _pools.TryGetValue(pool, out var replica) ? replica.Bridges.Values.OrderBy(b => b.Since).ToArray() : [];
        }
    }

    public Task RemoveBridgeAsync(string pool, string id, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_pools.TryGetValue(pool, out var replica)) replica.Bridges.Remove(id);
            return Persist(new ReplicaWrite(pool, RemovedBridge: id));
        }
    }

    /// <summary>Applies a batch of <paramref name="pool"/>'s changes; completes once it is durable.</summary>
    internal Task ApplyAsync(string pool, ReplicationBatch batch, DateTimeOffset now)
    {
        lock (_lock)
        {
            var replica = Replica(pool);
            foreach (var set in batch.Bindings)
            {
                var kept = set.Bindings.Where(b => !b.IsExpired(now)).ToArray();
                if (kept.Length == 0) replica.Bindings.Remove(set.Aor);
                else replica.Bindings[set.Aor] = kept;
            }
            foreach (var park in batch.Parks) replica.Parks[park.Orbit] = park;
            foreach (var orbit in batch.RemovedOrbits) replica.Parks.Remove(orbit);
            // The record names its owner; the receiver checked that it is the sender.
            foreach (var bridge in batch.Bridges ?? []) replica.Bridges[bridge.Id] = bridge with { Pool = pool };
            foreach (var id in batch.EndedBridges ?? []) replica.Bridges.Remove(id);
            return Persist(new ReplicaWrite(pool, Batch: batch, PurgeBefore: PurgeDue(now)));
        }
    }

    /// <summary>Replaces everything held for <paramref name="pool"/> with <paramref name="snapshot"/>; completes once durable.</summary>
    internal Task ReplaceAsync(string pool, ReplicationSnapshot snapshot, DateTimeOffset now)
    {
        lock (_lock)
        {
            var replica = new PoolReplica();
            foreach (var group in snapshot.Bindings.Where(b => !b.IsExpired(now)).GroupBy(b => b.Aor, StringComparer.OrdinalIgnoreCase))
                replica.Bindings[group.Key] = group.ToArray();
            foreach (var park in snapshot.Parks) replica.Parks[park.Orbit] = park;
            foreach (var bridge in snapshot.Bridges ?? []) replica.Bridges[bridge.Id] = bridge with { Pool = pool };
            _pools[pool] = replica;
            return Persist(new ReplicaWrite(pool, Snapshot: snapshot, PurgeBefore: PurgeDue(now)));
        }
    }

    /// <summary>The pools this store holds anything of.</summary>
    public IReadOnlyList<string> Pools
    {
        get
        {
            lock (_lock) return _pools.Keys.Order(StringComparer.Ordinal).ToArray();
        }
    }

    private PoolReplica Replica(string pool)
    {
        if (!_pools.TryGetValue(pool, out var replica)) _pools[pool] = replica = new PoolReplica();
        return replica;
    }

    /// <summary>Once a minute: drops expired bindings from memory now and returns the cut-off for the disk.</summary>
    private DateTimeOffset? PurgeDue(DateTimeOffset now)
    {
        if (now - _lastPurge < PurgeEvery) return null;
        _lastPurge = now;
        foreach (var replica in _pools.Values)
        {
            foreach (var (aor, list) in replica.Bindings.ToArray())
            {
                var kept = list.Where(b => !b.IsExpired(now)).ToArray();
                if (kept.Length == 0) replica.Bindings.Remove(aor);
                else if (kept.Length != list.Length) replica.Bindings[aor] = kept;
            }
        }
        return now;
    }

    private Task Persist(ReplicaWrite write) => _writes?.EnqueueAsync(write) ?? Task.CompletedTask;

    public ValueTask DisposeAsync() => _writes?.DisposeAsync() ?? ValueTask.CompletedTask;
}
