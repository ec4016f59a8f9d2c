using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.State;

namespace SipCallPark.Pool.Replication;

/// <summary>
/// Body of <c>POST /replication/{pool}/changes</c>: the current state of each key that changed on <c>{pool}</c> since
/// the last batch. Each entry is a whole value (every binding of an address of record, a whole park dialog), so a
/// batch applied twice, or after a snapshot that already held it, changes nothing.
/// </summary>
/// <param name="Bindings">Every binding the sending pool now holds for each changed address of record (empty: none left).</param>
/// <param name="Parks">Park dialogs added or updated.</param>
/// <param name="RemovedOrbits">Orbits whose park dialog is gone (retrieved, timed out, dropped).</param>
/// <param name="Bridges">Bridged calls added or updated (absent from a pool that does not replicate them).</param>
/// <param name="EndedBridges">Ids of bridged calls that ended.</param>
public sealed record ReplicationBatch(
    IReadOnlyList<AorBindings> Bindings,
    IReadOnlyList<ParkedDialogRecord> Parks,
    IReadOnlyList<string> RemovedOrbits,
    IReadOnlyList<BridgedCallRecord>? Bridges = null,
    IReadOnlyList<string>? EndedBridges = null)
{
    public int Count => Bindings.Count + Parks.Count + RemovedOrbits.Count + (Bridges?.Count ?? 0) + (EndedBridges?.Count ?? 0);
}

/// <summary>Every binding of one address of record on the sending pool.</summary>
public sealed record AorBindings(string Aor, IReadOnlyList<Binding> Bindings);

/// <summary>
/// Body of <c>PUT /replication/{pool}/snapshot</c>: everything <c>{pool}</c> holds of its own, replacing whatever
/// the backup held for it. Sent on first contact and after the backup was unreachable.
/// </summary>
/// <param name="Bridges">Every bridged call of <c>{pool}</c> (absent from a pool that does not replicate them: none).</param>
public sealed record ReplicationSnapshot(IReadOnlyList<Binding> Bindings, IReadOnlyList<ParkedDialogRecord> Parks,
    IReadOnlyList<BridgedCallRecord>? Bridges = null);
