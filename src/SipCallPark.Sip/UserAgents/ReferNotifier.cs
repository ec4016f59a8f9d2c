using System.Globalization;
using SipCallPark.Sip.Dialogs;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;

namespace SipCallPark.Sip.UserAgents;

/// <summary>
/// The notifier side of REFER's implicit subscription (RFC 3515 §2.4.4): each NOTIFY carries the referred request's
/// status as <c>message/sipfrag</c>; the one with a final status ends the subscription.
/// </summary>
public sealed class ReferNotifier
{
    private readonly SipUserAgent _agent;
    private readonly bool _ownsDialog;

    internal ReferNotifier(SipUserAgent agent, Dialog dialog, long eventId, bool ownsDialog)
    {
        _agent = agent;
        Dialog = dialog;
        EventId = eventId;
        _ownsDialog = ownsDialog;
    }

    public Dialog Dialog { get; }

    /// <summary>The <c>id</c> of <c>Event: refer</c>: the REFER's CSeq number.</summary>
    public long EventId { get; }

    public bool Terminated { get; private set; }

    /// <summary>Sends a NOTIFY with this status; a final status (≥ 200) terminates the subscription.</summary>
    public async Task<ClientTransactionResult?> NotifyAsync(int statusCode, string? reasonPhrase = null)
    {
        if (Terminated) return null;
        var final = statusCode >= 200;
        Terminated = final;
        SipRequest notify;
        lock (Dialog) notify = Dialog.CreateRequest(SipMethods.Notify);
        notify.Headers.Add(HeaderNames.Event, "refer;id=" + EventId.ToString(CultureInfo.InvariantCulture));
        notify.Headers.Add(HeaderNames.SubscriptionState, final ? "terminated;reason=noresource" : "active;expires=60");
        notify.SetBody(SipFrag.ContentType, SipFrag.ForStatus(statusCode, reasonPhrase));
        var result = await _agent.SendInDialogAsync(Dialog, notify).ConfigureAwait(false);
        if (final && _ownsDialog) _agent.Dialogs.TryRemove(Dialog.Id, out _);
        return result;
    }

    /// <summary>
    /// Ends the subscription before the referred request has a final status: one NOTIFY with <c>Subscription-State:
    /// terminated;reason=noresource</c> and the sipfrag <c>SIP/2.0 100 Trying</c> (RFC 3515 §2.4.4 lets the recipient
    /// end the subscription at once; RFC 6665 §4.2.2). <paramref name="warning"/> goes into the sipfrag as a Warning
    /// header (RFC 3515 §2.4.5: the fragment may carry headers). Phones read no failure into it, so none hangs up.
    /// </summary>
    public async Task<ClientTransactionResult?> EndAsync(string? warning = null)
    {
        if (Terminated) return null;
        Terminated = true;
        SipRequest notify;
        lock (Dialog) notify = Dialog.CreateRequest(SipMethods.Notify);
        notify.Headers.Add(HeaderNames.Event, "refer;id=" + EventId.ToString(CultureInfo.InvariantCulture));
        notify.Headers.Add(HeaderNames.SubscriptionState, "terminated;reason=noresource");
        notify.SetBody(SipFrag.ContentType, SipFrag.ForStatus(100, warning: warning));
        var result = await _agent.SendInDialogAsync(Dialog, notify).ConfigureAwait(false);
        if (_ownsDialog) _agent.Dialogs.TryRemove(Dialog.Id, out _);
        return result;
    }
}
