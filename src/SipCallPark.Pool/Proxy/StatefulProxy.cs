using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Proxy;

/// <summary>
/// The forwarding half of the pool's transaction-stateful proxy (RFC 3261 §16.6–16.11): forks a request to the
/// targets the <see cref="ProxyRouter"/> chose, each in its own client transaction, and runs the response context
/// (see <see cref="ResponseContext"/>); relays CANCEL, the ACK of a 2xx and stray responses; detects loops.
/// The pool's transaction user calls it: <see cref="ForwardAsync"/> from OnRequestAsync, <see cref="CancelAsync"/>
/// from OnCancelAsync, <see cref="ForwardAckAsync"/> from OnAckAsync, <see cref="ForwardStrayResponseAsync"/> from
/// OnStrayResponseAsync and <see cref="ForwardAdditionalSuccessAsync"/> from OnAdditionalSuccessAsync.
/// 100 Trying upstream is the INVITE server transaction's own (it sends one when we stay silent for 200 ms).
/// </summary>
public sealed class StatefulProxy
{
    private const int DefaultTimerCSeconds = 181;

    private readonly ConcurrentDictionary<ServerTransaction, ResponseContext> _contexts = new();
    private readonly ConcurrentDictionary<ClientTransaction, (ResponseContext Context, ProxyBranch Branch)> _branches = new();
    private readonly SipStack _stack;
    private readonly PoolIdentity _self;
    private readonly RecordRouteToken _tokens;
    private readonly ILogger _logger;
    private readonly IPartnerSigner? _signer;

    /// <param name="tokens">Mints the token our Record-Route carries, which lets the dialog's later requests through.</param>
    /// <param name="timerC">Timer C per INVITE branch; more than 3 minutes (§16.8). Default 181 s.</param>
    /// <param name="signer">Signs copies for the paired pool and strips signatures from the others; null forwards
    /// copies as they came (a pool with no partner, the proxy's own tests).</param>
    public StatefulProxy(SipStack stack, PoolIdentity self, RecordRouteToken tokens, ILogger logger, TimeSpan? timerC = null,
        IPartnerSigner? signer = null)
    {
        _signer = signer;
        _stack = stack ?? throw new ArgumentNullException(nameof(stack));
        _self = self ?? throw new ArgumentNullException(nameof(self));
        _tokens = tokens ?? throw new ArgumentNullException(nameof(tokens));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        TimerC = timerC ?? TimeSpan.FromSeconds(DefaultTimerCSeconds);
        if (TimerC <= TimeSpan.FromMinutes(3))
            throw new ArgumentOutOfRangeException(nameof(timerC), TimerC, "Timer C must be longer than 3 minutes (RFC 3261 §16.8)");
    }

    public TimeSpan TimerC { get; }

    /// <summary>Response contexts still running: forwarded requests whose branches have not all ended.</summary>
    public int ActiveContexts => _contexts.Count;

    /// <summary>Raised for each 2xx to an INVITE that went upstream: a dialog set up through this pool.</summary>
    public event Action<SipRequest, SipResponse>? InviteSucceeded;

    private void OnInviteSucceeded(ServerTransaction server, SipResponse success)
    {
        try
        {
            InviteSucceeded?.Invoke(server.Request, success);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Noting the dialog of {CallId} failed", server.CallId);
        }
    }

    /// <summary>Raised when a response context ends, with the status of the final it sent upstream (0 for none).</summary>
    internal event Action<ServerTransaction, int>? ContextCompleted;

    /// <summary>
    /// Forwards the request of <paramref name="serverTransaction"/> to every target of <paramref name="decision"/> in
    /// parallel (§16.6) and returns once each copy is handed to its client transaction; responses are handled as
    /// they come. Each copy gets the target's Request-URI (unless the decision follows a Route), Max-Forwards one
    /// lower, our Record-Route when asked (two of them when it leaves over another transport or interface than it
    /// came in, RFC 5658), and our Via with a fresh branch carrying the loop-detection hash and <c>rport</c>.
    /// </summary>
    public async Task ForwardAsync(ServerTransaction serverTransaction, ProxyDecision.Forward decision)
    {
        ArgumentNullException.ThrowIfNull(serverTransaction);
        ArgumentNullException.ThrowIfNull(decision);
        var request = serverTransaction.Request;
        if (decision.Targets.Count == 0) throw new ArgumentException("Nothing to forward to", nameof(decision));
        if (request.MaxForwards is 0)
        {
            await serverTransaction.SendResponseAsync(SipResponse.CreateFor(request, 483, toTag: _stack.Ids.NewTag())).ConfigureAwait(false);
            return;
        }

        var loopHash = ProxyMessages.LoopHash(request, IsOurUri);
        var branches = new List<ProxyBranch>();
        var insecureOnly = 0;
        foreach (var target in decision.Targets)
        {
            // Transport selection (issue 16, RFC 3261 §26.2.2, RFC 5630 §3.1.3): a sips: request or target goes only
            // over TLS; forwarding it over UDP or TCP would drop the protection its sender asked for.
            if ((request.RequestUri.IsSecure || target.RequestUri.IsSecure) && !ProxyMessages.IsSecure(target.Destination.Protocol))
            {
                insecureOnly++;
                _logger.LogInformation("Not forwarding {Method} {CallId} to {Destination}: a sips: request goes only over TLS",
                    request.Method, request.CallId, target.Destination);
                continue;
            }
            if (_stack.Transport.ChannelFor(target.Destination.Protocol, target.Destination.Address.AddressFamily) is null)
            {
                _logger.LogWarning("No {Protocol} channel to forward {Method} {CallId} to {Destination}", target.Destination.Protocol,
                    request.Method, request.CallId, target.Destination);
                continue;
            }
            branches.Add(new ProxyBranch(target, Copy(serverTransaction.Incoming, target, decision, loopHash), _stack.Time));
        }
        if (branches.Count == 0 && insecureOnly > 0)
        {
            var refused = SipResponse.CreateFor(request, 480, toTag: _stack.Ids.NewTag());
            refused.Headers.Add(HeaderNames.Warning, $"399 {_self.Name} \"{request.RequestUri.AddressOfRecord} is reachable only over UDP or TCP, not over TLS as sips: requires\"");
            await serverTransaction.SendResponseAsync(refused).ConfigureAwait(false);
            return;
        }
        if (branches.Count == 0)
        {
            await serverTransaction.SendResponseAsync(SipResponse.CreateFor(request, 500, toTag: _stack.Ids.NewTag())).ConfigureAwait(false);
            return;
        }

        var context = new ResponseContext(serverTransaction, _stack, TimerC, _logger, OnContextCompleted, OnInviteSucceeded);
        context.SetBranches([.. branches]);
        if (!_contexts.TryAdd(serverTransaction, context))
            throw new InvalidOperationException($"{request.Method} {request.CallId} is already being forwarded");
        if (serverTransaction.LastResponse is { IsFinal: true })
        {
            // A CANCEL (answered with 487) overtook the routing decision: nothing is left to forward.
            _contexts.TryRemove(serverTransaction, out _);
            _logger.LogInformation("Not forwarding {Method} {CallId}: already answered {Status}", request.Method, request.CallId,
                serverTransaction.LastResponse.StatusCode);
            return;
        }
        _logger.LogInformation("Forwarding {Method} {CallId} to {Targets}", request.Method, request.CallId,
            string.Join(", ", branches.Select(b => $"{b.Request.RequestUri} via {b.Target.Destination}")));
        await Task.WhenAll(branches.Select(b => context.StartAsync(b, t => _branches[t] = (context, b)))).ConfigureAwait(false);
    }

    /// <summary>
    /// §16.10: upstream cancelled the INVITE (the layer already answered the CANCEL with 200). Every pending branch
    /// is cancelled and their 487 flows upstream as the best response; with nothing forwarded we answer 487 ourselves.
    /// </summary>
    public async Task CancelAsync(InviteServerTransaction invite)
    {
        ArgumentNullException.ThrowIfNull(invite);
        if (!_contexts.TryGetValue(invite, out var context))
        {
            _logger.LogInformation("CANCEL for {CallId} with nothing forwarded: 487", invite.CallId);
            await invite.SendResponseAsync(SipResponse.CreateFor(invite.Request, 487, toTag: _stack.Ids.NewTag())).ConfigureAwait(false);
            // ForwardAsync registers its context, then looks for a final: after our 487, one of us sees the other.
            if (!_contexts.TryGetValue(invite, out context)) return;
        }
        var cancelled = context.Cancel();
        _logger.LogInformation("CANCEL for {CallId}: {Count} pending branches cancelled", invite.CallId, cancelled);
    }

    /// <summary>
    /// §16.3 step 4: the request already passed here (one of its Vias is ours) and what decides its routing has not
    /// changed since (the loop hash in that Via's branch matches the request now). The caller answers 482.
    /// A request that came back changed — another Request-URI, Route or tag — is a spiral, not a loop.
    /// </summary>
    public bool IsLoop(SipRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? hash = null;
        foreach (var via in request.Vias)
        {
            if (ProxyMessages.LoopHashOf(via.Branch) is not { } carried || !IsOurAddress(via.Host, via.Port)) continue;
            hash ??= ProxyMessages.LoopHash(request, IsOurUri);
            if (!string.Equals(carried, hash, StringComparison.Ordinal)) continue;
            _logger.LogWarning("Loop detected: {Method} {CallId} came back through {Via} unchanged", request.Method, request.CallId, via);
            return true;
        }
        return false;
    }

    /// <summary>
    /// Relays the ACK of a 2xx (a transaction of its own, so it has no response context) towards
    /// <paramref name="next"/>, chosen by the router from the Route or the Request-URI after our Route was consumed:
    /// Max-Forwards one lower (dropped at 0), our Via on top.
    /// </summary>
    public async Task ForwardAckAsync(IncomingMessage ack, SipEndPoint next)
    {
        ArgumentNullException.ThrowIfNull(ack);
        var request = (SipRequest)ack.Message;
        if (request.MaxForwards is 0)
        {
            _logger.LogInformation("Dropped ACK {CallId}: Max-Forwards is 0", request.CallId);
            return;
        }
        var copy = ProxyMessages.CopyFor(request, request.RequestUri);
        copy.Headers.Prepend(HeaderNames.Via, _stack.Transport.CreateVia(next.Protocol, _stack.Ids.NewBranch(), next.Address.AddressFamily).ToString());
        _signer?.PrepareForward(copy, toPartner: false);
        if (!await _stack.Transport.SendRequestAsync(copy, next).ConfigureAwait(false))
            _logger.LogInformation("Could not relay ACK {CallId} to {Next}", request.CallId, next);
    }

    /// <summary>
    /// §16.7 for a response that matched no client transaction — typically a 2xx retransmitted after ours ended:
    /// relayed statelessly when its top Via is ours (that Via removed, sent where the next Via says with
    /// received/rport), dropped otherwise.
    /// </summary>
    public async Task ForwardStrayResponseAsync(IncomingMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var message = (SipResponse)response.Message;
        if (message.TopVia is not { } top || !IsOurAddress(top.Host, top.Port))
        {
            _logger.LogDebug("Dropped stray {Status} {CallId}: the top Via is not ours", message.StatusCode, message.CallId);
            return;
        }
        if (ProxyMessages.WithoutTopVia(message) is not { } upstream) return;
        await RelayAsync(upstream).ConfigureAwait(false);
    }

    /// <summary>
    /// A 2xx that reached one of our INVITE client transactions after its first one (a retransmission): it goes
    /// upstream like the first, through the response context while there is one, statelessly after.
    /// </summary>
    public Task ForwardAdditionalSuccessAsync(InviteClientTransaction transaction, IncomingMessage response)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(response);
        if (!_branches.TryGetValue(transaction, out var owner)) return ForwardStrayResponseAsync(response);
        return ProxyMessages.WithoutTopVia((SipResponse)response.Message) is { } upstream
            ? owner.Context.OnSuccessAsync(owner.Branch, upstream)
            : Task.CompletedTask;
    }

    private SipRequest Copy(IncomingMessage incoming, ProxyTarget target, ProxyDecision.Forward decision, string loopHash)
    {
        var original = (SipRequest)incoming.Message;
        var copy = ProxyMessages.CopyFor(original, decision.FollowsRoute ? original.RequestUri : target.RequestUri);
        var outbound = target.Destination;
        if (decision.RecordRoute)
        {
            // docs/design.md §11: the token proves later in-dialog requests belong to a dialog set up through us.
            var token = _tokens.Mint(original.CallId, original.From.Tag);
            // §16.6 step 4: a sips: Request-URI gets a sips: Record-Route, so the dialog stays on TLS end to end.
            var secure = original.RequestUri.IsSecure;
            var inbound = ProxyMessages.RecordRoute(incoming.Remote.Protocol, incoming.Local, token, secure);
            var outLocal = _stack.Transport.ChannelFor(outbound.Protocol, outbound.Address.AddressFamily)!.LocalEndPoint;
            var outgoing = ProxyMessages.RecordRoute(outbound.Protocol, outLocal, token, secure);
            // RFC 5658: leaving by another transport or interface, the UAC's side and the UAS's side each get theirs.
            copy.Headers.Prepend(HeaderNames.RecordRoute, inbound);
            if (outgoing != inbound) copy.Headers.Prepend(HeaderNames.RecordRoute, outgoing);
        }
        var branch = ProxyMessages.BranchWithLoopHash(_stack.Ids.NewBranch(), loopHash);
        copy.Headers.Prepend(HeaderNames.Via, _stack.Transport.CreateVia(outbound.Protocol, branch, outbound.Address.AddressFamily).ToString());
        _signer?.PrepareForward(copy, target.ToPartner);
        return copy;
    }

    private async Task RelayAsync(SipResponse response)
    {
        var next = response.TopVia!;
        if (ProxyMessages.ResponseDestination(next) is not { } destination ||
            _stack.Transport.ChannelFor(destination.Protocol, destination.Address.AddressFamily) is not { } channel)
        {
            _logger.LogInformation("Dropped stray {Status} {CallId}: cannot reach {Via}", response.StatusCode, response.CallId, next);
            return;
        }
        // The transport answers along a request's path; this stands in for the request the response belongs to.
        var path = new IncomingMessage(response, destination, channel.LocalEndPoint, 0, _stack.Time.GetUtcNow());
        _logger.LogDebug("Relaying stray {Status} {CallId} to {Destination}", response.StatusCode, response.CallId, destination);
        await _stack.Transport.SendResponseAsync(response, path).ConfigureAwait(false);
    }

    private void OnContextCompleted(ResponseContext context)
    {
        _contexts.TryRemove(new KeyValuePair<ServerTransaction, ResponseContext>(context.Server, context));
        foreach (var branch in context.Branches)
        {
            if (branch.Transaction is { } t) _branches.TryRemove(t, out _);
        }
        _logger.LogDebug("Response context of {Method} {CallId} ended with {Status}; {Active} active", context.Server.Method,
            context.Server.CallId, context.FinalStatus, ActiveContexts);
        ContextCompleted?.Invoke(context.Server, context.FinalStatus);
    }

    private bool IsOurUri(SipUri uri) => uri.IsSip && IsOurAddress(uri.Host, uri.Port);

    /// <summary>One of our channels' addresses or a listening address of the pool (port 5060 when absent).</summary>
    private bool IsOurAddress(string host, int? port)
    {
        if (!IPAddress.TryParse(host.Trim('[', ']'), out var address)) return false;
        var p = port ?? 5060;
        foreach (var channel in _stack.Transport.Channels)
        {
            if (channel.LocalEndPoint.Port == p && channel.LocalEndPoint.Address.Equals(address)) return true;
        }
        return _self.IsMe(SipUri.Create("sip", null, host, port));
    }
}
