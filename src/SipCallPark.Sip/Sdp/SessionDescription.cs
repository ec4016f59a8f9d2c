using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;

namespace SipCallPark.Sip.Sdp;

/// <summary>
/// A session description (RFC 4566) as used in SIP offer/answer (RFC 3264): origin, session name, connection,
/// timing, session-level attributes and the media sections. Lines this model does not read are kept and written
/// back. Immutable: the <c>With…</c> methods return a changed copy.
/// </summary>
public sealed class SessionDescription
{
    /// <summary>The payload type we offer for RFC 4733 telephone events, the usual choice of SIP phones.</summary>
    public const int TelephoneEventPayloadType = 101;

    public SessionDescription(
        SdpOrigin origin,
        string sessionName,
        SdpConnection? connection,
        SdpTiming timing,
        IEnumerable<SdpAttribute>? attributes = null,
        IEnumerable<MediaDescription>? media = null,
        IEnumerable<SdpLine>? otherLines = null)
    {
        ArgumentNullException.ThrowIfNull(origin);
        ArgumentNullException.ThrowIfNull(sessionName);
        Origin = origin;
        SessionName = sessionName;
        Connection = connection;
        Timing = timing;
        Attributes = attributes is null ? [] : [.. attributes];
        Media = media is null ? [] : [.. media];
        OtherLines = otherLines is null ? [] : [.. otherLines];
    }

    private SessionDescription(SessionDescription other)
    {
        Origin = other.Origin;
        SessionName = other.SessionName;
        Connection = other.Connection;
        Timing = other.Timing;
        Attributes = other.Attributes;
        Media = other.Media;
        OtherLines = other.OtherLines;
    }

    /// <summary>The <c>v=</c> value; RFC 4566 defines only 0.</summary>
    public int ProtocolVersion => 0;

    public SdpOrigin Origin { get; private init; }

    /// <summary>The <c>s=</c> value; <c>-</c> when a peer has nothing to say.</summary>
    public string SessionName { get; }

    /// <summary>The session-level <c>c=</c>; each media section may override it.</summary>
    public SdpConnection? Connection { get; private init; }

    /// <summary>The first <c>t=</c> line; further time descriptions are kept in <see cref="OtherLines"/>.</summary>
    public SdpTiming Timing { get; }

    public IReadOnlyList<SdpAttribute> Attributes { get; private init; }

    public IReadOnlyList<MediaDescription> Media { get; private init; }

    /// <summary>Session-level lines this model does not read, kept in input order.</summary>
    public IReadOnlyList<SdpLine> OtherLines { get; }

    /// <summary>The direction written at session level, or null when none is.</summary>
    public MediaDirection? Direction => SdpAttributes.FindDirection(Attributes);

    /// <summary>
    /// The direction that applies to a media section: its own attribute, else the session-level one, else
    /// sendrecv (RFC 4566 §6, RFC 3264 §5.1).
    /// </summary>
    public MediaDirection GetEffectiveDirection(MediaDescription media)
    {
        ArgumentNullException.ThrowIfNull(media);
        return media.Direction ?? Direction ?? MediaDirection.SendRecv;
    }

    /// <summary>The connection that applies to a media section: its own <c>c=</c>, else the session-level one.</summary>
    public SdpConnection? GetEffectiveConnection(MediaDescription media)
    {
        ArgumentNullException.ThrowIfNull(media);
        return media.Connection ?? Connection;
    }

    /// <summary>
    /// An audio offer for the park application: PCMU/8000 (payload 0), optionally RFC 4733 telephone events,
    /// 20 ms packets, and the direction written at media level.
    /// </summary>
    /// <remarks>
    /// Music on hold is offered <see cref="MediaDirection.SendOnly"/>; with music off, <see cref="MediaDirection.Inactive"/>.
    /// </remarks>
    public static SessionDescription CreateAudioOffer(
        IPAddress address,
        int port,
        MediaDirection direction,
        ulong sessionId,
        ulong version,
        bool telephoneEvent = true,
        string username = "-")
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);

        var formats = new List<string> { "0" };
        var attributes = new List<SdpAttribute> { new SdpRtpMap(0, "PCMU", 8000).ToAttribute() };
        if (telephoneEvent)
        {
            formats.Add("101");
            attributes.Add(new SdpRtpMap(TelephoneEventPayloadType, "telephone-event", 8000).ToAttribute());
            attributes.Add(new SdpAttribute("fmtp", "101 0-15"));
        }

        attributes.Add(new SdpAttribute("ptime", "20"));
        attributes.Add(new SdpAttribute(direction.ToAttributeName()));

        var connection = SdpConnection.For(address);
        var origin = new SdpOrigin(username, sessionId, version, "IN", connection.AddressType, connection.Address);
        var audio = new MediaDescription("audio", port, "RTP/AVP", formats, attributes: attributes);
        return new SessionDescription(origin, "-", connection, SdpTiming.Unbounded, media: [audio]);
    }

    /// <summary>
    /// A copy where every media section carries <paramref name="direction"/> and the session level carries none,
    /// so no peer can read a different direction from a stale session-level line. For hold and resume re-offers;
    /// call <see cref="IncrementVersion"/> as well.
    /// </summary>
    public SessionDescription WithDirection(MediaDirection direction) => new(this)
    {
        Attributes = SdpAttributes.WithDirection(Attributes, null),
        Media = [.. Media.Select(m => m.WithDirection(direction))],
    };

    /// <summary>A copy with the session-level direction replaced; null removes it.</summary>
    public SessionDescription WithSessionDirection(MediaDirection? direction) =>
        new(this) { Attributes = SdpAttributes.WithDirection(Attributes, direction) };

    public SessionDescription WithMedia(IEnumerable<MediaDescription> media)
    {
        ArgumentNullException.ThrowIfNull(media);
        return new SessionDescription(this) { Media = [.. media] };
    }

    public SessionDescription WithConnection(SdpConnection? connection) => new(this) { Connection = connection };

    /// <summary>A copy with another <c>o=</c> line: a back-to-back agent presents what it relays as its own session.</summary>
    public SessionDescription WithOrigin(SdpOrigin origin)
    {
        ArgumentNullException.ThrowIfNull(origin);
        return new SessionDescription(this) { Origin = origin };
    }

    /// <summary>A copy with the origin's session version one higher, as each changed re-offer needs (RFC 3264 §8).</summary>
    public SessionDescription IncrementVersion() =>
        new(this) { Origin = Origin with { SessionVersion = unchecked(Origin.SessionVersion + 1) } };

    /// <summary>Reads a session description; throws <see cref="FormatException"/> naming the line when it is malformed.</summary>
    public static SessionDescription Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return SdpParser.TryParse(text, out var sdp, out var error) ? sdp : throw new FormatException(error);
    }

    /// <summary>Reads a session description without throwing; false when it is malformed.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out SessionDescription? sdp) =>
        SdpParser.TryParse(text, out sdp, out _);

    /// <summary>Reads a session description without throwing; on failure <paramref name="error"/> names the line.</summary>
    public static bool TryParse(
        string? text,
        [NotNullWhen(true)] out SessionDescription? sdp,
        [NotNullWhen(false)] out string? error) =>
        SdpParser.TryParse(text, out sdp, out error);

    /// <summary>The description as sent on the wire: CRLF-terminated lines in RFC 4566 order.</summary>
    public override string ToString()
    {
        var lines = new List<(int Rank, string Text)>
        {
            (SdpFieldOrder.Version, $"v={ProtocolVersion}"),
            (SdpFieldOrder.Origin, $"o={Origin}"),
            (SdpFieldOrder.SessionName, $"s={SessionName}"),
        };
        if (Connection is not null)
        {
            lines.Add((SdpFieldOrder.Connection, $"c={Connection}"));
        }

        lines.Add((SdpFieldOrder.Timing, $"t={Timing}"));
        foreach (var attribute in Attributes)
        {
            lines.Add((SdpFieldOrder.Attributes, $"a={attribute}"));
        }

        foreach (var line in OtherLines)
        {
            lines.Add((SdpFieldOrder.SessionRankOf(line), line.ToString()));
        }

        var builder = new StringBuilder(256);

        // OrderBy is stable: within a slot the modelled line comes first, then kept lines in input order.
        foreach (var (_, text) in lines.OrderBy(l => l.Rank))
        {
            builder.Append(text).Append("\r\n");
        }

        foreach (var media in Media)
        {
            media.WriteTo(builder);
        }

        return builder.ToString();
    }
}
