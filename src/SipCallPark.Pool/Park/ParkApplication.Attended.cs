using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Proxy;
using SipCallPark.Sip.Dialogs;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Rtp;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Park;

/// <summary>
/// Attended park (docs/design.md §5 "Attended park"): the parker, holding the other party, calls the park service
/// itself. The park answers, reserves an orbit and names it (<c>X-Park-Orbit</c> in the 200 and a MESSAGE); the
/// parker then transfers the held party with Replaces naming this call (RFC 3891, RFC 5589 §7), and the held party's
/// INVITE takes the reservation's place in the orbit. A reservation not used within <c>CompletionTimeout</c> ends
/// with a BYE; one whose parker hangs up ends at once. Either way the orbit is free again.
/// </summary>
internal sealed partial class ParkApplication
{
    private readonly ConcurrentDictionary<string, Reservation> _reservations = new(StringComparer.Ordinal);

    /// <summary>An orbit held for a parker's attended park: the parker's call with the park service.</summary>
    private sealed class Reservation(string orbit, NameAddress parker, DialogId id, MohStream? music)
    {
        private int _over;

        public string Orbit => orbit;

        public NameAddress Parker => parker;

        /// <summary>The park's side of the parker's call, known before the 200 leaves: a REFER may name it at once.</summary>
        public DialogId Id => id;

        /// <summary>The parker's call, once answered.</summary>
        public SipCall? Leg { get; set; }

        public MohStream? Music => music;

        public ITimer? Timer { get; set; }

        public bool IsOver => Volatile.Read(ref _over) != 0;

        /// <summary>True for the one caller that ends the reservation (used, expired or hung up).</summary>
        public bool TryEnd()
        {
            if (Interlocked.Exchange(ref _over, 1) != 0) return false;
            Timer?.Dispose();
            music?.Stop();
            return true;
        }
    }

    /// <summary>Orbits reserved for attended parks now.</summary>
    public int Reservations => _reservations.Count;

    /// <summary>Step 1: a user called the park service with no transfer behind it: reserve an orbit and name it.</summary>
    private async Task ReserveAsync(IncomingCall incoming)
    {
        var request = incoming.Request;
        var parker = request.From.WithoutParameter("tag");
        if (ParkerInResiliencyMode(parker.Uri))
        {
            await incoming.RejectAsync(403, Warning(ProxyRouter.ResiliencyParkRefusal)).ConfigureAwait(false);
            return;
        }
        if (HoldMedia.IsWebRtcOffer(incoming.Offer))
        {
            await incoming.RejectAsync(488, Warning(WebRtcRefusal)).ConfigureAwait(false);
            return;
        }
        var claim = TakeOrbit(null);
        if (claim.Orbit is not { } orbit)
        {
            await incoming.RejectAsync(claim.Status, Warning(claim.Reason)).ConfigureAwait(false);
            return;
        }
        var (answer, music) = _media.Answer(incoming.Offer, speakOrbit: orbit);
        var reservation = new Reservation(orbit, parker, new DialogId(request.CallId, incoming.LocalTag, request.From.Tag ?? ""), music);
        _reservations[orbit] = reservation;
        // The bound runs from the answer on: armed before the 200 leaves, so that it holds whatever the parker does next.
        reservation.Timer = _time.CreateTimer(_ => _ = ExpireAsync(reservation), null, _options.CompletionTimeout, Timeout.InfiniteTimeSpan);
        SipCall leg;
        try
        {
            leg = await incoming.AnswerAsync(answer, r => r.Headers.Add(OrbitHeader, orbit)).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            if (reservation.TryEnd())
            {
                _reservations.TryRemove(new KeyValuePair<string, Reservation>(orbit, reservation));
                _orbits.Release(orbit);
            }
            return;
        }
        reservation.Leg = leg;
        if (reservation.IsOver)
        {
            // Expired between the 200 and here: ExpireAsync found no call to end.
            await leg.HangUpAsync().ConfigureAwait(false);
            return;
        }
        _ = leg.Ended.ContinueWith(t => OnReservationLegEnded(reservation, t.Result), CancellationToken.None,
            TaskContinuationOptions.None, TaskScheduler.Default);
        _logger.LogInformation("Orbit {Orbit} reserved for {Parker}'s attended park (call {CallId})", orbit, parker.Uri, request.CallId);
        await TellAsync(parker.Uri, orbit, $"Orbit {orbit} reserved: transfer the call to this park call to park it there").ConfigureAwait(false);
    }

    /// <summary>Step 2: the held party's INVITE with Replaces names a reservation: it takes the orbit, the parker's call ends.</summary>
    private async Task<bool> TryCompleteAttendedParkAsync(IncomingCall incoming, SipCall replaced)
    {
        var reservation = _reservations.Values.FirstOrDefault(r => r.Id == replaced.Dialog.Id);
        if (reservation is null) return false;
        var party = incoming.Request.From.WithoutParameter("tag").Uri;
        // Only the parker's transfer completes it: the parker itself, or a Referred-By naming someone else, does not.
        if (SameUser(party, reservation.Parker.Uri) || (incoming.ReferredBy is { } by && !SameUser(by.Uri, reservation.Parker.Uri)))
        {
            await incoming.RejectAsync(403, Warning($"orbit {reservation.Orbit} is reserved for {reservation.Parker.Uri.WithoutHeaders()}'s transfer")).ConfigureAwait(false);
            return true;
        }
        // ParkIncomingAsync refuses these before it looks at the orbit: refused here, the reservation stays for a retry.
        if (ParkerInResiliencyMode(reservation.Parker.Uri) || HoldMedia.IsWebRtcOffer(incoming.Offer))
        {
            await incoming.RejectAsync(ParkerInResiliencyMode(reservation.Parker.Uri) ? 403 : 488,
                Warning(ParkerInResiliencyMode(reservation.Parker.Uri) ? ProxyRouter.ResiliencyParkRefusal : WebRtcRefusal)).ConfigureAwait(false);
            return true;
        }
        if (!reservation.TryEnd())
        {
            await incoming.RejectAsync(481, Warning($"the reservation of orbit {reservation.Orbit} is over")).ConfigureAwait(false);
            return true;
        }
        _reservations.TryRemove(new KeyValuePair<string, Reservation>(reservation.Orbit, reservation));
        _logger.LogInformation("Attended park of {Party} for {Parker} on reserved orbit {Orbit}", party, reservation.Parker.Uri, reservation.Orbit);
        await ParkIncomingAsync(incoming, reservation.Orbit, reservation.Parker, orbitHeld: true).ConfigureAwait(false);
        // Answered and acknowledged, the new call has ended the parker's (RFC 3891 §3); when it failed, end it here.
        if (!replaced.IsEnded) await replaced.HangUpAsync().ConfigureAwait(false);
        return true;
    }

    private async Task ExpireAsync(Reservation reservation)
    {
        if (!reservation.TryEnd()) return;
        _reservations.TryRemove(new KeyValuePair<string, Reservation>(reservation.Orbit, reservation));
        _orbits.Release(reservation.Orbit);
        _logger.LogInformation("Reservation of orbit {Orbit} for {Parker} expired unused", reservation.Orbit, reservation.Parker.Uri);
        if (reservation.Leg is { IsEnded: false } leg) await leg.HangUpAsync().ConfigureAwait(false);
    }

    private void OnReservationLegEnded(Reservation reservation, CallEndReason reason)
    {
        if (reason == CallEndReason.Replaced || !reservation.TryEnd()) return;
        _reservations.TryRemove(new KeyValuePair<string, Reservation>(reservation.Orbit, reservation));
        _orbits.Release(reservation.Orbit);
        _logger.LogInformation("Reservation of orbit {Orbit} ended: {Parker}'s call ended ({Reason})", reservation.Orbit, reservation.Parker.Uri, reason);
    }

    /// <summary>
    /// The proxy's check of an in-dialog REFER to the park (docs/design.md §11): an attended park's Refer-To (the park
    /// service with a Replaces) must name a reservation of the REFER's sender; anything else goes to <see cref="Transfers"/>.
    /// </summary>
    public ProxyDecision.Respond? CheckTransfer(SipRequest refer)
    {
        if (refer.Headers.Get(HeaderNames.ReferTo) is not { } text || !NameAddress.TryParse(text, out var target)
            || target.Uri.GetHeader(HeaderNames.Replaces) is not { } replacesText || !IsParkService(target.Uri))
            return Transfers.Check(refer);
        if (target.Uri.Headers.Count != 1)
            return new(403, "an attended park's Refer-To carries its Replaces and no other header");
        if (!ReplacesHeader.TryParse(replacesText, out var replaces)) return new(400, "the Replaces in the Refer-To does not parse");
        var reservation = _reservations.Values.FirstOrDefault(r => Names(replaces, r.Id));
        if (reservation is null || !SameUser(reservation.Parker.Uri, refer.From.Uri))
            return new(403, "the Replaces names no attended park of yours");
        return null;
    }

    private bool IsParkService(SipUri uri) =>
        ParkDial.Read(uri.UnescapedUser, _options).Kind == ParkDialKind.Service
        && (string.Equals(uri.Host, Domain, StringComparison.OrdinalIgnoreCase)
            || (string.Equals(uri.HostWithoutBrackets, Contact.HostWithoutBrackets, StringComparison.OrdinalIgnoreCase) && (uri.Port ?? 5060) == (Contact.Port ?? 5060)));

    private static bool Names(ReplacesHeader replaces, DialogId id) =>
        replaces.CallId == id.CallId
        && ((replaces.ToTag == id.LocalTag && replaces.FromTag == id.RemoteTag) || (replaces.ToTag == id.RemoteTag && replaces.FromTag == id.LocalTag));

    private static bool SameUser(SipUri a, SipUri b) =>
        string.Equals(a.UnescapedUser, b.UnescapedUser, StringComparison.OrdinalIgnoreCase) && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase);
}
