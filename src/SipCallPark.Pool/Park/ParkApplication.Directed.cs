using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Park;

/// <summary>
/// What an INVITE to the park asks (docs/design.md §5 "Park keys"): the service name or an alias parks in any orbit;
/// <c>*71&lt;orbit&gt;</c> parks in that orbit; <c>*72&lt;orbit&gt;</c> picks it up; an orbit dialled as it is parks
/// there when it follows a transfer (a REFER that passed the pool, or <c>Referred-By</c>) and picks it up otherwise.
/// The service called with no transfer behind it is an attended park (ParkApplication.Attended.cs).
/// </summary>
internal sealed partial class ParkApplication
{
    private async Task OnIncomingCallAsync(IncomingCall incoming)
    {
        var request = incoming.Request;
        if (incoming.Replaces is { } replaced)
        {
            if (await TryCompleteAttendedParkAsync(incoming, replaced).ConfigureAwait(false)) return;
            await incoming.RejectAsync(403, Warning("a parked call is picked up by calling its orbit")).ConfigureAwait(false);
            return;
        }
        var user = request.RequestUri.UnescapedUser ?? "";
        var party = request.From.WithoutParameter("tag").Uri;
        var dial = ParkDial.Read(user, _options);
        var transferor = dial.Kind is ParkDialKind.Orbit or ParkDialKind.DirectedPark ? Transfers.Take(party, dial.Orbit) : null;
        switch (dial.Kind)
        {
            case ParkDialKind.Service when Transfers.Take(party, null) is { } transferredBy:
                await ParkIncomingAsync(incoming, null, transferredBy).ConfigureAwait(false);
                return;
            case ParkDialKind.Service when incoming.ReferredBy is not null:
                await ParkIncomingAsync(incoming, null, null).ConfigureAwait(false);
                return;
            case ParkDialKind.Service:
                // No transfer behind it: the parker itself calls, holding the party it will transfer here (attended park).
                await ReserveAsync(incoming).ConfigureAwait(false);
                return;
            case ParkDialKind.DirectedPark:
            case ParkDialKind.Orbit when _orbits.Owns(dial.Orbit!) && (transferor is not null || incoming.ReferredBy is not null):
                // A transferee arriving to be parked: a park into an occupied orbit is refused (486), never a retrieve.
                await ParkIncomingAsync(incoming, dial.Orbit, transferor).ConfigureAwait(false);
                return;
            case ParkDialKind.Orbit or ParkDialKind.Retrieve:
                await RetrieveOrbitAsync(incoming, dial.Orbit!).ConfigureAwait(false);
                return;
            default:
                await incoming.RejectAsync(404, Warning($"{user} is not a park address or an orbit")).ConfigureAwait(false);
                return;
        }
    }

    /// <summary>Someone calls an orbit to pick its call up: handed over when occupied, else 404 naming it.</summary>
    private async Task RetrieveOrbitAsync(IncomingCall incoming, string orbit)
    {
        // An orbit of a failed partner that this pool answers for is empty: its calls were torn down with the outage.
        if (_orbits.Owns(orbit) && _parked.TryGetValue(orbit, out var parking) && parking.State == ParkedCallState.Parking)
        {
            // The orbit is taken and its number already out (X-Park-Orbit in our 200 or 202) but the parked party's leg
            // is not up yet: the orbit is not empty, so wait for the park to settle rather than answer 404.
            try
            {
                await parking.Settled.WaitAsync(_options.CompletionTimeout, _time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }
        if (_orbits.Owns(orbit) && _parked.TryGetValue(orbit, out var parked) && parked.State != ParkedCallState.Parking)
        {
            await RetrieveAsync(incoming, parked).ConfigureAwait(false);
            return;
        }
        await incoming.RejectAsync(404, Warning($"orbit {orbit} is empty")).ConfigureAwait(false);
    }
}
