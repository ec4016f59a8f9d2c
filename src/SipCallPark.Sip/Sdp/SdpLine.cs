namespace SipCallPark.Sip.Sdp;

/// <summary>
/// A line this model does not interpret (<c>i=</c>, <c>b=</c>, <c>z=</c>, <c>k=</c>, a second <c>t=</c>, an unknown
/// type, …). It is kept so that an SDP read and written back loses nothing a peer sent.
/// </summary>
public sealed record SdpLine(char Type, string Value)
{
    /// <summary>
    /// The slot the line was read in (see <see cref="SdpFieldOrder"/>); null for a line built by hand, which is
    /// placed by its type.
    /// </summary>
    internal int? Rank { get; init; }

    /// <summary>Two lines are equal when they read the same; where they were found does not count.</summary>
    public bool Equals(SdpLine? other) => other is not null && Type == other.Type && Value == other.Value;

    public override int GetHashCode() => HashCode.Combine(Type, Value);

    public override string ToString() => $"{Type}={Value}";
}
