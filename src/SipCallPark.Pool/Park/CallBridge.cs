using Microsoft.Extensions.Logging;
using SipCallPark.Pool.State;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Park;

/// <summary>
/// A retrieved call joined by third-party call control (RFC 3725): the park app stays in the signalling path of two
/// legs as a back-to-back user agent while their media flows directly. A re-INVITE on one leg is offered to the other
/// and answered with its answer, each leg keeping the park's own SDP session (<see cref="SdpLegs"/>); INFO and MESSAGE
/// are passed across; a BYE on one leg ends the other. If the pool
/// loses this state (a crash), the phones keep talking: their media never touched it (docs/design.md §5). Both legs'
/// dialogs are journaled (and so replicated) while the bridge lasts, each request the bridge sends counted before it
/// leaves, so the pool after a restart, or its backup, can still pass one phone's BYE to the other
/// (<see cref="StrandedBridges"/>, docs/design.md §7 "Bridged calls").
/// </summary>
internal sealed class CallBridge
{
    private readonly ILogger _logger;
    private readonly SdpLegs _sdp;
    private readonly BridgeJournaling _journaling;
    private readonly DateTimeOffset _since;
    private volatile bool _ending;
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private CallBridge(SipCall parked, SipCall retriever, string orbit, SdpLegs sdp, BridgeJournaling journaling, ILogger logger)
    {
        _sdp = sdp;
        _journaling = journaling;
        _since = journaling.Time.GetUtcNow();
        Parked = parked;
        Retriever = retriever;
        Orbit = orbit;
        _logger = logger;
    }

    public SipCall Parked { get; }

    public SipCall Retriever { get; }

    public string Orbit { get; }

    /// <summary>Completes once both legs are over.</summary>
    public Task Ended => _ended.Task;

    /// <summary>The bridge's key in the journal: the parked leg's Call-ID.</summary>
    public string Id => Parked.CallId;

    /// <summary>The bridge's record, <paramref name="sending"/>'s CSeq counted one ahead (a request about to leave on it).</summary>
    public BridgedCallRecord Record(SipCall? sending = null) =>
        new(_journaling.Pool, Id, Orbit, _since, BridgeLegRecord.Of(Parked.Dialog, sending == Parked ? 1 : 0),
            BridgeLegRecord.Of(Retriever.Dialog, sending == Retriever ? 1 : 0));

    public static CallBridge Join(SipCall parked, SipCall retriever, string orbit, SdpLegs sdp, BridgeJournaling journaling, ILogger logger)
    {
        var bridge = new CallBridge(parked, retriever, orbit, sdp, journaling, logger);
        bridge.Wire(parked, retriever);
        bridge.Wire(retriever, parked);
        bridge.Journaled = bridge.JournalAsync();
        _ = bridge.WatchAsync();
        return bridge;
    }

    /// <summary>Completes once the bridge's first record is durable (tests wait on it).</summary>
    public Task Journaled { get; private set; } = Task.CompletedTask;

    /// <summary>Writes the record; with <paramref name="sending"/>, before a request leaves on that leg (its CSeq counted).</summary>
    private async Task JournalAsync(SipCall? sending = null)
    {
        if (_ending) return; // the record is going: a late relay must not bring it back
        try
        {
            await _journaling.Journal.UpsertAsync(Record(sending)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Journaling the bridged call of orbit {Orbit} failed; after a crash its BYE could not be passed on", Orbit);
        }
    }

    private void Wire(SipCall from, SipCall to)
    {
        from.OnReInvite = reInvite => RelayReInviteAsync(reInvite, to);
        from.OnRequest = request => RelayAsync(request, to);
    }

    private async Task RelayReInviteAsync(IncomingReInvite reInvite, SipCall other)
    {
        var from = reInvite.Call;
        if (reInvite.Offer is null)
        {
            // An offerless re-INVITE asks for our offer: the other leg's current session description is it.
            await reInvite.AcceptAsync(other.RemoteSdp is { } current ? _sdp.Offer(from, current).Sdp : null).ConfigureAwait(false);
            return;
        }
        var (offer, placement) = _sdp.Offer(other, reInvite.Offer);
        await JournalAsync(sending: other).ConfigureAwait(false);
        var result = await other.ReInviteAsync(offer).ConfigureAwait(false);
        if (result.IsSuccess) await reInvite.AcceptAsync(_sdp.Answer(from, SdpLegs.AnswerBack(other.RemoteSdp, placement))).ConfigureAwait(false);
        else await reInvite.RejectAsync(result.StatusCode is >= 300 and < 700 ? result.StatusCode : 500).ConfigureAwait(false);
    }

    private async Task<int> RelayAsync(SipRequest request, SipCall other)
    {
        if (request.Method is not (SipMethods.Info or SipMethods.Message)) return 200;
        var contentType = request.Headers.Get(HeaderNames.ContentType);
        var body = request.Body;
        await JournalAsync(sending: other).ConfigureAwait(false);
        var result = await other.SendRequestAsync(request.Method, r =>
        {
            if (contentType is not null && !body.IsEmpty) r.SetBody(contentType, body.ToArray());
        }).ConfigureAwait(false);
        return result.Response?.StatusCode ?? 408;
    }

    private async Task WatchAsync()
    {
        var first = await Task.WhenAny(Parked.Ended, Retriever.Ended).ConfigureAwait(false);
        var other = first == Parked.Ended ? Retriever : Parked;
        _ending = true;
        _logger.LogInformation("Bridged call of orbit {Orbit} ended by {Side} ({CallId})", Orbit, first == Parked.Ended ? "the parked party" : "the retriever",
            (first == Parked.Ended ? Parked : Retriever).CallId);
        await other.HangUpAsync().ConfigureAwait(false);
        try
        {
            await _journaling.Journal.RemoveAsync(Id, _journaling.Pool).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Dropping the ended bridged call of orbit {Orbit} from the journal failed", Orbit);
        }
        _ended.TrySetResult();
    }
}

/// <summary>Where a <see cref="CallBridge"/> journals its legs: the pool's bridge journal, under the pool's name.</summary>
internal sealed record BridgeJournaling(IBridgeJournal Journal, string Pool, TimeProvider Time);
