namespace SipCallPark.Sip.Sdp;

/// <summary>
/// The order of lines in a session description (RFC 4566 §5): session part
/// <c>v o s i u e p c b (t r*)+ z k a*</c>, then per media <c>m i c b k a*</c>. A rank is the slot a line is
/// written in. A line of a type this model does not know takes the rank of the line it followed in the input, so
/// it is written back where the peer put it (after the attributes when it followed an attribute).
/// </summary>
internal static class SdpFieldOrder
{
    // Session-level slots.
    public const int Version = 0;
    public const int Origin = 1;
    public const int SessionName = 2;
    public const int Connection = 7;
    public const int Timing = 9;
    public const int Attributes = 12;

    // Media-level slots.
    public const int MediaLine = 0;
    public const int MediaConnection = 2;
    public const int MediaAttributes = 5;

    /// <summary>Session-level slot of a line type, or null when the type is not in RFC 4566.</summary>
    public static int? SessionRank(char type) => type switch
    {
        'v' => Version,
        'o' => Origin,
        's' => SessionName,
        'i' => 3,
        'u' => 4,
        'e' => 5,
        'p' => 6,
        'c' => Connection,
        'b' => 8,
        // r= belongs to the t= before it; both share a slot and keep their input order.
        't' or 'r' => Timing,
        'z' => 10,
        'k' => 11,
        'a' => Attributes,
        _ => null,
    };

    /// <summary>Media-level slot of a line type, or null when the type is not allowed there.</summary>
    public static int? MediaRank(char type) => type switch
    {
        'm' => MediaLine,
        'i' => 1,
        'c' => MediaConnection,
        'b' => 3,
        'k' => 4,
        'a' => MediaAttributes,
        _ => null,
    };

    public static int SessionRankOf(SdpLine line) => line.Rank ?? SessionRank(line.Type) ?? Attributes;

    public static int MediaRankOf(SdpLine line) => line.Rank ?? MediaRank(line.Type) ?? MediaAttributes;
}
