using SipCallPark.Pool.Admin;

namespace SipCallPark.Pool.Admin.WebConsole;

/// <summary>What happened to an orbit (SSE event <c>orbit</c> of <c>GET /events</c>): <see cref="Kind"/> is
/// <c>parked</c>, <c>timeout</c> (ringing back), <c>backOnOrbit</c>, <c>retrieved</c> or <c>orbitFree</c>;
/// <see cref="Call"/> is the call now on the orbit, null once it is free.</summary>
public sealed record OrbitEventDto(string Kind, string Orbit, DateTimeOffset At, ParkedCallDto? Call);

/// <summary>SSE event <c>registration</c>: every binding of <see cref="Aor"/> after a REGISTER changed them (empty once
/// it unregistered).</summary>
public sealed record RegistrationEventDto(string Aor, DateTimeOffset At, IReadOnlyList<RegistrationDto> Bindings);

/// <summary>One DR phase change of the timeline (docs/design.md §7), with the seed table's name of the new phase.</summary>
public sealed record DrTransitionDto(string Pool, string From, string To, string Seed, string Reason, DateTimeOffset At);

/// <summary>SSE event <c>dr</c>: the transition, and every pool's phase after it.</summary>
public sealed record DrEventDto(DrTransitionDto Transition, IReadOnlyList<DrPhaseDto> Pools);

/// <summary>SSE event <c>metrics</c>: one sample of the console's charts.</summary>
public sealed record MetricsSampleDto(DateTimeOffset At, double RequestsPerSecond, int Parked, int RtpStreams, long RssBytes);

/// <summary>The first event of every <c>GET /events</c> stream (<c>snapshot</c>): everything the page draws, so that it
/// needs nothing else; the events that follow change it.</summary>
public sealed record ConsoleSnapshotDto(
    PoolStatusDto Status,
    IReadOnlyList<string> OrbitRanges,
    IReadOnlyList<ParkedCallDto> Parked,
    IReadOnlyList<RegistrationDto> Registrations,
    IReadOnlyList<DrTransitionDto> DrTimeline,
    IReadOnlyList<MetricsSampleDto> Metrics,
    double MetricsIntervalSeconds);

/// <summary>Answer of <c>POST /console/tickets</c>: a one-time ticket that opens one event stream.</summary>
public sealed record ConsoleTicketDto(string Ticket, int ExpiresInSeconds);
