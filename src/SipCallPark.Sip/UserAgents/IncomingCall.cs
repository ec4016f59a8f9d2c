using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;

namespace SipCallPark.Sip.UserAgents;

/// <summary>
/// An INVITE that opens a new dialog, handed to the application to ring, answer or reject. When it carries a
/// Replaces header that matched one of our dialogs, <see cref="Replaces"/> is that call: answering it ends the old
/// call with BYE once the new one is confirmed (RFC 3891 §3).
/// </summary>
public sealed class IncomingCall
{
    private readonly SipUserAgent _agent;
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _tag;

    internal IncomingCall(SipUserAgent agent, InviteServerTransaction transaction, SipCall? replaces)
    {
        _agent = agent;
        Transaction = transaction;
        Replaces = replaces;
    }

    public InviteServerTransaction Transaction { get; }

    public SipRequest Request => Transaction.Request;

    public SipCall? Replaces { get; }

    public NameAddress? ReferredBy =>
        Request.Headers.Get(HeaderNames.ReferredBy) is { } value && NameAddress.TryParse(value, out var by) ? by : null;

    /// <summary>The caller's SDP offer, or null.</summary>
    public string? Offer => Request.Body.IsEmpty ? null : Request.BodyText;

    /// <summary>Completes when the caller cancelled (the 487 has been sent).</summary>
    public Task Cancelled => _cancelled.Task;

    internal string LocalTag => _tag ??= _agent.Stack.Ids.NewTag();

    public Task RingAsync() => Transaction.SendResponseAsync(SipResponse.CreateFor(Request, 180, toTag: LocalTag));

    /// <summary>Answers 200 with <paramref name="sdp"/>; the call is confirmed when the ACK arrives.</summary>
    public Task<SipCall> AnswerAsync(string? sdp, Action<SipResponse>? decorate = null) => _agent.AnswerAsync(this, sdp, decorate);

    public async Task RejectAsync(int statusCode, string? warning = null, Action<SipResponse>? decorate = null)
    {
        var response = SipResponse.CreateFor(Request, statusCode, toTag: LocalTag);
        if (warning is not null) response.Headers.Add(HeaderNames.Warning, warning);
        decorate?.Invoke(response);
        await Transaction.SendResponseAsync(response).ConfigureAwait(false);
        _agent.Decided(Transaction);
    }

    internal void MarkCancelled() => _cancelled.TrySetResult();
}
