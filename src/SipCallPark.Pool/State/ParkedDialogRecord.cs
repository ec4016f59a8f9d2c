using SipCallPark.Sip.Dialogs;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.State;

/// <summary>Where a parked call stands: still held in its orbit, or already picked up (left to its phones).</summary>
public enum ParkedDialogState
{
    Parked = 0,
    Retrieved = 1,
}

/// <summary>
/// One parked call as the journal keeps it: enough of the pool's dialog with the parked party to send it an
/// in-dialog BYE after a crash or from the backup pool (docs/design.md §5 cases 1–2, §7), plus who parked it and when.
/// </summary>
/// <param name="Orbit">The orbit number the call sits in.</param>
/// <param name="Pool">Name of the pool that owns the orbit and the dialog.</param>
/// <param name="CallId">Call-ID of the pool's dialog with the parked party.</param>
/// <param name="LocalTag">The pool's tag in that dialog (From tag on requests the pool sends).</param>
/// <param name="RemoteTag">The parked party's tag (To tag on requests the pool sends).</param>
/// <param name="LocalUri">The pool's URI in the dialog, a name-addr without tag.</param>
/// <param name="RemoteUri">The parked party's URI in the dialog, a name-addr without tag.</param>
/// <param name="RemoteTarget">The parked party's Contact: the Request-URI of in-dialog requests.</param>
/// <param name="RouteSet">Route header values (name-addrs) in the order the pool's requests use them.</param>
/// <param name="LocalCSeq">The last CSeq the pool used in the dialog; a BYE goes above it.</param>
/// <param name="ParkedParty">Who is parked (AOR or display text).</param>
/// <param name="Parker">AOR of the user who parked the call, told when it is torn down.</param>
public sealed record ParkedDialogRecord(
    string Orbit,
    string Pool,
    string CallId,
    string LocalTag,
    string RemoteTag,
    string LocalUri,
    string RemoteUri,
    string RemoteTarget,
    IReadOnlyList<string> RouteSet,
    long LocalCSeq,
    string ParkedParty,
    string Parker,
    DateTimeOffset ParkedAt,
    DateTimeOffset? TimeoutDue,
    int Attempts,
    ParkedDialogState State)
{
    /// <summary>
    /// The stored dialog as a confirmed <see cref="Dialog"/>, the pool on the UAS side (the parked party's INVITE
    /// reached the orbit). Its next request (<see cref="Dialog.CreateRequest"/>) carries CSeq <c>LocalCSeq + 1</c>.
    /// </summary>
    public Dialog ToDialog() =>
        Dialog.Restore(new DialogId(CallId, LocalTag, RemoteTag), isUac: false,
            NameAddress.Parse(LocalUri).WithoutParameter("tag"), NameAddress.Parse(RemoteUri).WithoutParameter("tag"),
            SipUri.Parse(RemoteTarget), RouteSet.Select(NameAddress.Parse).ToArray(), LocalCSeq, remoteCSeq: null);

    /// <summary>Value equality, the route set compared element by element (a record alone compares the list reference).</summary>
    public bool Equals(ParkedDialogRecord? other) =>
        other is not null && Orbit == other.Orbit && Pool == other.Pool && CallId == other.CallId
        && LocalTag == other.LocalTag && RemoteTag == other.RemoteTag && LocalUri == other.LocalUri
        && RemoteUri == other.RemoteUri && RemoteTarget == other.RemoteTarget && RouteSet.SequenceEqual(other.RouteSet)
        && LocalCSeq == other.LocalCSeq && ParkedParty == other.ParkedParty && Parker == other.Parker
        && ParkedAt == other.ParkedAt && TimeoutDue == other.TimeoutDue && Attempts == other.Attempts && State == other.State;

    public override int GetHashCode() => HashCode.Combine(Pool, Orbit, CallId, LocalTag, RemoteTag, LocalCSeq, State);
}
