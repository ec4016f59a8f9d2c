using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Replication;
using SipCallPark.Pool.State;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Park;

/// <summary>
/// Bridged calls whose bridging process is gone (docs/design.md §7 "Bridged calls"): this pool's own, found in its bridge
/// journal when it starts (the process before it died), and those of the pools it backs up, known by replication, while
/// it serves for them (their phase is not Normal). The phones still talk — their media never went through a pool — but
/// nothing holds their signalling. A BYE from one phone that reaches this pool is answered here and passed to the other
/// phone as a BYE in its stored dialog, with the stored CSeq + 1; a request that cannot be passed on (a re-INVITE needs
/// the live session) is refused with 481 and ends both legs. An in-dialog request is taken only when its Call-ID and
/// both tags match a stored leg (docs/design.md §11); everything else goes on to the park application.
/// </summary>
internal sealed class StrandedBridges : ITransactionUser
{
    private const string RelayedMetric = "park_stranded_bridges_ended_total";
    private const string RelayedHelp = "Bridged calls of a dead process (this pool's before a restart, or a failed partner's) ended here, by how";

    private readonly ITransactionUser _park;
    private readonly SipUserAgent _agent;
    private readonly string _pool;
    private readonly IBridgeJournal _journal;
    private readonly IReplicaStore _replicas;
    private readonly IReadOnlyList<string> _partners;
    private readonly Func<string, bool> _servesFor;
    private readonly SipMetrics _metrics;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, BridgedCallRecord> _own;
    private readonly ConcurrentDictionary<(string Pool, string Id), byte> _ended = new();

    /// <param name="park">Where every request that is not for a stranded bridge goes.</param>
    /// <param name="journal">This pool's bridge journal: what it holds at construction belongs to the process before.</param>
    /// <param name="partners">The pools this one backs up.</param>
    /// <param name="servesFor">Whether this pool answers for a partner now (its phase is not Normal, docs/design.md §7).</param>
    public StrandedBridges(ITransactionUser park, SipStack stack, string pool, string domain, IBridgeJournal journal, IReplicaStore replicas,
        IReadOnlyList<string> partners, Func<string, bool> servesFor, SipMetrics metrics, ILogger<StrandedBridges> logger)
    {
        _park = park;
        _pool = pool;
        _journal = journal;
        _replicas = replicas;
        _partners = partners;
        _servesFor = servesFor;
        _metrics = metrics;
        _logger = logger;
        // Sends only (never attached to the stack): the BYEs in stored dialogs.
        _agent = new SipUserAgent(stack, new UserAgentOptions
        {
            Identity = new NameAddress(SipUri.Create("sip", "park", domain)),
            UserAgentName = $"SipCallPark park ({pool})",
        }, attach: false);
        _own = new ConcurrentDictionary<string, BridgedCallRecord>(journal.ForPool(pool).ToDictionary(r => r.Id, StringComparer.Ordinal), StringComparer.Ordinal);
        _metrics.Add(RelayedMetric, RelayedHelp, 0, ("how", "relayed"));
        _metrics.Add(RelayedMetric, RelayedHelp, 0, ("how", "both"));
        _metrics.Add(RelayedMetric, RelayedHelp, 0, ("how", "probe"));
        if (!_own.IsEmpty)
            _logger.LogWarning("Found {Count} bridged calls from before the restart: a BYE from either phone will be passed to the other", _own.Count);
    }

    /// <summary>
    /// After a restart: asks both phones of each bridge left by the process before whether their dialog still exists
    /// (an in-dialog OPTIONS, its CSeq journaled first). A phone that hung up while the pool was down answers 481, or
    /// nothing: its BYE went nowhere, so the other phone gets the BYE now and the bridge is forgotten. Returns the
    /// number of bridges ended.
    /// </summary>
    public async Task<int> ProbeOwnAsync(CancellationToken cancellationToken = default)
    {
        var ended = await Task.WhenAll(_own.Values.Select(bridge => ProbeAsync(bridge, cancellationToken))).ConfigureAwait(false);
        return ended.Count(e => e);
    }

    private async Task<bool> ProbeAsync(BridgedCallRecord bridge, CancellationToken cancellationToken)
    {
        var probing = bridge with
        {
            Parked = bridge.Parked with { LocalCSeq = bridge.Parked.LocalCSeq + 1 },
            Retriever = bridge.Retriever with { LocalCSeq = bridge.Retriever.LocalCSeq + 1 },
        };
        if (!_own.TryUpdate(bridge.Id, probing, bridge)) return false; // a BYE took it meanwhile
        await _journal.UpsertAsync(probing, cancellationToken).ConfigureAwait(false);
        var answers = await Task.WhenAll(SendAsync(bridge.Parked, SipMethods.Options), SendAsync(bridge.Retriever, SipMethods.Options)).ConfigureAwait(false);
        var gone = answers.Select((a, i) => (Leg: i == 0 ? probing.Parked : probing.Retriever, Gone: a.Failure is not null || a.StatusCode is 408 or 481))
            .Where(x => x.Gone).ToArray();
        if (gone.Length == 0 || !_ended.TryAdd((bridge.Pool, bridge.Id), 0)) return false;
        var match = new Match(probing, gone[0].Leg, gone[0].Leg == probing.Parked ? probing.Retriever : probing.Parked, Own: true);
        await ForgetAsync(match).ConfigureAwait(false);
        // Counted when the bridge is over, before its BYE: the phone may see that BYE before the pool sees the 200.
        _metrics.Increment(RelayedMetric, RelayedHelp, ("how", "probe"));
        // A phone that no longer answers gets no BYE (it would only wait out its own timeout).
        var result = gone.Length == 2 ? null : await ByeAsync(match.Other).ConfigureAwait(false);
        _logger.LogInformation("The call bridged from orbit {Orbit} before the restart lost a phone ({CallId}: {Answer}); the other leg {OtherCallId} got BYE: {Result}",
            bridge.Orbit, match.From.CallId, answers[gone[0].Leg == probing.Parked ? 0 : 1], match.Other.CallId, result?.ToString() ?? "not sent (both gone)");
        return true;
    }

    /// <summary>This pool's own bridges left by the process before, still waiting for a BYE.</summary>
    public int OwnCount => _own.Count;

    /// <summary>A stored bridge a request belongs to: the leg it came on and the other.</summary>
    private sealed record Match(BridgedCallRecord Bridge, BridgeLegRecord From, BridgeLegRecord Other, bool Own);

    public Task OnRequestAsync(ServerTransaction transaction)
    {
        var request = transaction.Request;
        if (request.To.Tag is null || Find(request) is not { } match) return _park.OnRequestAsync(transaction);
        return EndAsync(transaction, match);
    }

    private Match? Find(SipRequest request)
    {
        foreach (var bridge in _own.Values)
        {
            if (bridge.LegOf(request) is { } legs) return new Match(bridge, legs.From, legs.Other, Own: true);
        }
        foreach (var partner in _partners)
        {
            if (!_servesFor(partner)) continue;
            foreach (var bridge in _replicas.BridgesOf(partner))
            {
                if (bridge.LegOf(request) is { } legs) return new Match(bridge with { Pool = partner }, legs.From, legs.Other, Own: false);
            }
        }
        return null;
    }

    private async Task EndAsync(ServerTransaction transaction, Match match)
    {
        var request = transaction.Request;
        var bridge = match.Bridge;
        if (request.Method == SipMethods.Options)
        {
            // A phone checking that its call still exists: it does, between the phones.
            await transaction.SendResponseAsync(SipResponse.CreateFor(request, 200)).ConfigureAwait(false);
            return;
        }
        var first = _ended.TryAdd((bridge.Pool, bridge.Id), 0);
        var isBye = request.Method == SipMethods.Bye;
        // A BYE is always answered 200: when both phones hang up at once, the second one's call is over too.
        await transaction.SendResponseAsync(SipResponse.CreateFor(request, isBye ? 200 : 481)).ConfigureAwait(false);
        if (!first) return;
        await ForgetAsync(match).ConfigureAwait(false);
        var owner = match.Own ? "this pool before its restart" : bridge.Pool;
        // Counted when the bridge is over, before the BYE that ends it: the phone may see it before the pool sees the 200.
        _metrics.Increment(RelayedMetric, RelayedHelp, ("how", isBye ? "relayed" : "both"));
        if (isBye)
        {
            var result = await ByeAsync(match.Other).ConfigureAwait(false);
            _logger.LogInformation("BYE on {CallId} for the call bridged from orbit {Orbit} by {Owner} passed to the other leg {OtherCallId}: {Result}",
                request.CallId, bridge.Orbit, owner, match.Other.CallId, result);
            return;
        }
        // Nothing holds the session any more to pass this on (docs/design.md §7): the call ends on both sides.
        var results = await Task.WhenAll(ByeAsync(match.Other), ByeAsync(match.From)).ConfigureAwait(false);
        _logger.LogInformation("{Method} on {CallId} for the call bridged from orbit {Orbit} by {Owner} cannot be passed on; both legs got BYE: {Results}",
            request.Method, request.CallId, bridge.Orbit, owner, string.Join(", ", results.Select(r => r.ToString())));
    }

    private async Task ForgetAsync(Match match)
    {
        try
        {
            if (match.Own)
            {
                _own.TryRemove(match.Bridge.Id, out _);
                await _journal.RemoveAsync(match.Bridge.Id, _pool).ConfigureAwait(false);
            }
            else
            {
                await _replicas.RemoveBridgeAsync(match.Bridge.Pool, match.Bridge.Id).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Forgetting the bridged call {Id} of {Pool} failed", match.Bridge.Id, match.Bridge.Pool);
        }
    }

    /// <summary>A BYE in a stored leg: the stored CSeq is the highest the bridge used, so the BYE takes the next.</summary>
    private Task<ClientTransactionResult> ByeAsync(BridgeLegRecord leg) => SendAsync(leg, SipMethods.Bye);

    private async Task<ClientTransactionResult> SendAsync(BridgeLegRecord leg, string method)
    {
        var dialog = leg.ToDialog();
        SipRequest request;
        lock (dialog) request = dialog.CreateRequest(method);
        return await _agent.SendInDialogAsync(dialog, request).ConfigureAwait(false);
    }

    // ---- everything else is the park application's ---------------------------------------------------------------

    public Task OnAckAsync(IncomingMessage ack) => _park.OnAckAsync(ack);

    public Task OnCancelAsync(InviteServerTransaction invite, IncomingMessage cancel) => _park.OnCancelAsync(invite, cancel);

    public Task OnStrayResponseAsync(IncomingMessage response) => _park.OnStrayResponseAsync(response);

    public Task OnAdditionalSuccessAsync(InviteClientTransaction transaction, IncomingMessage response) =>
        _park.OnAdditionalSuccessAsync(transaction, response);

    public Task OnServerTransactionFailedAsync(ServerTransaction transaction, TransactionFailure failure) =>
        _park.OnServerTransactionFailedAsync(transaction, failure);
}
