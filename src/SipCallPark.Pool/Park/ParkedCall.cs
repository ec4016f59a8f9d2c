using SipCallPark.Sip.Message;
using SipCallPark.Sip.Rtp;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Park;

/// <summary>How the call reached its orbit (docs/design.md §5).</summary>
public enum ParkWay
{
    /// <summary>REFER to the park server with Replaces: the park app INVITEd the parked party.</summary>
    ReferToPark,
    /// <summary>Blind transfer to the park address: the parked party INVITEd the park app.</summary>
    BlindTransfer,
}

/// <summary>Where a parked call stands. Only a <see cref="Parked"/> call can be retrieved or rung back.</summary>
internal enum ParkedCallState
{
    /// <summary>Orbit taken, the parked party's leg not yet up.</summary>
    Parking,
    Parked,
    /// <summary>The timeout is calling the parker (or the fallback) for the parked party; the orbit is still held.</summary>
    RingingBack,
    /// <summary>On its way out of the orbit (retrieved, timed out, dropped); nobody else may act on it.</summary>
    Leaving,
}

/// <summary>
/// One call in an orbit: the park application's dialog with the parked party (<see cref="Leg"/>), its music, who
/// parked it and when it rings back. State changes go through <see cref="TryMove"/> so that a retrieve, a timeout, a
/// keepalive failure and an operator's unpark never act on the same call twice.
/// </summary>
internal sealed class ParkedCall
{
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _settled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ParkedCallState _state = ParkedCallState.Parking;

    public required string Orbit { get; init; }

    public required ParkWay Way { get; init; }

    /// <summary>The user who parked the call: told by MESSAGE, rung back at the timeout.</summary>
    public required NameAddress Parker { get; init; }

    /// <summary>Who sits in the orbit, as the park app knows them (the URI the call was parked from or to).</summary>
    public required NameAddress ParkedParty { get; init; }

    public required DateTimeOffset Since { get; init; }

    public SipCall? Leg { get; set; }

    public MohStream? Music { get; set; }

    /// <summary>Whether the parked party said <c>Supported: replaces</c> and allows REFER: the condition for transfer out.</summary>
    public bool CanTransferOut { get; set; }

    public DateTimeOffset? TimeoutDue { get; set; }

    /// <summary>When the parked party was last known to be there (parked, a request from it, a keepalive answered).</summary>
    public DateTimeOffset LastSeen { get; set; }

    /// <summary>Ringbacks made so far.</summary>
    public int Attempts { get; set; }

    public ITimer? Timer { get; set; }

    public ParkedCallState State
    {
        get { lock (_gate) return _state; }
    }

    /// <summary>
    /// Completes when the call is no longer <see cref="ParkedCallState.Parking"/>: parked, or given up (its orbit freed).
    /// The orbit number is out before then (in the 200 or 202 <c>X-Park-Orbit</c>), so a retriever may already be calling.
    /// </summary>
    public Task Settled => _settled.Task;

    /// <summary>The park attempt is over, whichever way it went (see <see cref="Settled"/>).</summary>
    public void MarkSettled() => _settled.TrySetResult();

    /// <summary>Moves from <paramref name="from"/> to <paramref name="to"/>; false when the call was elsewhere already.</summary>
    public bool TryMove(ParkedCallState from, ParkedCallState to)
    {
        lock (_gate)
        {
            if (_state != from) return false;
            _state = to;
        }
        if (from == ParkedCallState.Parking) MarkSettled();
        return true;
    }

    /// <summary>Takes the call out of its orbit from whatever state it is in; false when it was leaving already.</summary>
    public bool TryLeave()
    {
        lock (_gate)
        {
            if (_state == ParkedCallState.Leaving) return false;
            _state = ParkedCallState.Leaving;
        }
        MarkSettled();
        return true;
    }

    public void StopMusic()
    {
        Music?.Stop();
        Music = null;
    }

    public void StopTimer()
    {
        Timer?.Dispose();
        Timer = null;
    }

    public string PartyText => ParkedParty.DisplayName is { Length: > 0 } name ? $"{name} <{ParkedParty.Uri.WithoutHeaders()}>" : ParkedParty.Uri.WithoutHeaders().ToString();
}
