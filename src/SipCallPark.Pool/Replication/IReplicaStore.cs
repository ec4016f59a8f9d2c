using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.State;

namespace SipCallPark.Pool.Replication;

/// <summary>
/// What this pool holds of its partner's state by replication (docs/design.md §7): the partner's bindings and park dialogs
/// as the partner last streamed them. Kept apart from this pool's own bindings, so that while the partner is healthy
/// its users are still reached through it; the DR logic reads it when the partner fails (its users' bindings become
/// active here in resiliency mode; its parked, not yet retrieved parties get BYE).
/// </summary>
public interface IReplicaStore
{
    /// <summary>Unexpired replicated bindings of an address of record (any partner pool).</summary>
    IReadOnlyList<Binding> Get(string aor, DateTimeOffset now);

    /// <summary>Every unexpired replicated binding of <paramref name="pool"/>.</summary>
    IReadOnlyList<Binding> BindingsOf(string pool, DateTimeOffset now);

    /// <summary>The replicated park dialogs of <paramref name="pool"/> (parked, not yet retrieved).</summary>
    IReadOnlyList<ParkedDialogRecord> ParksOf(string pool);

    /// <summary>Forgets one replicated park dialog (after this pool tore it down on the partner's outage).</summary>
    Task RemoveParkAsync(string pool, string orbit, CancellationToken cancellationToken = default);

    /// <summary>The replicated bridged calls of <paramref name="pool"/>: the legs a BYE is relayed between after its outage.</summary>
    IReadOnlyList<BridgedCallRecord> BridgesOf(string pool);

    /// <summary>Forgets one replicated bridged call (after this pool relayed its BYE on the partner's behalf).</summary>
    Task RemoveBridgeAsync(string pool, string id, CancellationToken cancellationToken = default);
}
