namespace SipCallPark.Pool.Admin;

/// <summary>
/// What the admin API asks of the running pool (DESIGN §7 operator commands, §8). The pool implements it over its
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
}
