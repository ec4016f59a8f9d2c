using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.State;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Dialogs;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Park;

/// <summary>
/// The call park orbit application (docs/design.md §5): a user agent inside the pool, reached at the park service URI, its
/// aliases and the pool's orbits. It parks by REFER with Replaces (way 1) or by answering a blind transfer (way 2),
/// hands a call out by transfer or bridge when someone dials its orbit, rings the parker back at the timeout, and
/// never leaves a parked dialog behind: every park is journaled, kept alive, and torn down when its party is gone.
/// The pool's dispatcher hands it the requests its router sends to the park service (<see cref="ITransactionUser"/>).
/// </summary>
internal sealed partial class ParkApplication : ITransactionUser, IAsyncDisposable
{
    public const string OrbitHeader = "X-Park-Orbit";

    private readonly SipStack _stack;
    private readonly SipUserAgent _agent;
    private readonly ParkOptions _options;
    private readonly OrbitAllocator _orbits;
    private readonly IParkJournal _journal;
    private readonly IBridgeJournal _bridgeJournal;
    private readonly ParkRoutes _routes;
    private readonly HoldMedia _media;
    private readonly SipMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, ParkedCall> _parked = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<CallBridge, byte> _bridges = new();
    private readonly SdpLegs _sdp = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ITimer _keepalive;

    /// <param name="beforeSend">Sees every out-of-dialog request the park service sends (a park INVITE, a MESSAGE to
    /// the parker) with its destination: the host signs there what goes to the partner pool (docs/design.md §11).</param>
    public ParkApplication(SipStack stack, string pool, string domain, ParkOptions options, OrbitAllocator orbits, IParkJournal journal,
        IBridgeJournal bridgeJournal, ParkRoutes routes, HoldMedia media, SipMetrics metrics, TimeProvider time, ILoggerFactory loggers,
        Action<SipRequest, SipEndPoint>? beforeSend)
    {
        _stack = stack;
        Pool = pool;
        Domain = domain;
        _options = options;
        _orbits = orbits;
        _journal = journal;
        _bridgeJournal = bridgeJournal;
        _routes = routes;
        _media = media;
        _metrics = metrics;
        _time = time;
        _logger = loggers.CreateLogger<ParkApplication>();
        Identity = new NameAddress(SipUri.Create("sip", options.ServiceName, domain), "Call Park");
        _agent = new SipUserAgent(stack, new UserAgentOptions
        {
            Identity = Identity,
            UserAgentName = $"SipCallPark park ({pool})",
            ReferOutcomeTimeout = options.CompletionTimeout,
            BeforeSend = beforeSend,
        }, attach: false)
        {
            OnIncomingCall = OnIncomingCallAsync,
            OnRefer = OnReferAsync,
        };
        DeclareMetrics();
        _keepalive = time.CreateTimer(_ => _ = KeepAliveAsync(), null, options.KeepaliveInterval, options.KeepaliveInterval);
    }

    public string Pool { get; }

    public string Domain { get; }

    /// <summary><c>"Call Park" &lt;sip:park@domain&gt;</c>: the From of MESSAGEs and the Referred-By of the park's REFERs.</summary>
    public NameAddress Identity { get; }

    /// <summary>The park's Contact (<c>sip:park@pool-address</c>): in-dialog requests of parked calls come back here.</summary>
    public SipUri Contact => _agent.Contact;

    /// <summary>Whom a park REFER may make the pool call (docs/design.md §11): checked before an orbit is taken.</summary>
    public required ParkReferPolicy ReferPolicy { get; init; }

    /// <summary>The blind transfers to the park that passed the pool's proxy: who parks whom, where (docs/design.md §5).</summary>
    public required ParkTransfers Transfers { get; init; }

    /// <summary>Whether a parker (an AOR) is in resiliency mode now; such a parker may not park (docs/design.md §7). Set by the pool.</summary>
    public Func<SipUri, bool> ParkerInResiliencyMode { get; set; } = _ => false;

    /// <summary>Told of every orbit change (the web console's live lamps).</summary>
    public IOrbitEvents? OrbitEvents { get; init; }

    public int OrbitsInUse => _orbits.InUse;

    public int ActiveBridges => _bridges.Count;

    /// <summary>The calls in orbits now, lowest orbit first.</summary>
    public IReadOnlyList<ParkedCallView> Parked() =>
        _parked.Values.Where(c => c.State is ParkedCallState.Parked or ParkedCallState.RingingBack)
            .OrderBy(c => c.Orbit.Length).ThenBy(c => c.Orbit, StringComparer.Ordinal)
            .Select(c => new ParkedCallView(c.Orbit, c.PartyText, c.Parker.Uri.WithoutHeaders().ToString(), c.Since, c.TimeoutDue, c.Attempts, c.Way, c.State.ToString()))
            .ToArray();

    // ---- ITransactionUser: the dispatcher's park-bound traffic goes to the park's user agent --------------------

    public Task OnRequestAsync(ServerTransaction transaction) => _agent.OnRequestAsync(transaction);

    public Task OnAckAsync(IncomingMessage ack) => _agent.OnAckAsync(ack);

    public Task OnCancelAsync(InviteServerTransaction invite, IncomingMessage cancel) => _agent.OnCancelAsync(invite, cancel);

    public Task OnStrayResponseAsync(IncomingMessage response) => _agent.OnStrayResponseAsync(response);

    public Task OnAdditionalSuccessAsync(InviteClientTransaction transaction, IncomingMessage response) =>
        _agent.OnAdditionalSuccessAsync(transaction, response);

    public Task OnServerTransactionFailedAsync(ServerTransaction transaction, TransactionFailure failure) =>
        _agent.OnServerTransactionFailedAsync(transaction, failure);

    // ---- way 1: REFER to the park server with Replaces ---------------------------------------------------------

    private async Task OnReferAsync(IncomingRefer refer)
    {
        var request = refer.Request;
        var parker = request.From.WithoutParameter("tag");
        if (refer.ReplacesInReferTo is not { } replaces)
        {
            await refer.RejectAsync(400, Warning("Refer-To must name the call to park: <party?Replaces=call-id;to-tag=...;from-tag=...>")).ConfigureAwait(false);
            return;
        }
        if (ReferPolicy.Refusal(parker.Uri, refer.ReferTo.Uri, replaces) is { } refusal)
        {
            _logger.LogWarning("Park REFER {CallId} from {Parker} refused: Refer-To {ReferTo} ({Reason})", request.CallId, parker.Uri,
                refer.ReferTo.Uri.WithoutHeaders(), refusal);
            await refer.RejectAsync(403, Warning(refusal)).ConfigureAwait(false);
            return;
        }
        // After the checks above: a malformed or foreign REFER is refused outright whatever the parker's mode.
        if (ParkerInResiliencyMode(parker.Uri))
        {
            await RefuseKeepingCallAsync(refer, parker.Uri).ConfigureAwait(false);
            return;
        }
        var dial = ParkDial.Read(request.RequestUri.UnescapedUser, _options);
        var claim = dial.Kind switch
        {
            ParkDialKind.Service => TakeOrbit(null),
            ParkDialKind.Orbit or ParkDialKind.DirectedPark => TakeOrbit(dial.Orbit),
            _ => new OrbitClaim(null, 404, $"{request.RequestUri.UnescapedUser} is not a park address"),
        };
        if (claim.Orbit is not { } orbit)
        {
            await refer.RejectAsync(claim.Status, Warning(claim.Reason)).ConfigureAwait(false);
            return;
        }
        var call = new ParkedCall
        {
            Orbit = orbit, Way = ParkWay.ReferToPark, Parker = parker, ParkedParty = new NameAddress(refer.ReferTo.Uri.WithoutHeaders()),
            Since = _time.GetUtcNow(),
        };
        _parked[orbit] = call;
        ReferNotifier notifier;
        try
        {
            notifier = await refer.AcceptAsync(r => r.Headers.Add(OrbitHeader, orbit)).ConfigureAwait(false);
        }
        catch
        {
            FreeOrbit(call);
            throw;
        }
        _logger.LogInformation("Parking {Party} for {Parker} on orbit {Orbit} (REFER {CallId}, replacing {Replaced})",
            call.PartyText, parker.Uri, orbit, request.CallId, replaces.CallId);
        await notifier.NotifyAsync(100).ConfigureAwait(false);
        // Referred-By names the authenticated REFERring user, never what the request claims (docs/design.md §11).
        var (status, reason) = await InviteToOrbitAsync(call, refer.ReferTo.Uri, replaces, parker).ConfigureAwait(false);
        await notifier.NotifyAsync(status, reason).ConfigureAwait(false);
    }

    /// <summary>INVITEs the party with Replaces and the hold offer; on 200 the call is parked, otherwise the orbit is free again.</summary>
    private async Task<(int Status, string? Reason)> InviteToOrbitAsync(ParkedCall call, SipUri party, ReplacesHeader replaces, NameAddress referredBy)
    {
        if (_routes.Resolve(party) is not { } route)
        {
            _logger.LogInformation("Park on orbit {Orbit} failed: {Party} cannot be reached", call.Orbit, party);
            FreeOrbit(call);
            return (404, "Not Found");
        }
        var (offer, music) = _media.Offer();
        var dial = _agent.Dial(route.RequestUri, new CallOptions
        {
            Sdp = offer, Replaces = replaces, RequireReplaces = true, ReferredBy = referredBy, From = OrbitAddress(call.Orbit),
            Destination = route.Destination,
        });
        CallAttempt attempt;
        try
        {
            attempt = await dial.Completion.WaitAsync(_options.CompletionTimeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Ringing without end: a Replaces INVITE is answered at once by phones that honour it.
            await dial.CancelAsync().ConfigureAwait(false);
            attempt = await dial.Completion.ConfigureAwait(false);
        }
        if (!attempt.IsSuccess)
        {
            music?.Stop();
            FreeOrbit(call);
            _logger.LogInformation("Park on orbit {Orbit} failed: {Party} answered {Status}", call.Orbit, party, attempt.StatusCode);
            _metrics.Increment("park_failures_total", "Parks that did not complete", ("status", attempt.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            return (attempt.StatusCode is >= 300 ? attempt.StatusCode : 500, attempt.Response?.ReasonPhrase);
        }
        var leg = attempt.Call!;
        HoldMedia.Apply(music, leg.RemoteSdp);
        call.Music = music;
        call.Leg = leg;
        call.CanTransferOut = CanTransferOut(attempt.Response!);
        await BeginParkedAsync(call).ConfigureAwait(false);
        return (attempt.Response!.StatusCode, attempt.Response.ReasonPhrase);
    }

    // ---- way 2: the parked party calls the park address; and retrieval ----------------------------------------

    /// <summary>The Warning text of the 488 a WebRTC offer (DTLS-SRTP media) to the park service gets.</summary>
    public const string WebRtcRefusal = "parking WebRTC calls needs DTLS-SRTP (not supported yet)";

    /// <summary>
    /// Way 2: the party INVITEd the park service (<paramref name="orbit"/> null) or an orbit. Its parker is the
    /// transferor whose REFER passed the pool, else the <c>Referred-By</c>, else the party itself.
    /// </summary>
    /// <param name="orbitHeld">The orbit is taken already (an attended park's reservation): use it as it is.</param>
    private async Task ParkIncomingAsync(IncomingCall incoming, string? orbit, NameAddress? transferor, bool orbitHeld = false)
    {
        var request = incoming.Request;
        // The parker's transfer fails with this status even when its REFER went around the pool (docs/design.md §7).
        if ((transferor ?? incoming.ReferredBy) is { } referredBy && ParkerInResiliencyMode(referredBy.Uri))
        {
            await incoming.RejectAsync(403, Warning(Proxy.ProxyRouter.ResiliencyParkRefusal)).ConfigureAwait(false);
            return;
        }
        // Transport selection (issue 16): a browser's WebRTC offer needs DTLS-SRTP, which the music does not speak.
        if (HoldMedia.IsWebRtcOffer(incoming.Offer))
        {
            await incoming.RejectAsync(488, Warning(WebRtcRefusal)).ConfigureAwait(false);
            return;
        }
        var claim = orbitHeld ? new OrbitClaim(orbit) : TakeOrbit(orbit);
        if (claim.Orbit is not { } taken)
        {
            await incoming.RejectAsync(claim.Status, Warning(claim.Reason)).ConfigureAwait(false);
            return;
        }
        orbit = taken;
        var party = request.From.WithoutParameter("tag");
        var call = new ParkedCall
        {
            Orbit = orbit, Way = ParkWay.BlindTransfer, Parker = transferor ?? incoming.ReferredBy?.WithoutParameter("cid") ?? party,
            ParkedParty = party,
            Since = _time.GetUtcNow(), CanTransferOut = CanTransferOut(request),
        };
        _parked[orbit] = call;
        var (answer, music) = _media.Answer(incoming.Offer);
        // Journaled before the 200 leaves: from then on the party holds a park dialog, and a pool killed before the
        // ACK came in must still find it after a restart and BYE it (the dialog is the one AnswerAsync builds).
        await JournalAsync(call, Dialog.FromUas(request, incoming.LocalTag)).ConfigureAwait(false);
        SipCall leg;
        try
        {
            leg = await incoming.AnswerAsync(answer, r => r.Headers.Add(OrbitHeader, orbit)).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            music?.Stop();
            await FreeOrbitAsync(call).ConfigureAwait(false);
            return;
        }
        call.Music = music;
        call.Leg = leg;
        // Parked once the party's ACK is in (with a late offer, its answer comes with the ACK).
        try
        {
            await Task.WhenAny(leg.Confirmed, leg.Ended).WaitAsync(_options.CompletionTimeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        if (!leg.Confirmed.IsCompleted || leg.IsEnded)
        {
            _logger.LogInformation("Park on orbit {Orbit} failed: {Party} never acknowledged the answer", orbit, call.PartyText);
            await FreeOrbitAsync(call).ConfigureAwait(false);
            if (!leg.IsEnded) await leg.HangUpAsync().ConfigureAwait(false);
            return;
        }
        if (incoming.Offer is null) HoldMedia.Apply(music, leg.RemoteSdp);
        _logger.LogInformation("Parking {Party} for {Parker} on orbit {Orbit} (blind transfer, call {CallId})",
            call.PartyText, call.Parker.Uri, orbit, request.CallId);
        await BeginParkedAsync(call).ConfigureAwait(false);
        await TellParkerAsync(call, $"Call from {call.PartyText} parked on orbit {orbit}").ConfigureAwait(false);
    }

    // ---- parked ------------------------------------------------------------------------------------------------

    private async Task BeginParkedAsync(ParkedCall call)
    {
        var leg = call.Leg!;
        call.LastSeen = _time.GetUtcNow();
        if (!call.TryMove(ParkedCallState.Parking, ParkedCallState.Parked)) return;
        Announce(call, OrbitStatus.Parked);
        leg.OnReInvite = reInvite => OnParkedReInviteAsync(call, reInvite);
        leg.RequestReceived += request => OnParkedRequest(call, request);
        _ = leg.Ended.ContinueWith(t => OnLegEndedAsync(call, t.Result), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        ArmTimeout(call, _options.CallPickupTimeout);
        _metrics.Increment("park_parks_total", "Calls parked", ("way", call.Way == ParkWay.ReferToPark ? "refer" : "transfer"));
        _logger.LogInformation("Parked {Party} on orbit {Orbit}; rings back {Parker} at {Due:O}", call.PartyText, call.Orbit, call.Parker.Uri, call.TimeoutDue);
        OrbitEvents?.OnOrbitEvent(call.Orbit, OrbitEventKind.Parked);
        await JournalAsync(call).ConfigureAwait(false);
    }

    /// <summary>A parked party moving its media (or holding) re-offers: the music follows it.</summary>
    private async Task OnParkedReInviteAsync(ParkedCall call, IncomingReInvite reInvite)
    {
        var (answer, music) = _media.Answer(reInvite.Offer, call.Music);
        call.Music = music;
        await reInvite.AcceptAsync(_sdp.Answer(reInvite.Call, answer)).ConfigureAwait(false);
    }

    private async Task OnLegEndedAsync(ParkedCall call, CallEndReason reason)
    {
        if (reason == CallEndReason.LocalHangUp || !call.TryLeave()) return;
        _logger.LogInformation("{Party} left orbit {Orbit} ({Reason})", call.PartyText, call.Orbit, reason);
        _metrics.Increment("park_drops_total", "Parked calls that ended while parked", ("reason", reason == CallEndReason.NoAck ? "no-ack" : "hangup"));
        await FreeOrbitAsync(call).ConfigureAwait(false);
    }

    /// <summary>An orbit taken for a new park, or why none was: the status and warning text to refuse with.</summary>
    private readonly record struct OrbitClaim(string? Orbit, int Status = 0, string Reason = "");

    /// <summary>Takes a free orbit: the directed one when <paramref name="user"/> is an orbit, else one by the assignment rule.</summary>
    private OrbitClaim TakeOrbit(string? user)
    {
        if (user is not null && OrbitRange.IsOrbitNumber(user))
        {
            if (!_orbits.Owns(user)) return new(null, 404, $"orbit {user} is not served by {Pool}");
            return _orbits.TryTake(user) ? new(user) : new(null, 486, $"orbit {user} is in use");
        }
        return _orbits.TryAllocate(out var orbit) ? new(orbit) : new(null, 480, "no free orbit");
    }

    /// <summary>
    /// Takes the call out of the table and frees its orbit and timer, and its music unless <paramref name="keepMusic"/>
    /// (a retrieve keeps it playing until the call has moved). No SIP.
    /// </summary>
    private void FreeOrbit(ParkedCall call, bool keepMusic = false)
    {
        call.MarkSettled();
        call.StopTimer();
        if (!keepMusic) call.StopMusic();
        _parked.TryRemove(new KeyValuePair<string, ParkedCall>(call.Orbit, call));
        Announce(call, OrbitStatus.Free);
        _orbits.Release(call.Orbit);
        OrbitEvents?.OnOrbitEvent(call.Orbit, OrbitEventKind.OrbitFree);
    }

    private async Task FreeOrbitAsync(ParkedCall call, bool keepMusic = false)
    {
        FreeOrbit(call, keepMusic);
        try
        {
            await _journal.RemoveAsync(call.Orbit, Pool, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task JournalAsync(ParkedCall call)
    {
        if (call.Leg is not { } leg) return;
        await JournalAsync(call, leg.Dialog).ConfigureAwait(false);
    }

    /// <param name="ahead">CSeq numbers about to be used: a request is journaled before it leaves, so the journal's
    /// CSeq is never below the last one the party saw and a teardown BYE needs no guess.</param>
    private async Task JournalAsync(ParkedCall call, Dialog d, long ahead = 0)
    {
        ParkedDialogRecord record;
        lock (d)
        {
            record = new ParkedDialogRecord(call.Orbit, Pool, d.Id.CallId, d.Id.LocalTag, d.Id.RemoteTag, d.LocalAddress.ToString(),
                d.RemoteAddress.ToString(), d.RemoteTarget.ToString(), d.RouteSet.Select(r => r.ToString()).ToArray(), d.LocalCSeq + ahead,
                call.PartyText, call.Parker.Uri.WithoutHeaders().ToString(), call.Since, call.TimeoutDue, call.Attempts, ParkedDialogState.Parked);
        }
        try
        {
            await _journal.UpsertAsync(record, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Journaling orbit {Orbit} failed; a restart would not tear this call down", call.Orbit);
        }
    }

    /// <summary>Tells the parker what became of the call: a MESSAGE (text/plain) with the orbit in <c>X-Park-Orbit</c>.</summary>
    private async Task TellParkerAsync(ParkedCall call, string text) => await TellAsync(call.Parker.Uri, call.Orbit, text).ConfigureAwait(false);

    private async Task TellAsync(SipUri parker, string? orbit, string text)
    {
        if (_routes.Resolve(parker) is not { } route)
        {
            _logger.LogInformation("Could not tell {Parker} \"{Text}\": not reachable", parker, text);
            return;
        }
        try
        {
            // The Request-URI is the phone's contact; To names the parker as a user, by its address of record.
            var result = await _agent.SendMessageAsync(route.RequestUri, text, orbit is null ? [] : [(OrbitHeader, orbit)], route.Destination,
                from: orbit is null ? Identity : OrbitAddress(orbit), recipient: new NameAddress(parker.WithoutHeaders())).ConfigureAwait(false);
            _logger.LogInformation("Told {Parker} \"{Text}\": {Status}", parker, text, result.StatusCode);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning(e, "Telling {Parker} about orbit {Orbit} failed", parker, orbit);
        }
    }

    private NameAddress OrbitAddress(string orbit) => new(SipUri.Create("sip", orbit, Domain), $"Orbit {orbit}");

    private string Warning(string text) => $"399 {Pool} \"{text.Replace('"', '\'')}\"";

    /// <summary>Transfer out needs the parked party to say it supports Replaces and (when it lists methods) REFER.</summary>
    private static bool CanTransferOut(SipMessage fromParty)
    {
        var supportsReplaces = fromParty.OptionTags(HeaderNames.Supported).Contains("replaces", StringComparer.OrdinalIgnoreCase);
        var allow = fromParty.OptionTags(HeaderNames.Allow);
        return supportsReplaces && (allow.Count == 0 || allow.Contains(SipMethods.Refer, StringComparer.OrdinalIgnoreCase));
    }

    private void DeclareMetrics()
    {
        _metrics.Add("park_parks_total", "Calls parked", 0, ("way", "refer"));
        _metrics.Add("park_parks_total", "Calls parked", 0, ("way", "transfer"));
        _metrics.Add("park_retrieves_total", "Parked calls picked up", 0, ("how", "transfer"));
        _metrics.Add("park_retrieves_total", "Parked calls picked up", 0, ("how", "bridge"));
        _metrics.Add("park_timeouts_total", "Parked calls rung back to the parker", 0);
        _metrics.Add("park_fallbacks_total", "Parked calls sent to OnTimeoutUri or disconnected after the last ringback", 0, ("to", "uri"));
        _metrics.Add("park_fallbacks_total", "Parked calls sent to OnTimeoutUri or disconnected after the last ringback", 0, ("to", "disconnect"));
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _keepalive.DisposeAsync().ConfigureAwait(false);
        foreach (var call in _parked.Values) call.StopTimer();
        await _media.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}

/// <summary>One parked call as <c>GET /parked</c> and the tests see it.</summary>
public sealed record ParkedCallView(string Orbit, string ParkedParty, string Parker, DateTimeOffset Since, DateTimeOffset? TimeoutDue,
    int Attempts, ParkWay Way, string State);
