using SipCallPark.Pool.Registrar;

namespace SipCallPark.Pool.Admin;

/// <summary>Body of <c>GET /status</c>.</summary>
public sealed record PoolStatusDto(
    string Pool,
    string Domain,
    IReadOnlyList<string> SipEndpoints,
    DateTimeOffset StartedAt,
    double UptimeSeconds,
    StatusCountsDto Counts,
    IReadOnlyList<DrPhaseDto> Dr);

public sealed record StatusCountsDto(int Registrations, int Dialogs, int Transactions, int Parked);

/// <summary>
/// The DR phase of one pool as this instance sees it (DESIGN §7): <see cref="Phase"/> is the DrPhase name
/// (<c>Normal</c>, <c>Outage</c>, <c>FailingOver</c>, <c>FailedOver</c>, <c>FailingBack</c>); <see cref="Healthy"/>
/// is the health monitor's verdict on that pool, null when this instance does not probe it (itself).
/// </summary>
public sealed record DrPhaseDto(string Pool, string Phase, string? BackupPool, bool? Healthy, DateTimeOffset? Since);

/// <summary>One binding of <c>GET /registrations</c>.</summary>
public sealed record RegistrationDto(
    string Aor,
    string Contact,
    int ExpiresInSeconds,
    double Q,
    RegistrationMode Mode,
    string? Source,
    string? Instance,
    string Pool)
{
    public static RegistrationDto From(Binding binding, DateTimeOffset now) =>
        new(binding.Aor, binding.Contact, binding.RemainingSeconds(now), binding.Q, binding.Mode, binding.Source, binding.InstanceId, binding.Pool);
}

/// <summary>One call of <c>GET /parked</c>: who sits on which orbit, who parked it, when it rings back.</summary>
public sealed record ParkedCallDto(
    string Orbit,
    string ParkedParty,
    string Parker,
    DateTimeOffset Since,
    DateTimeOffset? TimeoutDue,
    int Attempts,
    string Pool);

/// <summary>Body of <c>POST /dr/failover</c> and <c>POST /dr/failback</c>.</summary>
public sealed record DrCommandDto(string? Pool);

/// <summary>Body of every error answer.</summary>
public sealed record ErrorDto(string Error);

public enum CommandOutcome { Done, NotFound, Refused }

/// <summary>
/// How an operator command ended. <see cref="CommandOutcome.Done"/> answers 200 with this record,
/// <see cref="CommandOutcome.NotFound"/> 404 and <see cref="CommandOutcome.Refused"/> 409, both as <see cref="ErrorDto"/>.
/// </summary>
public sealed record CommandResult(CommandOutcome Outcome, string Message)
{
    public static CommandResult Done(string message) => new(CommandOutcome.Done, message);

    public static CommandResult NotFound(string message) => new(CommandOutcome.NotFound, message);

    public static CommandResult Refused(string message) => new(CommandOutcome.Refused, message);
}
