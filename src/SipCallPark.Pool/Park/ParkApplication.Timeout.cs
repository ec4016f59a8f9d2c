using Microsoft.Extensions.Logging;
using SipCallPark.Pool.State;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Park;

internal sealed partial class ParkApplication
{
    private void ArmTimeout(ParkedCall call, TimeSpan after)
    {
        call.StopTimer();
        call.TimeoutDue = _time.GetUtcNow() + after;
        call.Timer = _time.CreateTimer(_ => _ = RingBackAsync(call), null, after, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// <c>CallPickupTimeout</c> passed (docs/design.md §5 "Timeout"): the park app calls the parker itself, on behalf of the
    /// parked party. Answered → the parked party joins the parker as in a retrieve (transfer or bridge); busy, declined or
    /// not answered within <c>RingbackTimeout</c> (then CANCELled) → one attempt counted and the call parked again; at
    /// <c>MaxCallPickupAttempts</c> → the park app calls <c>OnTimeoutUri</c>, or BYE. The parker gets a MESSAGE each time the
    /// call leaves the orbit.
    /// </summary>
    private async Task RingBackAsync(ParkedCall call)
    {
        if (!call.TryMove(ParkedCallState.Parked, ParkedCallState.RingingBack)) return;
        Announce(call, OrbitStatus.RingingBack);
        try
        {
            call.StopTimer();
            call.Attempts++;
            call.TimeoutDue = null;
            _metrics.Increment("park_timeouts_total", "Parked calls rung back to the parker");
            OrbitEvents?.OnOrbitEvent(call.Orbit, OrbitEventKind.Timeout);
            _logger.LogInformation("Orbit {Orbit} timed out: ringing back {Parker} (attempt {Attempt} of {Max})", call.Orbit, call.Parker.Uri,
                call.Attempts, _options.MaxCallPickupAttempts);
            await JournalAsync(call).ConfigureAwait(false);
            var leg = call.Leg!;
            RingOutcome rung;
            if (ParkerAor(call) is { } parker)
            {
                rung = await RingAsync(call, leg, parker, _options.RingbackTimeout, "ringback").ConfigureAwait(false);
            }
            else
            {
                _logger.LogWarning("Orbit {Orbit}: no ringback to {Parker} (not another user of {Domain})", call.Orbit, call.Parker.Uri, Domain);
                rung = new(null, 404);
            }
            if (rung.Leg is not null)
            {
                await HandOverAsync(call, leg, rung, $"Nobody picked up {call.PartyText} from orbit {call.Orbit}: the call was returned to you").ConfigureAwait(false);
                return;
            }
            _logger.LogInformation("Ringback of orbit {Orbit} not answered ({Status})", call.Orbit, rung.Status);
            if (leg.IsEnded) return;
            if (call.Attempts < _options.MaxCallPickupAttempts)
            {
                // Armed before the call shows as parked again: whoever sees it parked sees its next timeout running.
                ArmTimeout(call, _options.CallPickupTimeout);
                if (!call.TryMove(ParkedCallState.RingingBack, ParkedCallState.Parked))
                {
                    call.StopTimer();
                    return;
                }
                Announce(call, OrbitStatus.Parked);
                await JournalAsync(call).ConfigureAwait(false);
                return;
            }
            await FallBackAsync(call, leg).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogError(e, "Ringback of orbit {Orbit} failed", call.Orbit);
            await LeaveAsync(call, $"The call from {call.PartyText} on orbit {call.Orbit} was disconnected after an error", hangUp: true).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The last ringback went unanswered: the park app calls <c>OnTimeoutUri</c> (configured, so trusted) the way it called
    /// the parker, ringing up to <c>CompletionTimeout</c>, and joins the parked party to it; without one, or unanswered, BYE.
    /// </summary>
    private async Task FallBackAsync(ParkedCall call, SipCall leg)
    {
        if (_options.OnTimeoutUri is { } fallback && SipUri.TryParse(fallback, out var uri))
        {
            var rung = await RingAsync(call, leg, uri, _options.CompletionTimeout, "fallback").ConfigureAwait(false);
            _metrics.Increment("park_fallbacks_total", "Parked calls sent to OnTimeoutUri or disconnected after the last ringback", ("to", "uri"));
            _logger.LogInformation("Orbit {Orbit} sent to {Fallback} after {Attempts} unanswered ringbacks: {Status}", call.Orbit, uri, call.Attempts, rung.Status);
            if (rung.Leg is not null)
            {
                await HandOverAsync(call, leg, rung, $"Nobody picked up {call.PartyText} from orbit {call.Orbit}: the call was transferred to {uri}").ConfigureAwait(false);
                return;
            }
            if (leg.IsEnded) return;
            await LeaveAsync(call,
                $"Nobody picked up {call.PartyText} from orbit {call.Orbit}; the call to {uri} was not answered ({rung.Status}) and the call was disconnected",
                hangUp: true).ConfigureAwait(false);
            return;
        }
        _metrics.Increment("park_fallbacks_total", "Parked calls sent to OnTimeoutUri or disconnected after the last ringback", ("to", "disconnect"));
        _logger.LogInformation("Orbit {Orbit} disconnected after {Attempts} unanswered ringbacks", call.Orbit, call.Attempts);
        await LeaveAsync(call, $"Nobody picked up {call.PartyText} from orbit {call.Orbit}: the call was disconnected", hangUp: true).ConfigureAwait(false);
    }

    /// <summary>The call leaves its orbit for good: BYE (when asked), orbit and journal freed, the parker told.</summary>
    private async Task LeaveAsync(ParkedCall call, string message, bool hangUp)
    {
        if (!call.TryLeave()) return;
        await FreeOrbitAsync(call).ConfigureAwait(false);
        // The parker hears at once; an unanswered BYE (up to 64·T1) must not hold the notice back.
        var bye = hangUp && call.Leg is { } leg ? leg.HangUpAsync() : Task.FromResult<Sip.Transactions.ClientTransactionResult?>(null);
        await Task.WhenAll(bye, TellParkerAsync(call, message)).ConfigureAwait(false);
    }

    /// <summary>Any request from the parked party shows it is still there (the keepalive leaves it alone for an interval).</summary>
    private void OnParkedRequest(ParkedCall call, SipRequest request) => call.LastSeen = _time.GetUtcNow();

    // ---- keepalive (docs/design.md §5 case 3) ----------------------------------------------------------------------------

    /// <summary>An in-dialog OPTIONS to every parked party; one that answers 408/481 or not at all has vanished.</summary>
    private async Task KeepAliveAsync()
    {
        if (_stopping.IsCancellationRequested) return;
        // Only parties not heard from for a whole interval: a call parked just before this tick is left alone.
        var due = _time.GetUtcNow() - _options.KeepaliveInterval + TimeSpan.FromMilliseconds(50);
        var checks = _parked.Values.Where(c => c.State == ParkedCallState.Parked && c.Leg is { IsEnded: false } && c.LastSeen <= due)
            .Select(async call =>
            {
                // Its CSeq is journaled first (one group commit for the round), so a teardown BYE goes right above it.
                await JournalAsync(call, call.Leg!.Dialog, ahead: 1).ConfigureAwait(false);
                var result = await call.Leg!.SendRequestAsync(SipMethods.Options).ConfigureAwait(false);
                if (result.Failure is null && result.StatusCode is not (408 or 481))
                {
                    call.LastSeen = _time.GetUtcNow();
                    return;
                }
                _logger.LogInformation("Parked party on orbit {Orbit} is gone (keepalive: {Result}); dropping the call", call.Orbit, result);
                _metrics.Increment("park_drops_total", "Parked calls that ended while parked", ("reason", "keepalive"));
                                // Nothing answers there any more: a BYE would only wait out its own timeout.
                await LeaveAsync(call, $"The call from {call.PartyText} on orbit {call.Orbit} was lost (the phone stopped answering)", hangUp: false).ConfigureAwait(false);
            });
        try
        {
            await Task.WhenAll(checks).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogError(e, "Keepalive round failed");
        }
    }

    // ---- operator and restart (docs/design.md §5 cases 2 and 5) ---------------------------------------------------------

    /// <summary><c>DELETE /parked/{orbit}</c>: BYE the parked party, free the orbit, tell the parker. False when the orbit is empty.</summary>
    public async Task<bool> UnparkAsync(string orbit)
    {
        if (!_parked.TryGetValue(orbit, out var call) || call.State == ParkedCallState.Parking) return false;
        if (!call.TryLeave()) return false;
        _logger.LogInformation("Operator unparks orbit {Orbit} ({Party})", orbit, call.PartyText);
        _metrics.Increment("park_drops_total", "Parked calls that ended while parked", ("reason", "operator"));
        await FreeOrbitAsync(call).ConfigureAwait(false);
        // The operator's request returns once the BYE is out: a phone that no longer answers must not hold it (or a
        // shutdown) for the BYE's 64·T1.
        if (call.Leg is { } leg)
        {
            _ = leg.HangUpAsync().ContinueWith(t => _logger.LogInformation("BYE to {Party} for the unpark of orbit {Orbit}: {Result}",
                call.PartyText, orbit, t.IsCompletedSuccessfully ? t.Result?.ToString() : t.Exception?.GetBaseException().Message), TaskScheduler.Default);
        }
        await TellParkerAsync(call, $"The call from {call.PartyText} on orbit {orbit} was disconnected by an operator").ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// After a restart: every park dialog the journal still holds for this pool belonged to the process that died.
    /// Each parked party gets an in-dialog BYE and its parker a MESSAGE; the records go. Retrieved calls are never
    /// journaled, so their phones are left alone.
    /// </summary>
    public async Task<int> TearDownLeftoversAsync(CancellationToken cancellationToken = default)
    {
        var leftovers = _journal.ForPool(Pool);
        if (leftovers.Count == 0) return 0;
        _logger.LogInformation("Found {Count} park dialogs from before the restart; sending BYE to each", leftovers.Count);
        return await TearDownAsync(leftovers, "the park server restarted", "restart",
            record => _journal.RemoveAsync(record.Orbit, record.Pool, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>
    /// The partner pool failed (docs/design.md §5 case 1, §7 Outage): its parked, not yet retrieved parties, known here by
    /// replication, get BYE from this pool on the dead pool's behalf, and their parkers a MESSAGE.
    /// </summary>
    public async Task<int> TearDownPartnerParksAsync(string pool, IReadOnlyList<ParkedDialogRecord> parks, Func<ParkedDialogRecord, Task> forget)
    {
        if (parks.Count == 0) return 0;
        _logger.LogWarning("{PartnerPool} is down: sending BYE to its {Count} parked calls", pool, parks.Count);
        return await TearDownAsync(parks, $"its park server {pool} failed", "partner-outage", forget).ConfigureAwait(false);
    }

    /// <summary>BYE each stored park dialog (a standard UA accepts it: same Call-ID and tags, CSeq above the last), tell each parker.</summary>
    private async Task<int> TearDownAsync(IReadOnlyList<ParkedDialogRecord> records, string why, string reason, Func<ParkedDialogRecord, Task> forget)
    {
        await Task.WhenAll(records.Where(r => r.State == ParkedDialogState.Parked).Select(async record =>
        {
            // The journal holds the highest CSeq used (each request is journaled before it leaves): the BYE takes the next.
            var dialog = record.ToDialog();
            SipRequest bye;
            lock (dialog) bye = dialog.CreateRequest(SipMethods.Bye);
            var result = await _agent.SendInDialogAsync(dialog, bye).ConfigureAwait(false);
            _logger.LogInformation("BYE to {Party}, parked on orbit {Orbit} of {PartnerPool} ({Why}): {Result}", record.ParkedParty, record.Orbit, record.Pool, why, result);
            await forget(record).ConfigureAwait(false);
            // 481: the dialog was gone already (the party hung up, or the backup tore it down during the outage and
            // told the parker then); there is nothing new to tell.
            if (result.StatusCode == 481) return;
            _metrics.Increment("park_drops_total", "Parked calls that ended while parked", ("reason", reason));
            if (SipUri.TryParse(record.Parker, out var parker))
                await TellAsync(parker, record.Orbit, $"The call from {record.ParkedParty} on orbit {record.Orbit} was disconnected: {why}").ConfigureAwait(false);
        })).ConfigureAwait(false);
        return records.Count;
    }
}
