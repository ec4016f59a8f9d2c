using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Dialogs;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.UserAgents;

public sealed partial class SipUserAgent
{
    public async Task OnRequestAsync(ServerTransaction transaction)
    {
        var request = transaction.Request;
        if (request.To.Tag is not null)
        {
            await OnInDialogRequestAsync(transaction).ConfigureAwait(false);
            return;
        }
        switch (request.Method)
        {
            case SipMethods.Invite:
                await OnNewInviteAsync((InviteServerTransaction)transaction).ConfigureAwait(false);
                break;
            case SipMethods.Refer:
                if (ParseReferTo(transaction) is not { } referTo) break;
                var refer = new IncomingRefer(this, transaction, null, referTo);
                if (OnRefer is { } onRefer) Dispatch(() => onRefer(refer), transaction);
                else await Reply(transaction, 405).ConfigureAwait(false);
                break;
            case SipMethods.Message:
                await Reply(transaction, 200).ConfigureAwait(false);
                MessageReceived?.Invoke(request);
                break;
            case SipMethods.Options:
                var ok = SipResponse.CreateFor(request, 200, toTag: Stack.Ids.NewTag());
                ok.Headers.Add(HeaderNames.Allow, Allow);
                ok.Headers.Add(HeaderNames.Supported, _options.SupportsReplaces ? "replaces" : "");
                ok.Headers.Add(HeaderNames.Accept, "application/sdp");
                await transaction.SendResponseAsync(ok).ConfigureAwait(false);
                break;
            case SipMethods.Bye or SipMethods.Notify or SipMethods.Info or SipMethods.Update:
                await Reply(transaction, 481).ConfigureAwait(false);
                break;
            default:
                var notAllowed = SipResponse.CreateFor(request, 405, toTag: Stack.Ids.NewTag());
                notAllowed.Headers.Add(HeaderNames.Allow, Allow);
                await transaction.SendResponseAsync(notAllowed).ConfigureAwait(false);
                break;
        }
    }

    private async Task OnInDialogRequestAsync(ServerTransaction transaction)
    {
        var request = transaction.Request;
        if (request.Method == SipMethods.Notify && await TryHandleReferNotifyAsync(transaction).ConfigureAwait(false)) return;
        var dialog = Dialogs.FindForIncoming(request);
        if (dialog is null)
        {
            await Reply(transaction, 481).ConfigureAwait(false);
            return;
        }
        bool inOrder;
        lock (dialog) inOrder = dialog.AcceptRemoteRequest(request);
        if (!inOrder)
        {
            await transaction.SendResponseAsync(SipResponse.CreateFor(request, 500, "CSeq out of order")).ConfigureAwait(false);
            return;
        }
        if (dialog.Owner is SipCall call) await call.HandleRequestAsync(transaction).ConfigureAwait(false);
        else await Reply(transaction, request.Method is SipMethods.Bye or SipMethods.Subscribe ? 200 : 481).ConfigureAwait(false);
    }

    private async Task OnNewInviteAsync(InviteServerTransaction transaction)
    {
        var request = transaction.Request;
        var required = request.OptionTags(HeaderNames.Require);
        var unsupported = required.Where(t => !(_options.SupportsReplaces && t.Equals("replaces", StringComparison.OrdinalIgnoreCase))).ToArray();
        if (unsupported.Length > 0)
        {
            var bad = SipResponse.CreateFor(request, 420, toTag: Stack.Ids.NewTag());
            bad.Headers.Add(HeaderNames.Unsupported, string.Join(", ", unsupported));
            await transaction.SendResponseAsync(bad).ConfigureAwait(false);
            return;
        }
        SipCall? replaced = null;
        if (_options.SupportsReplaces && request.Headers.Get(HeaderNames.Replaces) is { } replacesText)
        {
            if (!ReplacesHeader.TryParse(replacesText, out var replaces))
            {
                await Reply(transaction, 400).ConfigureAwait(false);
                return;
            }
            var match = Dialogs.FindForReplaces(replaces, out var dialog);
            var status = match switch
            {
                ReplacesMatch.NotFound => 481,
                ReplacesMatch.AlreadyConfirmed => 486,
                ReplacesMatch.Terminated => 603,
                _ => 0,
            };
            if (status != 0 || dialog?.Owner is not SipCall owner)
            {
                _logger.LogInformation("INVITE {CallId} with Replaces {Replaces} answered {Status}", request.CallId, replacesText, status == 0 ? 481 : status);
                await Reply(transaction, status == 0 ? 481 : status).ConfigureAwait(false);
                return;
            }
            replaced = owner;
        }
        var incoming = new IncomingCall(this, transaction, replaced);
        if (OnIncomingCall is not { } decide)
        {
            await incoming.RejectAsync(480).ConfigureAwait(false);
            return;
        }
        // The call stays cancellable until it has its final response: the handler may return after ringing and
        // answer or reject later (AnswerAsync and RejectAsync take it out then).
        _ringing[transaction] = incoming;
        Dispatch(async () =>
        {
            try
            {
                await decide(incoming).ConfigureAwait(false);
            }
            catch
            {
                Decided(transaction);
                throw;
            }
            if (transaction.LastResponse is { IsFinal: true }) Decided(transaction);
        }, transaction);
    }

    internal async Task<SipCall> AnswerAsync(IncomingCall incoming, string? sdp, Action<SipResponse>? decorate)
    {
        var request = incoming.Request;
        var ok = SipResponse.CreateFor(request, 200, toTag: incoming.LocalTag);
        foreach (var rr in request.Headers.GetAll(HeaderNames.RecordRoute)) ok.Headers.Add(HeaderNames.RecordRoute, rr);
        AddContact(ok);
        ok.Headers.Add(HeaderNames.Allow, Allow);
        if (_options.SupportsReplaces) ok.Headers.Add(HeaderNames.Supported, "replaces");
        if (sdp is not null) ok.SetBody("application/sdp", sdp);
        decorate?.Invoke(ok);
        var dialog = Dialog.FromUas(request, incoming.LocalTag);
        dialog.Confirm();
        var call = new SipCall(this, dialog, sdp, incoming.Offer) { Replacing = incoming.Replaces };
        dialog.Owner = call;
        Dialogs.TryAdd(dialog);
        var sent = await incoming.Transaction.SendResponseAsync(ok).ConfigureAwait(false);
        Decided(incoming.Transaction);
        if (!sent)
        {
            call.End(CallEndReason.RemoteHangUp);
            throw new InvalidOperationException($"The INVITE {request.CallId} can no longer be answered (cancelled or timed out)");
        }
        if (!incoming.Transaction.IsReliable) call.StartRetransmitting(ok, incoming.Transaction.Incoming);
        return call;
    }

    internal async Task<ReferNotifier> AcceptReferAsync(IncomingRefer refer, Action<SipResponse>? decorate)
    {
        var request = refer.Request;
        Dialog dialog;
        var owns = false;
        SipResponse accepted;
        if (refer.Call is { } call)
        {
            dialog = call.Dialog;
            accepted = SipResponse.CreateFor(request, 202);
        }
        else
        {
            // An out-of-dialog REFER creates a dialog for its subscription (RFC 3515 §2.4.1).
            var tag = Stack.Ids.NewTag();
            accepted = SipResponse.CreateFor(request, 202, toTag: tag);
            foreach (var rr in request.Headers.GetAll(HeaderNames.RecordRoute)) accepted.Headers.Add(HeaderNames.RecordRoute, rr);
            dialog = Dialog.FromUas(request, tag);
            dialog.Confirm();
            owns = true;
        }
        AddContact(accepted);
        decorate?.Invoke(accepted);
        var notifier = new ReferNotifier(this, dialog, request.CSeq.Number, owns);
        if (owns)
        {
            dialog.Owner = notifier;
            Dialogs.TryAdd(dialog);
        }
        await refer.Transaction.SendResponseAsync(accepted).ConfigureAwait(false);
        return notifier;
    }

    /// <summary>Refer-To of a REFER, or null after answering 400 when it is missing or malformed.</summary>
    internal NameAddress? ParseReferTo(ServerTransaction transaction)
    {
        var values = transaction.Request.Headers.GetAll(HeaderNames.ReferTo).ToArray();
        if (values.Length == 1 && NameAddress.TryParse(values[0], out var referTo)) return referTo;
        _ = transaction.SendResponseAsync(SipResponse.CreateFor(transaction.Request, 400, "Refer-To missing or malformed", Stack.Ids.NewTag()));
        return null;
    }

    /// <summary>A NOTIFY reporting on a REFER we sent: record its sipfrag status, answer 200, complete on final.</summary>
    private async Task<bool> TryHandleReferNotifyAsync(ServerTransaction transaction)
    {
        var request = transaction.Request;
        if (!_pendingRefers.TryGetValue((request.CallId, request.To.Tag!), out var pending)) return false;
        if (request.Headers.Get(HeaderNames.Event) is not { } evt || !ParameterizedValue.TryParse(evt, out var parsed)
            || !parsed.Value.Equals("refer", StringComparison.OrdinalIgnoreCase)) return false;
        if (pending.EventId is { } id && parsed.Parameters.Get("id") is { } idText && idText != id.ToString(System.Globalization.CultureInfo.InvariantCulture)) return false;
        var known = SipFrag.TryGetStatus(request.Body.Span, out var status, out _);
        if (known) pending.Add(status);
        var terminated = request.Headers.Get(HeaderNames.SubscriptionState)?.TrimStart().StartsWith("terminated", StringComparison.OrdinalIgnoreCase) == true;
        // Track the notifier's dialog CSeq so a later in-dialog request is judged in order.
        if (Dialogs.FindForIncoming(request) is { } dialog) lock (dialog) dialog.AcceptRemoteRequest(request);
        await Reply(transaction, 200).ConfigureAwait(false);
        if (known && status >= 200) pending.Final.TrySetResult(status);
        else if (terminated) pending.Final.TrySetResult(known ? status : 500);
        return true;
    }

    public async Task OnAckAsync(IncomingMessage ack)
    {
        var request = (SipRequest)ack.Message;
        if (Dialogs.FindForIncoming(request)?.Owner is SipCall call) await call.OnAckAsync(request).ConfigureAwait(false);
    }

    public async Task OnCancelAsync(InviteServerTransaction invite, IncomingMessage cancel)
    {
        _ringing.TryRemove(invite, out var incoming);
        await invite.SendResponseAsync(SipResponse.CreateFor(invite.Request, 487,
            toTag: incoming?.LocalTag ?? Stack.Ids.NewTag())).ConfigureAwait(false);
        incoming?.MarkCancelled();
    }

    /// <summary>An incoming call got its final response: a CANCEL no longer concerns it.</summary>
    internal void Decided(InviteServerTransaction transaction) => _ringing.TryRemove(transaction, out _);

    public Task OnStrayResponseAsync(IncomingMessage response) => ReAcknowledgeAsync(response);

    public Task OnAdditionalSuccessAsync(InviteClientTransaction transaction, IncomingMessage response) => ReAcknowledgeAsync(response);

    /// <summary>A 2xx to an INVITE seen again: its dialog sends the ACK again (RFC 3261 §13.2.2.4).</summary>
    private async Task ReAcknowledgeAsync(IncomingMessage incoming)
    {
        if (incoming.Message is not SipResponse { IsSuccess: true } ok || ok.CSeq.Method != SipMethods.Invite) return;
        var id = new DialogId(ok.CallId, ok.From.Tag ?? "", ok.To.Tag ?? "");
        if (Dialogs.TryGet(id, out var dialog) && dialog!.Owner is SipCall call) await call.ResendAckAsync().ConfigureAwait(false);
    }

    public Task OnServerTransactionFailedAsync(ServerTransaction transaction, TransactionFailure failure)
    {
        _logger.LogInformation("{Method} {CallId} transaction failed: {Failure}", transaction.Method, transaction.CallId, failure);
        return Task.CompletedTask;
    }

    private Task Reply(ServerTransaction transaction, int status) =>
        transaction.SendResponseAsync(SipResponse.CreateFor(transaction.Request, status, toTag: transaction.Request.To.Tag is null ? Stack.Ids.NewTag() : null));

    /// <summary>Runs application work off the receive path; a failure is logged and an unanswered request gets 500.</summary>
    internal void Dispatch(Func<Task> work, ServerTransaction transaction)
    {
        _ = Task.Run(async () =>
        {
            try
            {
                await work().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Handling {Method} {CallId} failed", transaction.Method, transaction.CallId);
                if (transaction.LastResponse is not { IsFinal: true })
                    await transaction.SendResponseAsync(SipResponse.CreateFor(transaction.Request, 500, toTag: Stack.Ids.NewTag())).ConfigureAwait(false);
            }
        });
    }
}
