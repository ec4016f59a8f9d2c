using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Topology;

namespace SipCallPark.Pool.Replication;

/// <summary>
/// The backup's side of replication, behind the admin API's <c>/replication/{pool}/…</c> routes: takes batches and
/// snapshots only from pools that name this pool as their backup, only about themselves, and stores them in the
/// <see cref="ReplicaStore"/>. An answer is given once the change is durable.
/// </summary>
internal sealed class ReplicaReceiver(string self, PoolTopology topology, ReplicaStore store, SipMetrics metrics, TimeProvider time, ILogger<ReplicaReceiver> logger)
{
    private const string ReceivedMetric = "replication_received_total";
    private const string ReceivedHelp = "Replication requests taken from the pools this pool backs up, by pool and kind (changes, snapshot)";

    public async Task<CommandResult> ReceiveChangesAsync(string pool, ReplicationBatch batch, CancellationToken cancellationToken)
    {
        if (Refuse(pool, batch.Bindings.SelectMany(s => s.Bindings.Select(b => (b.Pool, b.Aor, (string?)s.Aor))), batch.Parks.Select(p => p.Pool)) is { } refused)
            return refused;
        var owner = topology.FindPool(pool)!.Name;
        await store.ApplyAsync(owner, batch, time.GetUtcNow()).WaitAsync(cancellationToken).ConfigureAwait(false);
        metrics.Increment(ReceivedMetric, ReceivedHelp, ("pool", owner), ("kind", "changes"));
        logger.LogDebug("Replica of {PartnerPool}: {Count} changes applied", owner, batch.Count);
        return CommandResult.Done($"{batch.Count} changes of {owner} stored");
    }

    public async Task<CommandResult> ReceiveSnapshotAsync(string pool, ReplicationSnapshot snapshot, CancellationToken cancellationToken)
    {
        if (Refuse(pool, snapshot.Bindings.Select(b => (b.Pool, b.Aor, (string?)null)), snapshot.Parks.Select(p => p.Pool)) is { } refused)
            return refused;
        var owner = topology.FindPool(pool)!.Name;
        await store.ReplaceAsync(owner, snapshot, time.GetUtcNow()).WaitAsync(cancellationToken).ConfigureAwait(false);
        metrics.Increment(ReceivedMetric, ReceivedHelp, ("pool", owner), ("kind", "snapshot"));
        logger.LogInformation("Replica of {PartnerPool} replaced by a snapshot: {Bindings} bindings and {Parks} parked dialogs",
            owner, snapshot.Bindings.Count, snapshot.Parks.Count);
        return CommandResult.Done($"snapshot of {owner} stored: {snapshot.Bindings.Count} bindings, {snapshot.Parks.Count} parked dialogs");
    }

    /// <summary>Why the request is not taken, or null. A pool replicates to its backup, and only what it owns.</summary>
    private CommandResult? Refuse(string pool, IEnumerable<(string Pool, string Aor, string? Set)> bindings, IEnumerable<string> parks)
    {
        if (topology.FindPool(pool) is not { } definition) return CommandResult.NotFound($"no pool named {pool} in the topology");
        if (!string.Equals(definition.Backup, self, StringComparison.OrdinalIgnoreCase))
            return CommandResult.Refused($"{self} is not {definition.Name}'s backup ({definition.Name} replicates to {definition.Backup ?? "no pool"})");
        foreach (var (owner, aor, set) in bindings)
        {
            if (!string.Equals(owner, definition.Name, StringComparison.OrdinalIgnoreCase))
                return CommandResult.Refused($"a binding of {aor} belongs to {owner}, not {definition.Name}");
            if (set is not null && !string.Equals(aor, set, StringComparison.OrdinalIgnoreCase))
                return CommandResult.Refused($"a binding of {aor} was sent among those of {set}");
        }
        if (parks.FirstOrDefault(p => !string.Equals(p, definition.Name, StringComparison.OrdinalIgnoreCase)) is { } other)
            return CommandResult.Refused($"a parked dialog belongs to {other}, not {definition.Name}");
        return null;
    }
}
