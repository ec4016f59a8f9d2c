using Microsoft.Extensions.Logging;
using SipCallPark.Pool.State;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Park;

internal sealed partial class ParkApplication
{
    /// <summary>
    /// Someone dialled an occupied orbit (docs/design.md §5 "Retrieve"): the orbit is freed at once, then the call goes out
    /// by transfer when both phones can (the parked party INVITEs the retriever with Replaces), else — or when the
    /// transfer fails part-way — by the bridge. Either way the call no longer counts as parked.
    /// </summary>
    private async Task RetrieveAsync(IncomingCall incoming, ParkedCall call)
    {
        if (!call.TryMove(ParkedCallState.Parked, ParkedCallState.Leaving))
        {
            await incoming.RejectAsync(486, Warning($"orbit {call.Orbit} is ringing back its parker")).ConfigureAwait(false);
            return;
        }
        var leg = call.Leg!;
        var retriever = incoming.Request.From.WithoutParameter("tag");
        await FreeOrbitAsync(call, keepMusic: true).ConfigureAwait(false);
        var retrieverSupportsReplaces = incoming.Request.OptionTags(HeaderNames.Supported).Contains("replaces", StringComparer.OrdinalIgnoreCase);
        _logger.LogInformation("{Retriever} picks up {Party} from orbit {Orbit} by {How}", retriever.Uri, call.PartyText, call.Orbit,
            call.CanTransferOut && retrieverSupportsReplaces ? "transfer" : "bridge");
        if (call.CanTransferOut && retrieverSupportsReplaces) await TransferOutAsync(incoming, call, leg).ConfigureAwait(false);
        else await BridgeAsync(incoming, call, leg).ConfigureAwait(false);
    }

    private async Task TransferOutAsync(IncomingCall incoming, ParkedCall call, SipCall parkedLeg)
    {
        SipCall retrieverLeg;
        try
        {
            retrieverLeg = await incoming.AnswerAsync(_media.Inactive(incoming.Offer), r => r.Headers.Add(OrbitHeader, call.Orbit)).ConfigureAwait(false);
            await retrieverLeg.Confirmed.WaitAsync(_options.CompletionTimeout, _time).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            _logger.LogInformation("Retriever of orbit {Orbit} went away before the transfer ({Error})", call.Orbit, e.Message);
            await ReparkAsync(call).ConfigureAwait(false);
            return;
        }
        // RFC 3891 §3: at the retriever, to-tag is its own tag and from-tag ours.
        var d = retrieverLeg.Dialog;
        var replaces = new ReplacesHeader(d.Id.CallId, d.Id.RemoteTag, d.Id.LocalTag);
        var referTo = new NameAddress(d.RemoteTarget.WithoutHeaders().WithHeader(HeaderNames.Replaces, replaces.ToString()));
        var outcome = await parkedLeg.ReferAsync(referTo, Identity).ConfigureAwait(false);
        if (!outcome.Succeeded)
        {
            _logger.LogInformation("Transfer out of orbit {Orbit} failed (REFER {ReferStatus}, final {Status}); bridging instead",
                call.Orbit, outcome.ReferStatus, outcome.StatusCode);
            if (parkedLeg.IsEnded)
            {
                call.StopMusic();
                await retrieverLeg.HangUpAsync().ConfigureAwait(false);
                return;
            }
            await BridgeAnsweredAsync(call, parkedLeg, retrieverLeg).ConfigureAwait(false);
            return;
        }
        call.StopMusic();
        _metrics.Increment("park_retrieves_total", "Parked calls picked up", ("how", "transfer"));
        OrbitEvents?.OnOrbitEvent(call.Orbit, OrbitEventKind.Retrieved);
        _logger.LogInformation("Orbit {Orbit} transferred out: {Party} now talks to the retriever directly", call.Orbit, call.PartyText);
        await parkedLeg.HangUpAsync().ConfigureAwait(false);
        // The retriever ends the replaced leg itself (RFC 3891 §3); if its BYE never comes, we send ours.
        try
        {
            await retrieverLeg.Ended.WaitAsync(_options.CompletionTimeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _logger.LogInformation("No BYE from the retriever of orbit {Orbit} after the transfer; closing the leg", call.Orbit);
            await retrieverLeg.HangUpAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The bridge for a retriever not yet answered: its offer goes to the parked party, whose answer answers it.</summary>
    private async Task BridgeAsync(IncomingCall incoming, ParkedCall call, SipCall parkedLeg)
    {
        SipCall? retrieverLeg = null;
        Sip.Transactions.ClientTransactionResult result;
        if (incoming.Offer is { } offer)
        {
            // The parked party hears the park's own session change (RFC 3264 §8), not a stranger's origin.
            var (toParty, placement) = _sdp.Offer(parkedLeg, offer);
            result = await parkedLeg.ReInviteAsync(toParty).ConfigureAwait(false);
            if (result.IsSuccess)
            {
                call.StopMusic();
                try
                {
                    retrieverLeg = await incoming.AnswerAsync(SdpLegs.AnswerBack(parkedLeg.RemoteSdp, placement), r => r.Headers.Add(OrbitHeader, call.Orbit))
                        .ConfigureAwait(false);
                }
                catch (InvalidOperationException)
                {
                    retrieverLeg = null;
                }
            }
        }
        else
        {
            // Late offer from the retriever: the parked party offers (RFC 3725 flow I), the retriever answers in its ACK.
            result = await parkedLeg.ReInviteForOfferAsync(async partyOffer =>
            {
                call.StopMusic();
                retrieverLeg = await incoming.AnswerAsync(partyOffer, r => r.Headers.Add(OrbitHeader, call.Orbit)).ConfigureAwait(false);
                await retrieverLeg.Confirmed.WaitAsync(_options.CompletionTimeout, _time).ConfigureAwait(false);
                return _sdp.Answer(parkedLeg, retrieverLeg.RemoteSdp);
            }).ConfigureAwait(false);
        }
        if (!result.IsSuccess)
        {
            _logger.LogInformation("Bridge for orbit {Orbit} failed: the parked party answered the re-INVITE {Status}", call.Orbit, result.StatusCode);
            await incoming.RejectAsync(480, Warning($"the call on orbit {call.Orbit} could not be picked up")).ConfigureAwait(false);
            await ReparkAsync(call).ConfigureAwait(false);
            return;
        }
        if (retrieverLeg is null)
        {
            // The retriever cancelled after the parked party moved: it goes back to the music.
            await ReparkAsync(call).ConfigureAwait(false);
            return;
        }
        StartBridge(call, parkedLeg, retrieverLeg);
    }

    /// <summary>The bridge after a failed transfer: the retriever already holds an inactive leg, so it offers anew.</summary>
    private async Task BridgeAnsweredAsync(ParkedCall call, SipCall parkedLeg, SipCall retrieverLeg)
    {
        var moved = false;
        var result = await retrieverLeg.ReInviteForOfferAsync(async retrieverOffer =>
        {
            var (offer, placement) = retrieverOffer is null ? (null, MediaPlacement.Identity) : _sdp.Offer(parkedLeg, retrieverOffer);
            var toParty = await parkedLeg.ReInviteAsync(offer).ConfigureAwait(false);
            moved = toParty.IsSuccess;
            return moved ? _sdp.Answer(retrieverLeg, SdpLegs.AnswerBack(parkedLeg.RemoteSdp, placement)) : null;
        }).ConfigureAwait(false);
        call.StopMusic();
        if (!result.IsSuccess || !moved)
        {
            _logger.LogInformation("Bridge after the failed transfer of orbit {Orbit} failed too; ending both legs", call.Orbit);
            await retrieverLeg.HangUpAsync().ConfigureAwait(false);
            await parkedLeg.HangUpAsync().ConfigureAwait(false);
            return;
        }
        StartBridge(call, parkedLeg, retrieverLeg);
    }

    private void StartBridge(ParkedCall call, SipCall parkedLeg, SipCall retrieverLeg)
    {
        // The park's own handlers on the parked leg give way to the bridge's.
        parkedLeg.OnReInvite = null;
        _metrics.Increment("park_retrieves_total", "Parked calls picked up", ("how", "bridge"));
        OrbitEvents?.OnOrbitEvent(call.Orbit, OrbitEventKind.Retrieved);
        var bridge = CallBridge.Join(parkedLeg, retrieverLeg, call.Orbit, _sdp, new BridgeJournaling(_bridgeJournal, Pool, _time), _logger);
        _bridges[bridge] = 0;
        _ = bridge.Ended.ContinueWith(_ => _bridges.TryRemove(bridge, out byte _), TaskScheduler.Default);
        _logger.LogInformation("Orbit {Orbit} bridged: {Party} and the retriever talk directly, signalling through the park ({ParkedCallId} / {RetrieverCallId})",
            call.Orbit, call.PartyText, parkedLeg.CallId, retrieverLeg.CallId);
    }

    /// <summary>A retrieve that fell through before the call moved: back into its orbit when that is still free.</summary>
    private async Task ReparkAsync(ParkedCall call)
    {
        if (call.Leg is not { IsEnded: false } leg || !_orbits.TryTake(call.Orbit))
        {
            call.StopMusic();
            if (call.Leg is { IsEnded: false } stranded) await stranded.HangUpAsync().ConfigureAwait(false);
            return;
        }
        _parked[call.Orbit] = call;
        if (call.TryMove(ParkedCallState.Leaving, ParkedCallState.Parked)) Announce(call, OrbitStatus.Parked);
        if (call.Music is null && _media.MusicEnabled)
        {
            // The music was stopped for a move that then failed: offer it again.
            var (offer, music) = _media.Offer();
            var result = await leg.ReInviteAsync(_sdp.Offer(leg, offer).Sdp).ConfigureAwait(false);
            if (result.IsSuccess) HoldMedia.Apply(music, leg.RemoteSdp);
            else music?.Stop();
            call.Music = result.IsSuccess ? music : null;
        }
        ArmTimeout(call, call.TimeoutDue is { } due && due > _time.GetUtcNow() ? due - _time.GetUtcNow() : _options.CallPickupTimeout);
        await JournalAsync(call).ConfigureAwait(false);
        _logger.LogInformation("{Party} is back on orbit {Orbit}", call.PartyText, call.Orbit);
        OrbitEvents?.OnOrbitEvent(call.Orbit, OrbitEventKind.BackOnOrbit);
    }
}
