using SipCallPark.Sip.Dialogs;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.UserAgents;

/// <summary>
/// An established call: one INVITE dialog and what happens in it (BYE, re-INVITE, REFER, NOTIFY, INFO). The
/// application plugs in handlers for what it wants to decide itself; without one, a re-INVITE is answered with the
/// current local SDP, a REFER is declined and other requests get 200.
/// </summary>
public sealed class SipCall
{
    private readonly TaskCompletionSource<CallEndReason> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _confirmed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _ackGate = new();
    private TwoXxRetransmitter? _retransmitter;
    private long _retransmittedCSeq;
    private long _acknowledgedCSeq;
    private (SipRequest Ack, SipEndPoint To)? _lastAck;

    internal SipCall(SipUserAgent agent, Dialog dialog, string? localSdp, string? remoteSdp)
    {
        Agent = agent;
        Dialog = dialog;
        LocalSdp = localSdp;
        RemoteSdp = remoteSdp;
        if (dialog.IsUac) _confirmed.TrySetResult();
    }

    public SipUserAgent Agent { get; }

    public Dialog Dialog { get; }

    public string CallId => Dialog.Id.CallId;

    public string? LocalSdp { get; internal set; }

    public string? RemoteSdp { get; internal set; }

    /// <summary>For an answered INVITE with Replaces: the call it replaces, ended with BYE once this one is confirmed.</summary>
    internal SipCall? Replacing { get; set; }

    /// <summary>Completes when the call is confirmed: at once for the caller, on the ACK for the callee.</summary>
    public Task Confirmed => _confirmed.Task;

    /// <summary>Completes when the call is over, saying why.</summary>
    public Task<CallEndReason> Ended => _ended.Task;

    public bool IsEnded => _ended.Task.IsCompleted;

    /// <summary>Decides a re-INVITE: answer it (<see cref="IncomingReInvite.AcceptAsync"/>) or reject it.</summary>
    public Func<IncomingReInvite, Task>? OnReInvite { get; set; }

    /// <summary>Decides a REFER received in this call.</summary>
    public Func<IncomingRefer, Task>? OnRefer { get; set; }

    /// <summary>Decides INFO, MESSAGE, UPDATE and other in-dialog requests; returns the status to answer.</summary>
    public Func<SipRequest, Task<int>>? OnRequest { get; set; }

    /// <summary>Raised for every in-dialog request received, after it is answered (for observers and tests).</summary>
    public event Action<SipRequest>? RequestReceived;

    /// <summary>Sends BYE and ends the call.</summary>
    public async Task<ClientTransactionResult?> HangUpAsync() => await EndWithByeAsync(CallEndReason.LocalHangUp).ConfigureAwait(false);

    /// <summary>Sends a re-INVITE with a new offer (hold: a=sendonly); the answer becomes <see cref="RemoteSdp"/>.</summary>
    public async Task<ClientTransactionResult> ReInviteAsync(string? sdp)
    {
        SipRequest invite;
        lock (Dialog) invite = Dialog.CreateRequest(SipMethods.Invite);
        if (sdp is not null) invite.SetBody("application/sdp", sdp);
        var result = await Agent.SendInDialogAsync(Dialog, invite).ConfigureAwait(false);
        if (result.IsSuccess)
        {
            var ok = result.Response!;
            lock (Dialog) Dialog.AcceptTargetRefresh(ok);
            LocalSdp = sdp ?? LocalSdp;
            if (!ok.Body.IsEmpty) RemoteSdp = ok.BodyText;
            await SendAckAsync(invite.CSeq.Number).ConfigureAwait(false);
        }
        return result;
    }

    /// <summary>
    /// Sends a re-INVITE without an offer (RFC 3725 flow I): the other side offers in its 200, <paramref name="answer"/>
    /// turns that offer into our answer, and the ACK carries it. Used to bring two legs together when no offer is at hand.
    /// </summary>
    public async Task<ClientTransactionResult> ReInviteForOfferAsync(Func<string?, Task<string?>> answer)
    {
        SipRequest invite;
        lock (Dialog) invite = Dialog.CreateRequest(SipMethods.Invite);
        var result = await Agent.SendInDialogAsync(Dialog, invite).ConfigureAwait(false);
        if (!result.IsSuccess) return result;
        var ok = result.Response!;
        lock (Dialog) Dialog.AcceptTargetRefresh(ok);
        var offer = ok.Body.IsEmpty ? null : ok.BodyText;
        if (offer is not null) RemoteSdp = offer;
        string? reply;
        try
        {
            reply = await answer(offer).ConfigureAwait(false);
        }
        catch
        {
            // The 2xx must be acknowledged whatever happened to the other leg (§13.2.2.4).
            await SendAckAsync(invite.CSeq.Number).ConfigureAwait(false);
            throw;
        }
        if (reply is not null) LocalSdp = reply;
        await SendAckAsync(invite.CSeq.Number, reply).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Sends REFER in this call and waits for the recipient's final NOTIFY (RFC 3515): the outcome reports the
    /// status of the referred request, not just the 202. The NOTIFY is answered before this completes, so a BYE
    /// sent afterwards never overtakes it. <paramref name="outcomeTimeout"/> bounds the wait for the final NOTIFY
    /// (default: the agent's <see cref="UserAgentOptions.ReferOutcomeTimeout"/>); past it the outcome is 408.
    /// </summary>
    public Task<ReferOutcome> ReferAsync(NameAddress referTo, NameAddress? referredBy = null, IEnumerable<(string Name, string Value)>? headers = null,
        TimeSpan? outcomeTimeout = null)
    {
        SipRequest refer;
        lock (Dialog) refer = Dialog.CreateRequest(SipMethods.Refer);
        refer.Headers.Add(HeaderNames.ReferTo, referTo.ToString());
        if (referredBy is not null) refer.Headers.Add(HeaderNames.ReferredBy, referredBy.ToString());
        foreach (var (name, value) in headers ?? []) refer.Headers.Add(name, value);
        return Agent.ReferInDialogAsync(Dialog, refer, outcomeTimeout);
    }

    /// <summary>Sends any in-dialog request (INFO, MESSAGE, NOTIFY...).</summary>
    public Task<ClientTransactionResult> SendRequestAsync(string method, Action<SipRequest>? decorate = null)
    {
        SipRequest request;
        lock (Dialog) request = Dialog.CreateRequest(method);
        decorate?.Invoke(request);
        return Agent.SendInDialogAsync(Dialog, request);
    }

    internal async Task SendAckAsync(long inviteCSeq, string? sdp = null)
    {
        SipRequest ack;
        lock (Dialog) ack = Dialog.CreateAck(inviteCSeq);
        if (sdp is not null) ack.SetBody("application/sdp", sdp);
        var to = Agent.NextHop(Dialog);
        if (to is null) return;
        Agent.AddVia(ack, to.Value);
        _lastAck = (ack, to.Value);
        await Agent.Stack.Transport.SendRequestAsync(ack, to.Value).ConfigureAwait(false);
    }

    /// <summary>A retransmitted 2xx: send the same ACK again (RFC 3261 §13.2.2.4).</summary>
    internal async Task ResendAckAsync()
    {
        if (_lastAck is { } last) await Agent.Stack.Transport.SendRequestAsync(last.Ack, last.To).ConfigureAwait(false);
    }

    /// <summary>True while a 2xx of ours waits for its ACK and is being retransmitted (RFC 3261 §13.3.1.4).</summary>
    internal bool IsRetransmitting
    {
        get
        {
            lock (_ackGate) return _retransmitter is { Completion.IsCompleted: false };
        }
    }

    internal void StartRetransmitting(SipResponse ok, IncomingMessage invite)
    {
        var retransmitter = new TwoXxRetransmitter(Agent.Stack.Transport, ok, invite, Agent.Stack.Transactions.Options, Agent.Stack.Time);
        lock (_ackGate)
        {
            _retransmitter?.Dispose();
            // The ACK can overtake us: it may arrive between sending the 2xx and getting here.
            if (_acknowledgedCSeq >= ok.CSeq.Number)
            {
                retransmitter.Dispose();
                return;
            }
            _retransmitter = retransmitter;
            _retransmittedCSeq = ok.CSeq.Number;
        }
        retransmitter.Start();
        _ = retransmitter.Completion.ContinueWith(async t =>
        {
            // A finished retransmitter holds the 2xx and the INVITE: let them go, a parked call lives for minutes.
            lock (_ackGate)
            {
                if (ReferenceEquals(_retransmitter, retransmitter)) _retransmitter = null;
            }
            if (t.Result == TwoXxOutcome.TimedOut && !IsEnded) await EndWithByeAsync(CallEndReason.NoAck).ConfigureAwait(false);
        }, TaskScheduler.Default).Unwrap();
    }

    internal async Task OnAckAsync(SipRequest ack)
    {
        lock (_ackGate)
        {
            _acknowledgedCSeq = Math.Max(_acknowledgedCSeq, ack.CSeq.Number);
            if (_retransmittedCSeq <= ack.CSeq.Number) _retransmitter?.Acknowledge();
        }
        lock (Dialog) Dialog.Confirm();
        if (!ack.Body.IsEmpty) RemoteSdp = ack.BodyText;
        var first = _confirmed.TrySetResult();
        if (first && Replacing is { IsEnded: false } replaced) await replaced.EndWithByeAsync(CallEndReason.Replaced).ConfigureAwait(false);
    }

    internal async Task HandleRequestAsync(ServerTransaction transaction)
    {
        var request = transaction.Request;
        switch (request.Method)
        {
            case SipMethods.Bye:
                await transaction.SendResponseAsync(SipResponse.CreateFor(request, 200)).ConfigureAwait(false);
                End(CallEndReason.RemoteHangUp);
                break;
            case SipMethods.Invite:
                if (!request.Body.IsEmpty) RemoteSdp = request.BodyText;
                var reInvite = new IncomingReInvite(this, (InviteServerTransaction)transaction);
                if (OnReInvite is { } decide) Agent.Dispatch(() => decide(reInvite), transaction);
                else await reInvite.AcceptAsync(LocalSdp).ConfigureAwait(false);
                break;
            case SipMethods.Refer:
                if (Agent.ParseReferTo(transaction) is not { } referTo) break;
                var refer = new IncomingRefer(Agent, transaction, this, referTo);
                if (OnRefer is { } onRefer) Agent.Dispatch(() => onRefer(refer), transaction);
                else await refer.RejectAsync(603).ConfigureAwait(false);
                break;
            default:
                var status = OnRequest is { } other ? await other(request).ConfigureAwait(false) : 200;
                await transaction.SendResponseAsync(SipResponse.CreateFor(request, status)).ConfigureAwait(false);
                break;
        }
        RequestReceived?.Invoke(request);
    }

    internal async Task<ClientTransactionResult?> EndWithByeAsync(CallEndReason reason)
    {
        if (IsEnded) return null;
        _retransmitter?.Dispose();
        SipRequest bye;
        lock (Dialog) bye = Dialog.CreateRequest(SipMethods.Bye);
        End(reason);
        return await Agent.SendInDialogAsync(Dialog, bye).ConfigureAwait(false);
    }

    internal void End(CallEndReason reason)
    {
        _retransmitter?.Dispose();
        lock (Dialog) Dialog.Terminate();
        Agent.Dialogs.TryRemove(Dialog.Id, out _);
        _ended.TrySetResult(reason);
    }
}

/// <summary>A re-INVITE received in a call: answer it with SDP (200) or reject it (e.g. 488, 491).</summary>
public sealed class IncomingReInvite
{
    internal IncomingReInvite(SipCall call, InviteServerTransaction transaction)
    {
        Call = call;
        Transaction = transaction;
    }

    public SipCall Call { get; }

    public InviteServerTransaction Transaction { get; }

    public string? Offer => Transaction.Request.Body.IsEmpty ? null : Transaction.Request.BodyText;

    public async Task AcceptAsync(string? sdp)
    {
        var ok = SipResponse.CreateFor(Transaction.Request, 200);
        Call.Agent.AddContact(ok);
        if (sdp is not null) ok.SetBody("application/sdp", sdp);
        Call.LocalSdp = sdp ?? Call.LocalSdp;
        await Transaction.SendResponseAsync(ok).ConfigureAwait(false);
        if (!Transaction.IsReliable) Call.StartRetransmitting(ok, Transaction.Incoming);
    }

    public Task RejectAsync(int statusCode) => Transaction.SendResponseAsync(SipResponse.CreateFor(Transaction.Request, statusCode));
}
