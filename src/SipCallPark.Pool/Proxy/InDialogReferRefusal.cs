using System.Globalization;
using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.Transactions;

namespace SipCallPark.Pool.Proxy;

/// <summary>
/// Refuses an in-dialog REFER that would park a call (a blind transfer to the park) without ending the call
/// (docs/design.md §7): the pool answers <c>202</c> for the transferee and at once ends the implicit subscription with
/// one NOTIFY whose sipfrag is <c>SIP/2.0 100 Trying</c> plus the Warning (RFC 3515 §2.4.4, §2.4.5). A plain
/// <c>403</c>, or a NOTIFY reporting a failure, makes phones such as baresip 1.0 hang up the call they tried to
/// transfer; a subscription that ends without a final status reports no failure, so the call stays up.
/// <para>The NOTIFY is sent in the transferee's name within the dialog: From and Contact are the transferee's, and its
/// CSeq is the transferee's highest seen here (or 1 when it sent none), so the transferee's next request stays in order
/// at the transferor (RFC 3261 §12.2.2 only refuses a lower number). It goes to the address the REFER came from.</para>
/// Only for a dialog this pool proxied (the REFER's Record-Route token is checked before): anything else keeps its 403.
/// </summary>
internal sealed class InDialogReferRefusal(SipStack stack, PoolIdentity self, ProxiedDialogs dialogs, ILogger logger)
{
    /// <summary>Tells the transferor (its address of record) why its park did not happen; set by the pool once the park runs.</summary>
    public Func<SipUri, Task>? TellTransferor { get; set; }

    /// <summary>
    /// Whether <paramref name="refer"/> belongs to a dialog this pool proxied and comes from the party its From tag
    /// names there, so the refusal may speak for the other party (and tell the sender by MESSAGE). A REFER that copies
    /// a dialog's identifiers under another user's name gets the plain 403.
    /// </summary>
    public bool Knows(SipRequest refer)
    {
        if (dialogs.Find(refer.CallId, refer.From.Tag, refer.To.Tag) is not { } dialog) return false;
        var sender = string.Equals(refer.From.Tag, dialog.CallerTag, StringComparison.Ordinal) ? dialog.Caller : dialog.Callee;
        return string.Equals(sender.AddressOfRecord, refer.From.Uri.AddressOfRecord, StringComparison.OrdinalIgnoreCase);
    }

    public async Task RefuseAsync(ServerTransaction transaction, string warningText)
    {
        var refer = transaction.Request;
        var warning = $"399 {self.Name} \"{warningText.Replace('"', '\'')}\"";
        if (!Knows(refer) || dialogs.Find(refer.CallId, refer.From.Tag, refer.To.Tag) is not { } dialog || refer.To.Tag is not { } transfereeTag)
        {
            var forbidden = SipResponse.CreateFor(refer, 403);
            forbidden.Headers.Add(HeaderNames.Warning, warning);
            await transaction.SendResponseAsync(forbidden).ConfigureAwait(false);
            return;
        }
        var accepted = SipResponse.CreateFor(refer, 202);
        accepted.Headers.Add(HeaderNames.Warning, warning);
        await transaction.SendResponseAsync(accepted).ConfigureAwait(false);

        var transfereeIsCallee = string.Equals(transfereeTag, dialog.CalleeTag, StringComparison.Ordinal);
        var transfereeContact = transfereeIsCallee ? dialog.CalleeContact : dialog.CallerContact;
        var target = refer.Contacts.FirstOrDefault()?.Uri ?? refer.From.Uri;
        var notify = new SipRequest(SipMethods.Notify, target.WithoutHeaders());
        var source = transaction.Incoming.Remote;
        var headers = notify.Headers;
        headers.Add(HeaderNames.Via, stack.Transport.CreateVia(source.Protocol, stack.Ids.NewBranch(), source.Address.AddressFamily).ToString());
        headers.Add(HeaderNames.From, refer.Headers.Get(HeaderNames.To)!);
        headers.Add(HeaderNames.To, refer.Headers.Get(HeaderNames.From)!);
        headers.Add(HeaderNames.CallId, refer.CallId);
        var cseq = dialogs.LastCSeq(refer.CallId, transfereeTag) ?? 1;
        headers.Add(HeaderNames.CSeq, new CSeqHeader(cseq, SipMethods.Notify).ToString());
        headers.Add(HeaderNames.MaxForwards, "70");
        // The transferee's own Contact: a NOTIFY refreshes the dialog's remote target (RFC 6665 §4.1.3), so any other
        // address would send the transferor's next request (its BYE) astray.
        if (transfereeContact is not null) headers.Add(HeaderNames.Contact, $"<{transfereeContact}>");
        headers.Add(HeaderNames.Event, "refer;id=" + refer.CSeq.Number.ToString(CultureInfo.InvariantCulture));
        headers.Add(HeaderNames.SubscriptionState, "terminated;reason=noresource");
        notify.SetBody(SipFrag.ContentType, SipFrag.ForStatus(100, warning: warning));
        try
        {
            var sent = await stack.Transactions.SendRequestAsync(notify, source).ConfigureAwait(false);
            var result = await sent.Completion.ConfigureAwait(false);
            logger.LogInformation("Park transfer {CallId} from {Transferor} refused in resiliency mode: 202, then NOTIFY 100 terminated answered {Status}",
                refer.CallId, refer.From.Uri.AddressOfRecord, result.StatusCode);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "The NOTIFY ending the refused park transfer {CallId} could not be sent", refer.CallId);
        }
        if (TellTransferor is { } tell) await tell(refer.From.Uri.WithoutHeaders()).ConfigureAwait(false);
    }
}
