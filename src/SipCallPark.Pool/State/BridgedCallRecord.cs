using SipCallPark.Sip.Dialogs;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.State;

/// <summary>
/// One leg of a bridged call as the journal keeps it: the pool's dialog with one phone, enough to send that phone an
/// in-dialog BYE after the pool that bridged it died (docs/design.md §5 "Retrieve", §7).
/// </summary>
/// <param name="CallId">Call-ID of the pool's dialog with the phone.</param>
/// <param name="LocalTag">The pool's tag in that dialog (the To tag of the phone's requests).</param>
/// <param name="RemoteTag">The phone's tag (the From tag of the phone's requests).</param>
/// <param name="LocalUri">The pool's URI in the dialog, a name-addr without tag.</param>
/// <param name="RemoteUri">The phone's URI in the dialog, a name-addr without tag.</param>
/// <param name="RemoteTarget">The phone's Contact: the Request-URI of in-dialog requests.</param>
/// <param name="RouteSet">Route header values in the order the pool's requests use them.</param>
/// <param name="LocalCSeq">The highest CSeq the pool may have used in the dialog: it is written before a request
/// goes out, so the next request (a BYE) takes <c>LocalCSeq + 1</c>, never a guess.</param>
/// <param name="IsUac">True when the pool sent the dialog-creating INVITE (a park by REFER).</param>
public sealed record BridgeLegRecord(
    string CallId,
    string LocalTag,
    string RemoteTag,
    string LocalUri,
    string RemoteUri,
    string RemoteTarget,
    IReadOnlyList<string> RouteSet,
    long LocalCSeq,
    bool IsUac)
{
    /// <summary>
    /// The leg of a live dialog, with <paramref name="ahead"/> CSeq numbers counted as used: a request about to be
    /// sent is journaled before it leaves (<c>ahead</c> 1), so a crash right after it cannot leave the journal behind.
    /// </summary>
    public static BridgeLegRecord Of(Dialog dialog, long ahead = 0)
    {
        lock (dialog)
        {
            return new BridgeLegRecord(dialog.Id.CallId, dialog.Id.LocalTag, dialog.Id.RemoteTag, dialog.LocalAddress.ToString(),
                dialog.RemoteAddress.ToString(), dialog.RemoteTarget.ToString(), dialog.RouteSet.Select(r => r.ToString()).ToArray(),
                dialog.LocalCSeq + ahead, dialog.IsUac);
        }
    }

    /// <summary>The stored dialog, confirmed; its next request carries CSeq <c>LocalCSeq + 1</c>.</summary>
    public Dialog ToDialog() =>
        Dialog.Restore(new DialogId(CallId, LocalTag, RemoteTag), IsUac,
            NameAddress.Parse(LocalUri).WithoutParameter("tag"), NameAddress.Parse(RemoteUri).WithoutParameter("tag"),
            SipUri.Parse(RemoteTarget), RouteSet.Select(NameAddress.Parse).ToArray(), LocalCSeq, remoteCSeq: null);

    /// <summary>
    /// Whether a request from the phone belongs to this leg (docs/design.md §11): same Call-ID, its To tag ours and its
    /// From tag the phone's. Call-ID alone is never enough.
    /// </summary>
    public bool Matches(SipRequest request) =>
        string.Equals(request.CallId, CallId, StringComparison.Ordinal)
        && string.Equals(request.To.Tag, LocalTag, StringComparison.Ordinal)
        && string.Equals(request.From.Tag, RemoteTag, StringComparison.Ordinal);

    public bool Equals(BridgeLegRecord? other) =>
        other is not null && CallId == other.CallId && LocalTag == other.LocalTag && RemoteTag == other.RemoteTag
        && LocalUri == other.LocalUri && RemoteUri == other.RemoteUri && RemoteTarget == other.RemoteTarget
        && RouteSet.SequenceEqual(other.RouteSet) && LocalCSeq == other.LocalCSeq && IsUac == other.IsUac;

    public override int GetHashCode() => HashCode.Combine(CallId, LocalTag, RemoteTag, LocalCSeq);
}

/// <summary>
/// A retrieved call the park app joins by bridging (docs/design.md §5 "Retrieve"): both phones' dialogs with the pool. Kept
/// in the journal and replicated while the bridge lasts, so that after an outage a BYE from one phone still reaches
/// the other (docs/design.md §7 "Bridged calls").
/// </summary>
/// <param name="Pool">The pool that bridges the call.</param>
/// <param name="Id">The bridge's key in that pool (the parked leg's Call-ID).</param>
/// <param name="Orbit">The orbit the call was retrieved from.</param>
/// <param name="Since">When the bridge was made.</param>
/// <param name="Parked">The pool's dialog with the parked party.</param>
/// <param name="Retriever">The pool's dialog with the phone that retrieved it.</param>
public sealed record BridgedCallRecord(string Pool, string Id, string Orbit, DateTimeOffset Since, BridgeLegRecord Parked, BridgeLegRecord Retriever)
{
    /// <summary>The leg a request from a phone belongs to, and the other one; null when it is neither's.</summary>
    public (BridgeLegRecord From, BridgeLegRecord Other)? LegOf(SipRequest request) =>
        Parked.Matches(request) ? (Parked, Retriever) : Retriever.Matches(request) ? (Retriever, Parked) : null;

    /// <summary>Both legs as ordered pairs: the parked party's first.</summary>
    public IEnumerable<BridgeLegRecord> Legs => [Parked, Retriever];
}
