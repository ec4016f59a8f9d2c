namespace SipCallPark.Sip.Dialogs;

/// <summary>A dialog's identity from one side: Call-ID, this side's tag, the other side's tag (RFC 3261 §12).</summary>
public readonly record struct DialogId(string CallId, string LocalTag, string RemoteTag)
{
    public override string ToString() => $"{CallId};local={LocalTag};remote={RemoteTag}";
}
