using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Proxy;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Hosting;

/// <summary>
/// The pool's transaction user: every request goes through loop detection and the <see cref="ProxyRouter"/>, then
/// to the registrar, the local OPTIONS answer, the park service, or the <see cref="StatefulProxy"/>. Work runs off
/// the receive path so that one slow decision (a SQLite commit, a fork) never holds up the socket.
/// </summary>
public sealed class PoolDispatcher : ITransactionUser
{
    private const string Allow = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, REFER, NOTIFY, MESSAGE, INFO, UPDATE, SUBSCRIBE";

    private readonly SipStack _stack;
    private readonly ProxyRouter _router;
    private readonly StatefulProxy _proxy;
    private readonly Registrar.Registrar _registrar;
    private readonly Auth.DigestAuthenticator _auth;
    private readonly PoolIdentity _self;
    private readonly ILogger _logger;

    public PoolDispatcher(SipStack stack, ProxyRouter router, StatefulProxy proxy, Registrar.Registrar registrar,
        Auth.DigestAuthenticator auth, PoolIdentity self, ILogger<PoolDispatcher> logger)
    {
        _stack = stack;
        _router = router;
        _proxy = proxy;
        _registrar = registrar;
        _auth = auth;
        _self = self;
        _logger = logger;
    }

    /// <summary>The DR phases this pool drives, announced in <c>X-DR-Phase</c> of its OPTIONS answers.</summary>
    public Func<IEnumerable<(string Pool, Resiliency.DrPhase Phase)>>? DrivenPhases { get; set; }

    /// <summary>The <c>Server</c> header of the pool's own answers: null for <c>SipCallPark &lt;pool&gt;</c>, empty for none.</summary>
    public string? ServerHeader { get; init; }

    /// <summary>The park service; until one is attached, requests for it get 503.</summary>
    public ITransactionUser? ParkService { get; set; }

    /// <summary>Per-source limit on requests entering the pool; null admits everything.</summary>
    public RateLimiting.SourceRateLimiter? RateLimiter { get; init; }

    /// <summary>Pool-wide load shedding; null admits everything however far behind the pool is.</summary>
    public RateLimiting.OverloadGuard? Overload { get; init; }

    /// <summary>Tells the partner pool's requests (signed, docs/design.md §11 "Trust") from users'; they are neither
    /// rate-limited nor shed, and only they learn the DR phases. Null: no request is the partner's.</summary>
    public Pairing.PartnerAuthenticator? Partner { get; init; }

    /// <summary>The calls proxied here: in-dialog requests passing through note their CSeq in it.</summary>
    public ProxiedDialogs? Dialogs { get; init; }

    /// <summary>Refuses a park transfer while keeping the call (docs/design.md §7); without it such a REFER gets 403.</summary>
    internal InDialogReferRefusal? ParkTransferRefusal { get; init; }

    public Task OnRequestAsync(ServerTransaction transaction)
    {
        // The partner's health probe goes before user traffic: answered here on the receive path, not queued behind a
        // flood (a probe stuck in our queue would make the partner declare this pool down).
        if (transaction.Request.Method == SipMethods.Options && IsFromPartner(transaction))
            return RouteAdmittedAsync(transaction, exempt: true);
        _ = Task.Run(() => RouteAsync(transaction));
        return Task.CompletedTask;
    }

    /// <summary>With mutual TLS, the partner test that also knows the connection (<see cref="Pairing.PartnerCertificateCheck"/>);
    /// null: the signature alone decides.</summary>
    public Proxy.IPartnerRouting? PartnerTest { get; init; }

    private bool IsFromPartner(ServerTransaction transaction) =>
        PartnerTest is { } test ? test.IsFromPartner(transaction.Request, transaction.Incoming.Remote) : Partner?.IsFromPartner(transaction.Request) == true;

    /// <summary>
    /// Requests neither the rate limit nor load shedding ever refuse: a CANCEL only ends a transaction the source
    /// already holds (refusing it would keep the INVITE ringing), and the partner pool's requests carry calls and
    /// health probes.
    /// </summary>
    private bool IsExempt(ServerTransaction transaction) => transaction.Request.Method == SipMethods.Cancel || IsFromPartner(transaction);

    /// <summary>A request over its source's rate gets 503 with Retry-After (RFC 3261 §21.5.4).</summary>
    private bool OverRateLimit(SipEndPoint source, bool exempt) =>
        RateLimiter is { } limiter && !exempt && !limiter.TryAcquire(source.Address.Address);

    private async Task RouteAsync(ServerTransaction transaction)
    {
        var exempt = IsExempt(transaction);
        if (Overload is not { } overload)
        {
            await RouteAdmittedAsync(transaction, exempt).ConfigureAwait(false);
            return;
        }
        try
        {
            // Only a new request may be shed: refusing an in-dialog one (a BYE, a re-INVITE) would leave a call up
            // and save nothing.
            var mayShed = !exempt && transaction.Request.To.Tag is null;
            var reason = overload.Enter(transaction.Incoming.ReceivedAt, mayShed);
            if (reason == RateLimiting.OverloadReason.None) await RouteAdmittedAsync(transaction, exempt).ConfigureAwait(false);
            else await RefuseBusyAsync(transaction, overload.Options.RetryAfter, "the pool is overloaded").ConfigureAwait(false);
        }
        finally
        {
            overload.Exit();
        }
    }

    /// <summary>503 with Retry-After in whole seconds (RFC 3261 §21.5.4), for the rate limit and for load shedding.</summary>
    private async Task RefuseBusyAsync(ServerTransaction transaction, TimeSpan retryAfter, string warning)
    {
        try
        {
            var busy = SipResponse.CreateFor(transaction.Request, 503, toTag: transaction.Request.To.Tag is null ? _stack.Ids.NewTag() : null);
            busy.Headers.Add(HeaderNames.RetryAfter, ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture));
            busy.Headers.Add(HeaderNames.Warning, $"399 {_self.Name} \"{warning}\"");
            await transaction.SendResponseAsync(busy).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Answering {Method} {CallId} with 503 failed", transaction.Method, transaction.CallId);
        }
    }

    private async Task RouteAdmittedAsync(ServerTransaction transaction, bool exempt)
    {
        var request = transaction.Request;
        try
        {
            if (OverRateLimit(transaction.Incoming.Remote, exempt))
            {
                await RefuseBusyAsync(transaction, RateLimiter!.Options.RetryAfter, "too many requests from this address").ConfigureAwait(false);
                return;
            }
            // §16.3 step 5: an extension the sender requires of proxies, and this proxy supports none.
            if (SipRequestChecks.CheckProxyRequire(request, []) is { } unsupported)
            {
                await transaction.SendResponseAsync(unsupported.ToResponse(request, request.To.Tag is null ? _stack.Ids.NewTag() : null)).ConfigureAwait(false);
                return;
            }
            if (_proxy.IsLoop(request))
            {
                await ReplyAsync(transaction, 482, "the request came back to this pool").ConfigureAwait(false);
                return;
            }
            switch (_router.Decide(request, transaction.Incoming.Remote))
            {
                case ProxyDecision.Respond respond:
                    await ReplyAsync(transaction, respond.StatusCode, respond.Warning).ConfigureAwait(false);
                    break;
                case ProxyDecision.Challenge challenge:
                    var needed = SipResponse.CreateFor(request, 407, toTag: _stack.Ids.NewTag());
                    _auth.AddChallenges(needed, challenge.Stale);
                    await transaction.SendResponseAsync(needed).ConfigureAwait(false);
                    break;
                case ProxyDecision.Local { Service: LocalService.Register }:
                    await transaction.SendResponseAsync(await _registrar.HandleAsync(request, transaction.Incoming.Remote).ConfigureAwait(false)).ConfigureAwait(false);
                    break;
                case ProxyDecision.Local { Service: LocalService.Options }:
                    var ok = SipResponse.CreateFor(request, 200, toTag: _stack.Ids.NewTag());
                    ok.Headers.Add(HeaderNames.Allow, Allow);
                    ok.Headers.Add(HeaderNames.AllowEvents, Blf.DialogEventNotifier.Package);
                    ok.Headers.Add(HeaderNames.Accept, "application/sdp");
                    if (ServerHeader is not "") ok.Headers.Add(HeaderNames.Server, ServerHeader ?? $"SipCallPark {_self.Name}");
                    // The DR phases are the partner's business only, and its answer is signed so it can believe them.
                    if (IsFromPartner(transaction) && Partner is { } partner)
                    {
                        if (DrivenPhases?.Invoke().ToArray() is { Length: > 0 } phases)
                            ok.Headers.Add(PartnerWatch.PhaseHeader, string.Join(", ", phases.Select(p => $"{p.Pool}={p.Phase}")));
                        partner.Sign(ok);
                    }
                    await transaction.SendResponseAsync(ok).ConfigureAwait(false);
                    break;
                case ProxyDecision.Local { Service: LocalService.Park }:
                    if (ParkService is { } park) await park.OnRequestAsync(transaction).ConfigureAwait(false);
                    else await ReplyAsync(transaction, 503, "the park service is not running on this pool").ConfigureAwait(false);
                    break;
                case ProxyDecision.EndParkTransfer end:
                    if (ParkTransferRefusal is { } refusal && refusal.Knows(request)) await refusal.RefuseAsync(transaction, end.Warning).ConfigureAwait(false);
                    else await ReplyAsync(transaction, 403, end.Warning).ConfigureAwait(false);
                    break;
                case ProxyDecision.Forward forward:
                    if (request.To.Tag is not null) Dialogs?.NoteInDialog(request);
                    await _proxy.ForwardAsync(transaction, forward).ConfigureAwait(false);
                    break;
            }
        }
        catch (SipParseException e)
        {
            await ReplyAsync(transaction, 400, e.Message).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Routing {Method} {CallId} failed", request.Method, request.CallId);
            if (transaction.LastResponse is not { IsFinal: true }) await ReplyAsync(transaction, 500, "internal error").ConfigureAwait(false);
        }
    }

    public async Task OnAckAsync(IncomingMessage ack)
    {
        var request = (SipRequest)ack.Message;
        try
        {
            var decision = _router.Decide(request, ack.Remote);
            switch (decision)
            {
                case ProxyDecision.Forward { Targets.Count: > 0 } forward:
                    await _proxy.ForwardAckAsync(ack, forward.Targets[0].Destination).ConfigureAwait(false);
                    break;
                case ProxyDecision.Local { Service: LocalService.Park } when ParkService is { } park:
                    await park.OnAckAsync(ack).ConfigureAwait(false);
                    break;
                default:
                    _logger.LogDebug("ACK {CallId} has nowhere to go: {Decision}", request.CallId, decision);
                    break;
            }
        }
        catch (SipParseException e)
        {
            _logger.LogInformation("Dropped ACK {CallId}: {Error}", request.CallId, e.Message);
        }
    }

    public async Task OnCancelAsync(InviteServerTransaction invite, IncomingMessage cancel)
    {
        if (ParkService is { } park && IsForPark(invite.Request)) await park.OnCancelAsync(invite, cancel).ConfigureAwait(false);
        else await _proxy.CancelAsync(invite).ConfigureAwait(false);
    }

    public async Task OnStrayResponseAsync(IncomingMessage response)
    {
        // More than our own Via: a response the proxy relayed. Only ours: a response to the park service's own request.
        if (response.Message.Vias.Count > 1) await _proxy.ForwardStrayResponseAsync(response).ConfigureAwait(false);
        else if (ParkService is { } park) await park.OnStrayResponseAsync(response).ConfigureAwait(false);
    }

    public async Task OnAdditionalSuccessAsync(InviteClientTransaction transaction, IncomingMessage response)
    {
        if (response.Message.Vias.Count > 1) await _proxy.ForwardAdditionalSuccessAsync(transaction, response).ConfigureAwait(false);
        else if (ParkService is { } park) await park.OnAdditionalSuccessAsync(transaction, response).ConfigureAwait(false);
    }

    public Task OnServerTransactionFailedAsync(ServerTransaction transaction, TransactionFailure failure)
    {
        _logger.LogInformation("{Method} {CallId} server transaction failed: {Failure}", transaction.Method, transaction.CallId, failure);
        return Task.CompletedTask;
    }

    private bool IsForPark(SipRequest request) => request.RequestUri.User is { } user && _router.IsParkTarget(user);

    private Task ReplyAsync(ServerTransaction transaction, int status, string? warning)
    {
        var response = SipResponse.CreateFor(transaction.Request, status, toTag: transaction.Request.To.Tag is null ? _stack.Ids.NewTag() : null);
        if (warning is not null) response.Headers.Add(HeaderNames.Warning, $"399 {_self.Name} \"{warning.Replace('"', '\'')}\"");
        return transaction.SendResponseAsync(response);
    }
}
