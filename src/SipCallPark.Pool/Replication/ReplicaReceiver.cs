using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.State;
using SipCallPark.Pool.Topology;

namespace SipCallPark.Pool.Replication;

/// <summary>
/// The backup's side of replication, behind the admin API's <c>/replication/{pool}/…</c> routes (which take only the
/// partner's signature, docs/design.md §11 "Trust"): takes batches and snapshots only from pools that name this pool
/// as their backup, only about themselves, and stores them in the <see cref="ReplicaStore"/>. Each record is checked
/// (<see cref="ReplicaContentRules"/>): a request with a record that no pool could rightly send is refused whole;
/// bindings of users homed elsewhere (a pool serving its partner's users during an outage keeps them) are left out.
/// A snapshot that would delete more than half of what is held, and more than <see cref="MaxSnapshotDeletions"/>
/// records, is refused and logged. An answer is given once the change is durable.
/// </summary>
internal sealed class ReplicaReceiver(string self, PoolTopology topology, ReplicaStore store, SipMetrics metrics, TimeProvider time, ILogger<ReplicaReceiver> logger)
{
    private const string ReceivedMetric = "replication_received_total";
    private const string ReceivedHelp = "Replication requests taken from the pools this pool backs up, by pool and kind (changes, snapshot)";
    private const string RefusedMetric = "replication_refused_records_total";
    private const string RefusedHelp = "Replicated records this pool refused or left out (foreign users, orbits outside range, bad targets, wipes)";

    /// <summary>Deletions a snapshot may make at once however small the replica (beyond half of it, only up to this many).</summary>
    internal const int MaxSnapshotDeletions = 10;

    private readonly ReplicaContentRules _rules = new(topology);

    public async Task<CommandResult> ReceiveChangesAsync(string pool, ReplicationBatch batch, CancellationToken cancellationToken)
    {
        if (Refuse(pool, batch.Bindings.SelectMany(s => s.Bindings.Select(b => (b.Pool, b.Aor, (string?)s.Aor))),
                batch.Parks.Select(p => p.Pool).Concat((batch.Bridges ?? []).Select(b => b.Pool))) is { } refused)
            return refused;
        var sender = topology.FindPool(pool)!;
        var owner = sender.Name;
        if (RefuseContent(sender, batch.Parks, batch.Bridges) is { } bad) return bad;
        var kept = batch.Bindings.Where(set => _rules.RefuseBinding(sender, Probe(set.Aor, owner)) is null
                                               && set.Bindings.All(b => _rules.RefuseBinding(sender, b) is null)).ToArray();
        var leftOut = batch.Bindings.Count - kept.Length;
        LeftOut(owner, leftOut);
        if (kept.Length != batch.Bindings.Count) batch = batch with { Bindings = kept };
        await store.ApplyAsync(owner, batch, time.GetUtcNow()).WaitAsync(cancellationToken).ConfigureAwait(false);
        metrics.Increment(ReceivedMetric, ReceivedHelp, ("pool", owner), ("kind", "changes"));
        logger.LogDebug("Replica of {PartnerPool}: {Count} changes applied", owner, batch.Count);
        return CommandResult.Done($"{batch.Count} changes of {owner} stored" + (leftOut > 0 ? $"; {leftOut} binding sets left out" : ""));
    }

    public async Task<CommandResult> ReceiveSnapshotAsync(string pool, ReplicationSnapshot snapshot, CancellationToken cancellationToken)
    {
        if (Refuse(pool, snapshot.Bindings.Select(b => (b.Pool, b.Aor, (string?)null)),
                snapshot.Parks.Select(p => p.Pool).Concat((snapshot.Bridges ?? []).Select(b => b.Pool))) is { } refused)
            return refused;
        var sender = topology.FindPool(pool)!;
        var owner = sender.Name;
        if (RefuseContent(sender, snapshot.Parks, snapshot.Bridges) is { } bad) return bad;
        var kept = snapshot.Bindings.Where(b => _rules.RefuseBinding(sender, b) is null).ToArray();
        var leftOut = snapshot.Bindings.Count - kept.Length;
        LeftOut(owner, leftOut);
        if (kept.Length != snapshot.Bindings.Count) snapshot = snapshot with { Bindings = kept };
        if (RefuseWipe(owner, snapshot) is { } wipe) return wipe;
        await store.ReplaceAsync(owner, snapshot, time.GetUtcNow()).WaitAsync(cancellationToken).ConfigureAwait(false);
        metrics.Increment(ReceivedMetric, ReceivedHelp, ("pool", owner), ("kind", "snapshot"));
        logger.LogInformation("Replica of {PartnerPool} replaced by a snapshot: {Bindings} bindings and {Parks} parked dialogs",
            owner, snapshot.Bindings.Count, snapshot.Parks.Count);
        return CommandResult.Done($"snapshot of {owner} stored: {snapshot.Bindings.Count} bindings, {snapshot.Parks.Count} parked dialogs"
                                  + (leftOut > 0 ? $"; {leftOut} bindings left out" : ""));
    }

    /// <summary>A set of bindings is checked by its address of record too, even when empty (a stand-in binding).</summary>
    private static Registrar.Binding Probe(string aor, string pool) =>
        new(aor, "<sip:check@invalid>", DateTimeOffset.MaxValue, 1, "", 0, null, null, null, Registrar.RegistrationMode.Normal, pool);

    /// <summary>A park dialog or bridged call that no pool could rightly send refuses the whole request.</summary>
    private CommandResult? RefuseContent(PoolDefinition sender, IEnumerable<ParkedDialogRecord> parks, IEnumerable<BridgedCallRecord>? bridges)
    {
        var reason = parks.Select(p => _rules.RefusePark(sender, p)).FirstOrDefault(r => r is not null)
                     ?? (bridges ?? []).Select(b => _rules.RefuseBridge(sender, b)).FirstOrDefault(r => r is not null);
        if (reason is null) return null;
        metrics.Increment(RefusedMetric, RefusedHelp, ("pool", sender.Name), ("why", "content"));
        logger.LogWarning("Refused replication from {PartnerPool}: {Reason}", sender.Name, reason);
        return CommandResult.Refused(reason);
    }

    private void LeftOut(string pool, int count)
    {
        if (count <= 0) return;
        metrics.Add(RefusedMetric, RefusedHelp, count, ("pool", pool), ("why", "binding"));
        logger.LogWarning("Left out {Count} replicated binding sets of {PartnerPool}: users not homed there, or contacts that are not SIP URIs", count, pool);
    }

    /// <summary>A snapshot that would delete most of a replica of some size is refused: logged, and retried by the sender.</summary>
    private CommandResult? RefuseWipe(string pool, ReplicationSnapshot snapshot)
    {
        var now = time.GetUtcNow();
        var heldBindings = store.BindingsOf(pool, now);
        var heldParks = store.ParksOf(pool);
        var held = heldBindings.Count + heldParks.Count;
        var keptBindings = snapshot.Bindings.Select(b => (b.Aor.ToLowerInvariant(), b.Contact)).ToHashSet();
        var keptOrbits = snapshot.Parks.Select(p => p.Orbit).ToHashSet(StringComparer.Ordinal);
        var deleted = heldBindings.Count(b => !keptBindings.Contains((b.Aor.ToLowerInvariant(), b.Contact))) + heldParks.Count(p => !keptOrbits.Contains(p.Orbit));
        if (deleted <= MaxSnapshotDeletions || deleted * 2 <= held) return null;
        metrics.Add(RefusedMetric, RefusedHelp, deleted, ("pool", pool), ("why", "wipe"));
        logger.LogWarning("Refused a snapshot of {PartnerPool} that would delete {Deleted} of the {Held} replicated records", pool, deleted, held);
        return CommandResult.Refused($"the snapshot would delete {deleted} of the {held} records held for {pool} (more than half, and more than {MaxSnapshotDeletions})");
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
            return CommandResult.Refused($"a parked dialog or bridged call belongs to {other}, not {definition.Name}");
        return null;
    }
}
