namespace SipCallPark.Sip.Sdp;

/// <summary>
/// The direction attribute of RFC 4566 §6 / RFC 3264 §5.1, from the point of view of the party that wrote the SDP.
/// </summary>
public enum MediaDirection
{
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

public static class MediaDirectionExtensions
{
    /// <summary>The attribute name as written on the wire: <c>sendrecv</c>, <c>sendonly</c>, …</summary>
    public static string ToAttributeName(this MediaDirection direction) => direction switch
    {
        MediaDirection.SendRecv => "sendrecv",
        MediaDirection.SendOnly => "sendonly",
        MediaDirection.RecvOnly => "recvonly",
        MediaDirection.Inactive => "inactive",
        _ => throw new ArgumentOutOfRangeException(nameof(direction), direction, null),
    };

    /// <summary>Reads a direction attribute name; attribute names are case-sensitive (RFC 4566 §5.13).</summary>
    public static bool TryParse(string attributeName, out MediaDirection direction)
    {
        switch (attributeName)
        {
            case "sendrecv": direction = MediaDirection.SendRecv; return true;
            case "sendonly": direction = MediaDirection.SendOnly; return true;
            case "recvonly": direction = MediaDirection.RecvOnly; return true;
            case "inactive": direction = MediaDirection.Inactive; return true;
            default: direction = default; return false;
        }
    }

    /// <summary>
    /// The direction an answerer writes for an offered direction (RFC 3264 §6.1): an offer to send only is
    /// answered with receive only, and the reverse; sendrecv and inactive stay as they are.
    /// </summary>
    public static MediaDirection Reverse(this MediaDirection direction) => direction switch
    {
        MediaDirection.SendOnly => MediaDirection.RecvOnly,
        MediaDirection.RecvOnly => MediaDirection.SendOnly,
        _ => direction,
    };
}
