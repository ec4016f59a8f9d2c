using SipCallPark.Pool.Replication;
using SipCallPark.Pool.Tracing;

namespace SipCallPark.Pool.Admin;

/// <summary>
/// What the admin API asks of the running pool (docs/design.md §7 operator commands, §8). The pool implements it over its
/// registrar, park application and DR state; the admin server only turns these answers into HTTP.
/// </summary>
public interface IAdminBackend
{
    /// <summary>Pool identity, uptime, counts and the DR phase of each pool this instance tracks.</summary>
    PoolStatusDto Status();

    /// <summary>Every unexpired binding.</summary>
    IReadOnlyList<RegistrationDto> Registrations();

    /// <summary>Every call parked on this pool's orbits.</summary>
    IReadOnlyList<ParkedCallDto> Parked();

    /// <summary>Ends the call parked on <paramref name="orbit"/>; <see cref="CommandOutcome.NotFound"/> when the orbit is empty.</summary>
    Task<CommandResult> UnparkAsync(string orbit, CancellationToken cancellationToken);

    /// <summary>Starts a failover of <paramref name="pool"/> to its backup (Lync's Invoke-CsPoolFailOver);
    /// <see cref="CommandOutcome.Refused"/> when the DR phase does not allow it.</summary>
    Task<CommandResult> FailoverAsync(string pool, CancellationToken cancellationToken);

    /// <summary>Starts the failback of <paramref name="pool"/> (it must be healthy and failed over).</summary>
    Task<CommandResult> FailbackAsync(string pool, CancellationToken cancellationToken);

    /// <summary>
    /// Checks the partner pool's signature (<c>X-Pool-Auth</c>) on a replication request of <paramref name="pool"/>
    /// over its method, path and body (docs/design.md §11 "Trust"); the operator's token does not stand in for it.
    /// </summary>
    PartnerCredentials AuthenticatePartner(string pool, string method, string path, string? signature, ReadOnlySpan<byte> body);

    /// <summary>Stores a batch of <paramref name="pool"/>'s replicated changes (docs/design.md §7 "Replication");
    /// <see cref="CommandOutcome.NotFound"/> for a pool not in the topology, <see cref="CommandOutcome.Refused"/> when
    /// this pool is not its backup or the batch holds another pool's state. Answers once the changes are durable.</summary>
    Task<CommandResult> ReplicateChangesAsync(string pool, ReplicationBatch changes, CancellationToken cancellationToken);

    /// <summary>Replaces everything held of <paramref name="pool"/> with its snapshot; outcomes as for
    /// <see cref="ReplicateChangesAsync"/>.</summary>
    Task<CommandResult> ReplaceReplicaAsync(string pool, ReplicationSnapshot snapshot, CancellationToken cancellationToken);

    /// <summary>Subscribes to the SIP messages passing through the pool that <paramref name="filter"/> lets through
    /// (<c>GET /trace</c>); the caller disposes the subscription when its client goes away.</summary>
    TraceSubscription SubscribeTrace(TraceFilter filter, bool withText);
}
