using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.Tracing;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Admin;

/// <summary>Body of <c>GET /status</c>.</summary>
public sealed record PoolStatusDto(
    string Pool,
    string Domain,
    IReadOnlyList<string> SipEndpoints,
    DateTimeOffset StartedAt,
    double UptimeSeconds,
    StatusCountsDto Counts,
    IReadOnlyList<DrPhaseDto> Dr)
{
    /// <summary>The SHA-256 fingerprint (<c>AB:CD:…</c>) of the certificate SIP over TLS presents; null without TLS.</summary>
    public string? TlsCertificateSha256 { get; init; }
}

public sealed record StatusCountsDto(int Registrations, int Dialogs, int Transactions, int Parked);

/// <summary>
/// The DR phase of one pool as this instance sees it (docs/design.md §7): <see cref="Phase"/> is the DrPhase name
/// (<c>Normal</c>, <c>Outage</c>, <c>FailingOver</c>, <c>FailedOver</c>, <c>FailingBack</c>); <see cref="Healthy"/>
/// is the health monitor's verdict on that pool, null when this instance does not probe it (itself).
/// </summary>
public sealed record DrPhaseDto(string Pool, string Phase, string? BackupPool, bool? Healthy, DateTimeOffset? Since);

/// <summary>
/// One binding of <c>GET /registrations</c>. <see cref="Target"/> is the transport address requests for it go to,
/// <see cref="TargetKind"/> says whether that is its <c>contact</c> or its REGISTER's <c>source</c> (or <c>none</c>),
/// and <see cref="TargetReason"/> why (Pool:Registrar:NatTraversal and the NAT signs its REGISTER showed).
/// </summary>
public sealed record RegistrationDto(
    string Aor,
    string Contact,
    int ExpiresInSeconds,
    double Q,
    RegistrationMode Mode,
    string? Source,
    string? Instance,
    string Pool,
    string? Target = null,
    string? TargetKind = null,
    string? TargetReason = null)
{
    public static RegistrationDto From(Binding binding, BindingTarget target, DateTimeOffset now) =>
        new(binding.Aor, binding.Contact, binding.RemainingSeconds(now), binding.Q, binding.Mode, binding.Source, binding.InstanceId, binding.Pool,
            target.Destination?.ToString(), target.Kind, target.Reason);
}

/// <summary>One call of <c>GET /parked</c>: who sits on which orbit, who parked it, when it rings back.</summary>
public sealed record ParkedCallDto(
    string Orbit,
    string ParkedParty,
    string Parker,
    DateTimeOffset Since,
    DateTimeOffset? TimeoutDue,
    int Attempts,
    string Pool)
{
    /// <summary><c>Parked</c> or <c>RingingBack</c> (the timeout is ringing the parker); null where not known.</summary>
    public string? State { get; init; }
}

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

/// <summary>
/// One SIP message of <c>GET /trace</c> (SSE event <c>sip</c>): when it passed, which way, between which transport
/// addresses, its first line and the headers that identify it; <see cref="Text"/> is the whole message as on the
/// wire, only when the subscriber asked for <c>body=true</c>.
/// </summary>
public sealed record TraceMessageDto(
    DateTimeOffset Time,
    SipDirection Direction,
    string Transport,
    string Local,
    string Remote,
    string FirstLine,
    string? CallId,
    string? CSeq,
    string? FromUser,
    string? ToUser,
    string? Text = null)
{
    /// <summary>The summary of <paramref name="e"/>, without its text. Reads raw header values only, so a malformed
    /// header leaves its field null rather than throwing on the SIP path.</summary>
    public static TraceMessageDto From(SipMessageEvent e, DateTimeOffset time)
    {
        var headers = e.Message.Headers;
        return new TraceMessageDto(time, e.Direction, e.Remote.Protocol.ToString().ToLowerInvariant(), e.Local.ToString(),
            e.Remote.Address.ToString(), e.Message.FirstLine, headers.Get(HeaderNames.CallId)?.Trim(), headers.Get(HeaderNames.CSeq)?.Trim(),
            TraceFilter.UserOf(headers.Get(HeaderNames.From)), TraceFilter.UserOf(headers.Get(HeaderNames.To)));
    }
}

/// <summary>SSE event <c>dropped</c> of <c>GET /trace</c>: messages lost since the last one because the subscriber
/// read too slowly.</summary>
public sealed record TraceDroppedDto(long Count);
