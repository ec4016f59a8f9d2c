using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;

namespace SipCallPark.Sip.UserAgents;

/// <summary>
/// A REFER received (RFC 3515), inside a call (<see cref="Call"/>) or on its own (a REFER to a service such as the
/// park server). Accepting answers 202 and returns the notifier through which the recipient reports progress with
/// sipfrag NOTIFYs until a final status; <see cref="FollowAsync"/> does what a transferee does.
/// </summary>
public sealed class IncomingRefer
{
    private readonly SipUserAgent _agent;

    internal IncomingRefer(SipUserAgent agent, ServerTransaction transaction, SipCall? call, NameAddress referTo)
    {
        _agent = agent;
        Transaction = transaction;
        Call = call;
        ReferTo = referTo;
    }

    public ServerTransaction Transaction { get; }

    public SipRequest Request => Transaction.Request;

    /// <summary>The call the REFER came in, or null for an out-of-dialog REFER.</summary>
    public SipCall? Call { get; }

    public NameAddress ReferTo { get; }

    public NameAddress? ReferredBy =>
        Request.Headers.Get(HeaderNames.ReferredBy) is { } value && NameAddress.TryParse(value, out var by) ? by : null;

    /// <summary>The Replaces carried inside the Refer-To URI (attended transfer, RFC 3891 §6.1), or null.</summary>
    public ReplacesHeader? ReplacesInReferTo =>
        ReferTo.Uri.GetHeader(HeaderNames.Replaces) is { } text && ReplacesHeader.TryParse(text, out var r) ? r : null;

    /// <summary>Answers 202 Accepted; from then on the recipient owes NOTIFYs.</summary>
    public Task<ReferNotifier> AcceptAsync(Action<SipResponse>? decorate = null) => _agent.AcceptReferAsync(this, decorate);

    public Task RejectAsync(int statusCode, string? warning = null)
    {
        var response = SipResponse.CreateFor(Request, statusCode, toTag: Request.To.Tag is null ? _agent.Stack.Ids.NewTag() : null);
        if (warning is not null) response.Headers.Add(HeaderNames.Warning, warning);
        return Transaction.SendResponseAsync(response);
    }

    /// <summary>
    /// Acts as a transferee: accepts, NOTIFYs 100 Trying, INVITEs the Refer-To target (with the Replaces and
    /// Referred-By it implies) and NOTIFYs the INVITE's final status. Returns the new call attempt.
    /// </summary>
    public async Task<CallAttempt> FollowAsync(string? sdp = null)
    {
        var notifier = await AcceptAsync().ConfigureAwait(false);
        await notifier.NotifyAsync(100).ConfigureAwait(false);
        var attempt = await _agent.CallAsync(ReferTo.Uri.WithoutHeaders(), new CallOptions
        {
            Sdp = sdp ?? Call?.LocalSdp,
            Replaces = ReplacesInReferTo,
            ReferredBy = ReferredBy,
        }).ConfigureAwait(false);
        await notifier.NotifyAsync(attempt.StatusCode, attempt.Response?.ReasonPhrase).ConfigureAwait(false);
        return attempt;
    }
}
