using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Park;

/// <summary>
/// A retrieved call joined by third-party call control (RFC 3725): the park app stays in the signalling path of two
/// legs as a back-to-back user agent while their media flows directly. A re-INVITE on one leg is offered to the other
/// and answered with its answer, each leg keeping the park's own SDP session (<see cref="SdpLegs"/>); INFO and MESSAGE
/// are passed across; a BYE on one leg ends the other. If the pool
/// loses this state (a crash), the phones keep talking: their media never touched it (docs/design.md §5).
/// </summary>
internal sealed class CallBridge
{
    private readonly ILogger _logger;
    private readonly SdpLegs _sdp;
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private CallBridge(SipCall parked, SipCall retriever, string orbit, SdpLegs sdp, ILogger logger)
    {
        _sdp = sdp;
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

    public static CallBridge Join(SipCall parked, SipCall retriever, string orbit, SdpLegs sdp, ILogger logger)
    {
        var bridge = new CallBridge(parked, retriever, orbit, sdp, logger);
        bridge.Wire(parked, retriever);
        bridge.Wire(retriever, parked);
        _ = bridge.WatchAsync();
        return bridge;
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
        var result = await other.ReInviteAsync(offer).ConfigureAwait(false);
        if (result.IsSuccess) await reInvite.AcceptAsync(_sdp.Answer(from, SdpLegs.AnswerBack(other.RemoteSdp, placement))).ConfigureAwait(false);
        else await reInvite.RejectAsync(result.StatusCode is >= 300 and < 700 ? result.StatusCode : 500).ConfigureAwait(false);
    }

    private async Task<int> RelayAsync(SipRequest request, SipCall other)
    {
        if (request.Method is not (SipMethods.Info or SipMethods.Message)) return 200;
        var contentType = request.Headers.Get(HeaderNames.ContentType);
        var body = request.Body;
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
        _logger.LogInformation("Bridged call of orbit {Orbit} ended by {Side} ({CallId})", Orbit, first == Parked.Ended ? "the parked party" : "the retriever",
            (first == Parked.Ended ? Parked : Retriever).CallId);
        await other.HangUpAsync().ConfigureAwait(false);
        _ended.TrySetResult();
    }
}
