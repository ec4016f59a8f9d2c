using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Park;

/// <summary>
/// The park app's own calls at the timeout (docs/design.md §5 "Timeout"): it INVITEs the parker (then the fallback) on
/// behalf of the parked party, and joins the parked party to whoever answers the way a retrieve does. Nothing is asked
/// of the parked phone beyond what a retrieve asks: a phone that declines REFER is bridged.
/// </summary>
internal sealed partial class ParkApplication
{
    /// <summary>RFC 7462 §4.1 "recall due to call hold": a phone may ring a ringback differently.</summary>
    public const string RingbackAlertInfo = "<urn:alert:service:recall:hold>";

    private const string AlertInfoHeader = "Alert-Info";
    private const string CallInfoHeader = "Call-Info";

    /// <summary>How a call placed by the park app ended: the answered leg (and whether the answerer honours Replaces), or the final status.</summary>
    private readonly record struct RingOutcome(SipCall? Leg, int Status, bool SupportsReplaces = false);

    /// <summary>
    /// Whom the ringback calls: the parker's address of record as the pool knows it, rebuilt from the user part alone, so
    /// that no host, port or parameter from a header of the parked call can steer the park's INVITE (docs/design.md §11).
    /// Null when the parker is no user of this domain (a foreign <c>Referred-By</c>), an orbit, the park service itself, or
    /// the parked party (a phone that parked itself: ringing its own address would only offer it a call with itself).
    /// </summary>
    private SipUri? ParkerAor(ParkedCall call)
    {
        var uri = call.Parker.Uri;
        if (!string.Equals(uri.Host, Domain, StringComparison.OrdinalIgnoreCase) || uri.UnescapedUser is not { Length: > 0 } user) return null;
        if (ParkDial.Read(user, _options).Kind != ParkDialKind.None) return null;
        var party = call.ParkedParty.Uri;
        if (string.Equals(party.UnescapedUser, user, StringComparison.OrdinalIgnoreCase) && string.Equals(party.Host, Domain, StringComparison.OrdinalIgnoreCase))
            return null;
        return SipUri.Create("sip", user, Domain);
    }

    /// <summary>
    /// INVITEs <paramref name="target"/> on behalf of the parked party (From names the party; Alert-Info, Call-Info and
    /// <c>X-Park-Orbit</c> say it is the park's <paramref name="purpose"/> for the orbit). The offer holds the line silent
    /// (<c>a=inactive</c>), as a retrieve's answer does, until the call is joined. Rings for at most
    /// <paramref name="ringFor"/>; CANCELs (RFC 3261 §9.1) at that bound or as soon as the parked party hangs up.
    /// </summary>
    private async Task<RingOutcome> RingAsync(ParkedCall call, SipCall parkedLeg, SipUri target, TimeSpan ringFor, string purpose)
    {
        if (_routes.Resolve(target) is not { } route)
        {
            _logger.LogInformation("{Purpose} of orbit {Orbit}: {Target} cannot be reached", purpose, call.Orbit, target);
            return new(null, 480);
        }
        // The bound starts before the INVITE leaves, so that whoever sees the phone ring sees the bound running.
        using var stopWaiting = new CancellationTokenSource();
        var ringTime = Task.Delay(ringFor, _time, stopWaiting.Token);
        var dial = _agent.Dial(route.RequestUri, new CallOptions
        {
            Sdp = _media.Inactive(null),
            From = call.ParkedParty,
            To = new NameAddress(target.WithoutHeaders()),
            Destination = route.Destination,
            Headers =
            [
                (AlertInfoHeader, RingbackAlertInfo),
                (CallInfoHeader, $"<{OrbitAddress(call.Orbit).Uri}>;purpose=info;orbit={call.Orbit};park={purpose}"),
                (OrbitHeader, call.Orbit),
            ],
        });
        var first = await Task.WhenAny(dial.Completion, parkedLeg.Ended, ringTime).ConfigureAwait(false);
        await stopWaiting.CancelAsync().ConfigureAwait(false);
        var gaveUp = first != dial.Completion;
        if (gaveUp)
        {
            _logger.LogInformation("CANCEL of the {Purpose} of orbit {Orbit} to {Target}: {Why}", purpose, call.Orbit, target,
                first == parkedLeg.Ended ? "the parked party hung up" : $"not answered within {ringFor}");
            _ = dial.CancelAsync().ContinueWith(t => _logger.LogDebug(t.Exception, "CANCEL of orbit {Orbit}'s {Purpose} failed", call.Orbit, purpose),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        CallAttempt attempt;
        try
        {
            attempt = await dial.Completion.WaitAsync(_options.CompletionTimeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return new(null, 408);
        }
        if (attempt.Call is not { } leg) return new(null, gaveUp && attempt.StatusCode == 487 ? 408 : attempt.StatusCode);
        if (gaveUp || parkedLeg.IsEnded)
        {
            // Answered as the CANCEL crossed the 200: that call is no longer wanted.
            await leg.HangUpAsync().ConfigureAwait(false);
            return new(null, 408);
        }
        var supportsReplaces = attempt.Response!.OptionTags(HeaderNames.Supported).Contains("replaces", StringComparer.OrdinalIgnoreCase);
        return new(leg, attempt.StatusCode, supportsReplaces);
    }

    /// <summary>
    /// The parked party joins a call the park app placed, the way a retrieve joins it (docs/design.md §5 "Retrieve"): by
    /// transfer when the parked phone allows REFER and honours Replaces and so does the answerer, else — or when the
    /// transfer fails part-way — by the bridge. The orbit is already free.
    /// </summary>
    private async Task JoinAsync(ParkedCall call, SipCall parkedLeg, RingOutcome answered)
    {
        var leg = answered.Leg!;
        var byTransfer = call.CanTransferOut && answered.SupportsReplaces;
        _logger.LogInformation("{Party} of orbit {Orbit} joins {Answerer} by {How}", call.PartyText, call.Orbit, leg.Dialog.RemoteAddress.Uri,
            byTransfer ? "transfer" : "bridge");
        if (byTransfer && await TransferToAnsweredAsync(call, parkedLeg, leg).ConfigureAwait(false)) return;
        if (parkedLeg.IsEnded)
        {
            call.StopMusic();
            await leg.HangUpAsync().ConfigureAwait(false);
            return;
        }
        await BridgeAnsweredAsync(call, parkedLeg, leg).ConfigureAwait(false);
    }

    /// <summary>REFERs the parked party to the answerer with Replaces naming the park's call with it (RFC 3891 §3); false when that failed.</summary>
    private async Task<bool> TransferToAnsweredAsync(ParkedCall call, SipCall parkedLeg, SipCall answered)
    {
        var d = answered.Dialog;
        NameAddress referTo;
        lock (d)
        {
            // At the answerer, to-tag is its own tag (our remote tag) and from-tag ours.
            var replaces = new ReplacesHeader(d.Id.CallId, d.Id.RemoteTag, d.Id.LocalTag);
            referTo = new NameAddress(d.RemoteTarget.WithoutHeaders().WithHeader(HeaderNames.Replaces, replaces.ToString()));
        }
        var outcome = await parkedLeg.ReferAsync(referTo, Identity).ConfigureAwait(false);
        if (!outcome.Succeeded)
        {
            _logger.LogInformation("Transfer of orbit {Orbit} to the answerer failed (REFER {ReferStatus}, final {Status}); bridging instead",
                call.Orbit, outcome.ReferStatus, outcome.StatusCode);
            return false;
        }
        call.StopMusic();
        _metrics.Increment("park_retrieves_total", "Parked calls picked up", ("how", "transfer"));
        await parkedLeg.HangUpAsync().ConfigureAwait(false);
        // The answerer ends the replaced call itself (RFC 3891 §3); if its BYE never comes, we send ours.
        try
        {
            await answered.Ended.WaitAsync(_options.CompletionTimeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await answered.HangUpAsync().ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>The orbit's timeout call was answered: the call leaves the orbit and joins the answerer; the parker is told.</summary>
    private async Task HandOverAsync(ParkedCall call, SipCall parkedLeg, RingOutcome answered, string message)
    {
        if (!call.TryLeave())
        {
            // Unparked or hung up while the phone was being answered.
            await answered.Leg!.HangUpAsync().ConfigureAwait(false);
            return;
        }
        await FreeOrbitAsync(call, keepMusic: true).ConfigureAwait(false);
        await Task.WhenAll(JoinAsync(call, parkedLeg, answered), TellParkerAsync(call, message)).ConfigureAwait(false);
    }
}
