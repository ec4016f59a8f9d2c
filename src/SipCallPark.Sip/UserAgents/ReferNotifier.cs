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
}
