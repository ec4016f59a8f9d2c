using SipCallPark.Pool.Park;
using SipCallPark.Pool.Resiliency;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Events;

/// <summary>
/// Something that happened in the pool, at <see cref="At"/> on the pool's clock: the one in-process event stream that the
/// orbit lamps, the web console, metrics, the live trace and the outage teardown listen to (docs/architecture.md
/// "Events"). Records carry the ids a subscriber needs and nothing mutable.
/// </summary>
public abstract record PoolEvent(DateTimeOffset At);

/// <summary>
/// A change of one orbit. <see cref="Status"/> is what the orbit shows after it; <see cref="Party"/> and
/// <see cref="Parker"/> are set while the orbit holds a call; <see cref="CallId"/> is the park dialog's.
/// </summary>
public abstract record OrbitEvent(DateTimeOffset At, string Orbit, OrbitStatus Status, string? CallId, NameAddress? Party, NameAddress? Parker)
    : PoolEvent(At);

/// <summary>A call was parked on <paramref name="Orbit"/> (or came back to it after a failed retrieve or ringback).</summary>
public sealed record OrbitParked(DateTimeOffset At, string Orbit, string? CallId, NameAddress Party, NameAddress Parker,
    DateTimeOffset? TimeoutDue, bool Returned)
    : OrbitEvent(At, Orbit, OrbitStatus.Parked, CallId, Party, Parker);

/// <summary>The parked call left the orbit to <paramref name="Retriever"/> (by transfer or bridge).</summary>
public sealed record OrbitRetrieved(DateTimeOffset At, string Orbit, string? CallId, NameAddress? Retriever, string How)
    : OrbitEvent(At, Orbit, OrbitStatus.Free, CallId, null, null);

/// <summary>The pickup timeout fired: the orbit rings the parker back (<see cref="OrbitStatus.RingingBack"/>), or calls
/// the on-timeout URI, or drops the call when it has neither (then <see cref="OrbitEvent.Status"/> is
/// <see cref="OrbitStatus.Free"/>).</summary>
public sealed record OrbitTimedOut(DateTimeOffset At, string Orbit, OrbitStatus Status, string? CallId, NameAddress? Party,
    NameAddress? Parker, string Outcome)
    : OrbitEvent(At, Orbit, Status, CallId, Party, Parker);

/// <summary>Why a parked call ended without being retrieved.</summary>
public enum TeardownCause
{
    /// <summary>The parked party hung up (BYE or CANCEL from it).</summary>
    PartyHungUp,
    /// <summary>The park gave up after the pickup timeout and its ringbacks.</summary>
    TimedOut,
    /// <summary>An operator unparked it (admin API, console, callparkctl).</summary>
    Unparked,
    /// <summary>The parked party stopped answering keepalives.</summary>
    PartyGone,
    /// <summary>The backup tore down a failed partner's park (docs/design.md §7).</summary>
    PartnerOutage,
    /// <summary>The pool stopped.</summary>
    Shutdown,
    /// <summary>Signalling failed (an error response, a transaction timeout).</summary>
    Failed,
}

/// <summary>A parked call ended without a retrieve; the orbit is free.</summary>
public sealed record ParkTornDown(DateTimeOffset At, string Orbit, string? CallId, TeardownCause Cause, string? Pool)
    : OrbitEvent(At, Orbit, OrbitStatus.Free, CallId, null, null);

/// <summary>How a registration changed.</summary>
public enum RegistrationChange { Added, Refreshed, Removed, Expired }

/// <summary>A binding of <paramref name="Aor"/> was added, refreshed, removed or expired.</summary>
public sealed record RegistrationChanged(DateTimeOffset At, string Aor, string Contact, RegistrationChange Change, bool Resiliency)
    : PoolEvent(At);

/// <summary>Pool <paramref name="Pool"/> went from one DR phase to another (docs/design.md §7).</summary>
public sealed record DrPhaseChanged(DateTimeOffset At, string Pool, DrPhase From, DrPhase To, string Reason)
    : PoolEvent(At);

/// <summary>Where events are published: the park application, the registrar and the DR machines hold one.
/// <see cref="Publish"/> runs every subscriber on the caller's path, so subscribers return at once (queue, never
/// block) and a subscriber's exception is logged, never thrown back to the publisher.</summary>
public interface IPoolEvents
{
    void Publish(PoolEvent poolEvent);
}
