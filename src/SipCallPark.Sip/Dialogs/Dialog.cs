using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Dialogs;

/// <summary>
/// The state RFC 3261 §12 keeps for a dialog: identity, local and remote URIs, remote target, route set and the two
/// CSeq counters. It builds in-dialog requests (§12.2.1.1) and checks incoming ones (§12.2.2). Not thread-safe: the
/// dialog's owner serialises the work on it.
/// </summary>
public sealed class Dialog
{
    private Dialog(DialogId id, bool isUac, NameAddress local, NameAddress remote, SipUri remoteTarget,
        IReadOnlyList<NameAddress> routeSet, long localCSeq, long? remoteCSeq, bool secure)
    {
        Id = id;
        IsUac = isUac;
        LocalAddress = local;
        RemoteAddress = remote;
        RemoteTarget = remoteTarget;
        RouteSet = routeSet;
        LocalCSeq = localCSeq;
        RemoteCSeq = remoteCSeq;
        IsSecure = secure;
    }

    public DialogId Id { get; }

    /// <summary>True on the side that sent the dialog-creating request.</summary>
    public bool IsUac { get; }

    public DialogState State { get; private set; } = DialogState.Early;

    /// <summary>Our URI (From on requests we send), without tag.</summary>
    public NameAddress LocalAddress { get; }

    /// <summary>The peer's URI (To on requests we send), without tag.</summary>
    public NameAddress RemoteAddress { get; }

    /// <summary>Where in-dialog requests go: the peer's Contact, refreshed by re-INVITE/UPDATE (§12.2).</summary>
    public SipUri RemoteTarget { get; private set; }

    /// <summary>Record-Route as seen from this side, in the order our requests use it.</summary>
    public IReadOnlyList<NameAddress> RouteSet { get; private set; }

    public long LocalCSeq { get; private set; }

    public long? RemoteCSeq { get; private set; }

    public bool IsSecure { get; }

    /// <summary>Application data: what this dialog belongs to (a call, a parked call). One owner per dialog.</summary>
    public object? Owner { get; set; }

    /// <summary>The UAC's dialog from the request it sent and a response carrying a To tag (§12.1.2).</summary>
    public static Dialog FromUac(SipRequest request, SipResponse response)
    {
        var remoteTag = response.To.Tag ?? throw new ArgumentException("A dialog needs a To tag in the response", nameof(response));
        var localTag = request.From.Tag ?? throw new ArgumentException("A dialog needs a From tag in the request", nameof(request));
        var target = response.Contacts.Count > 0 ? response.Contacts[0].Uri : request.RequestUri;
        var routes = response.RecordRoutes.Reverse().ToArray();
        var dialog = new Dialog(new DialogId(request.CallId, localTag, remoteTag), true,
            request.From.WithoutParameter("tag"), response.To.WithoutParameter("tag"), target, routes,
            request.CSeq.Number, null, request.RequestUri.IsSecure);
        dialog.State = response.IsSuccess ? DialogState.Confirmed : DialogState.Early;
        return dialog;
    }

    /// <summary>The UAS's dialog from the request it received and the tag it puts in its responses (§12.1.1).</summary>
    public static Dialog FromUas(SipRequest request, string localTag)
    {
        var remoteTag = request.From.Tag ?? "";
        var target = request.Contacts.Count > 0 ? request.Contacts[0].Uri : request.From.Uri;
        return new Dialog(new DialogId(request.CallId, localTag, remoteTag), false,
            request.To.WithoutParameter("tag"), request.From.WithoutParameter("tag"), target, request.RecordRoutes.ToArray(),
            0, request.CSeq.Number, request.RequestUri.IsSecure);
    }

    public void Confirm()
    {
        if (State == DialogState.Early) State = DialogState.Confirmed;
    }

    public void Terminate() => State = DialogState.Terminated;

    /// <summary>
    /// A new in-dialog request (§12.2.1.1): Request-URI the remote target (or the first route when it is a strict
    /// router), From/To with the tags, Call-ID, the next local CSeq (ACK and CANCEL reuse a number and are not built
    /// here), Route from the route set. The caller adds Via and Contact.
    /// </summary>
    public SipRequest CreateRequest(string method)
    {
        if (method is SipMethods.Ack or SipMethods.Cancel) throw new ArgumentException($"{method} reuses its INVITE's CSeq; use CreateAck", nameof(method));
        return Build(method, ++LocalCSeq);
    }

    /// <summary>The ACK for a 2xx to the INVITE with CSeq <paramref name="inviteCSeq"/> (§13.2.2.4).</summary>
    public SipRequest CreateAck(long inviteCSeq) => Build(SipMethods.Ack, inviteCSeq);

    private SipRequest Build(string method, long cseq)
    {
        var routes = RouteSet;
        var requestUri = RemoteTarget;
        if (routes.Count > 0 && !routes[0].Uri.IsLooseRouter)
        {
            // Strict router (§12.2.1.1): the first route becomes the Request-URI, the remote target the last route.
            requestUri = routes[0].Uri.WithoutHeaders();
            routes = routes.Skip(1).Append(new NameAddress(RemoteTarget)).ToArray();
        }
        var request = new SipRequest(method, requestUri);
        var headers = request.Headers;
        headers.Add(HeaderNames.From, LocalAddress.WithTag(Id.LocalTag).ToString());
        headers.Add(HeaderNames.To, (Id.RemoteTag.Length > 0 ? RemoteAddress.WithTag(Id.RemoteTag) : RemoteAddress).ToString());
        headers.Add(HeaderNames.CallId, Id.CallId);
        headers.Add(HeaderNames.CSeq, new CSeqHeader(cseq, method).ToString());
        headers.Add(HeaderNames.MaxForwards, "70");
        foreach (var route in routes) headers.Add(HeaderNames.Route, route.ToString());
        return request;
    }

    /// <summary>
    /// Checks an incoming in-dialog request's CSeq (§12.2.2): a number below the last one seen is out of order
    /// (the UAS answers 500); otherwise it is recorded, and a target refresh updates the remote target.
    /// </summary>
    public bool AcceptRemoteRequest(SipRequest request)
    {
        if (request.Method is SipMethods.Ack or SipMethods.Cancel) return true;
        var number = request.CSeq.Number;
        if (RemoteCSeq is { } last && number <= last) return false;
        RemoteCSeq = number;
        if (request.Method is SipMethods.Invite or SipMethods.Update or SipMethods.Subscribe or SipMethods.Notify && request.Contacts.Count > 0)
            RemoteTarget = request.Contacts[0].Uri;
        return true;
    }

    /// <summary>A 2xx to our target refresh request (re-INVITE, UPDATE) moves the remote target (§12.2.1.2).</summary>
    public void AcceptTargetRefresh(SipResponse response)
    {
        if (response.IsSuccess && response.Contacts.Count > 0) RemoteTarget = response.Contacts[0].Uri;
    }

    /// <summary>Raises the local CSeq to at least <paramref name="number"/> (a restored dialog must send above its last).</summary>
    public void AdvanceLocalCSeq(long number)
    {
        if (number > LocalCSeq) LocalCSeq = number;
    }

    /// <summary>Rebuilds a dialog from stored state (a journal entry or a replicated park dialog).</summary>
    public static Dialog Restore(DialogId id, bool isUac, NameAddress local, NameAddress remote, SipUri remoteTarget,
        IReadOnlyList<NameAddress> routeSet, long localCSeq, long? remoteCSeq)
    {
        var dialog = new Dialog(id, isUac, local, remote, remoteTarget, routeSet, localCSeq, remoteCSeq, remoteTarget.IsSecure);
        dialog.State = DialogState.Confirmed;
        return dialog;
    }
}
