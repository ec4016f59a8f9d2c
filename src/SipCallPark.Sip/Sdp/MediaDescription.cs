using System.Globalization;
using System.Text;

namespace SipCallPark.Sip.Sdp;

/// <summary>
/// One <c>m=</c> section (RFC 4566 §5.14) with its connection, attributes and the lines this model keeps without
/// reading. Immutable: the <c>With…</c> methods return a changed copy.
/// </summary>
public sealed class MediaDescription
{
    public MediaDescription(
        string media,
        int port,
        string protocol,
        IEnumerable<string> formats,
        SdpConnection? connection = null,
        IEnumerable<SdpAttribute>? attributes = null,
        int? portCount = null,
        IEnumerable<SdpLine>? otherLines = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(media);
        ArgumentException.ThrowIfNullOrWhiteSpace(protocol);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        Media = media;
        Port = port;
        Protocol = protocol;
        Formats = [.. formats];
        Connection = connection;
        Attributes = attributes is null ? [] : [.. attributes];
        PortCount = portCount;
        OtherLines = otherLines is null ? [] : [.. otherLines];
    }

    private MediaDescription(MediaDescription other)
    {
        Media = other.Media;
        Port = other.Port;
        Protocol = other.Protocol;
        Formats = other.Formats;
        Connection = other.Connection;
        Attributes = other.Attributes;
        PortCount = other.PortCount;
        OtherLines = other.OtherLines;
    }

    /// <summary><c>audio</c>, <c>video</c>, …</summary>
    public string Media { get; }

    /// <summary>The transport port; 0 means the stream is rejected or disabled (RFC 3264 §6).</summary>
    public int Port { get; private init; }

    /// <summary>The <c>/number</c> after the port, when given.</summary>
    public int? PortCount { get; }

    /// <summary><c>RTP/AVP</c>, <c>RTP/SAVP</c>, …</summary>
    public string Protocol { get; }

    /// <summary>The format list; RTP payload type numbers for RTP profiles.</summary>
    public IReadOnlyList<string> Formats { get; }

    /// <summary>The media-level <c>c=</c>, which overrides the session-level one.</summary>
    public SdpConnection? Connection { get; private init; }

    public IReadOnlyList<SdpAttribute> Attributes { get; private init; }

    public IReadOnlyList<SdpLine> OtherLines { get; }

    /// <summary>The direction written at media level, or null when none is (the session level then applies).</summary>
    public MediaDirection? Direction => SdpAttributes.FindDirection(Attributes);

    /// <summary>The <c>a=rtpmap</c> attributes that can be read, in order.</summary>
    public IEnumerable<SdpRtpMap> RtpMaps
    {
        get
        {
            foreach (var attribute in Attributes)
            {
                if (attribute.Name == SdpRtpMap.AttributeName && SdpRtpMap.TryParse(attribute.Value, out var map))
                {
                    yield return map!;
                }
            }
        }
    }

    /// <summary>The packet time in milliseconds from <c>a=ptime</c>, when given and readable.</summary>
    public int? Ptime =>
        int.TryParse(SdpAttributes.FirstValue(Attributes, "ptime"), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? ms
            : null;

    /// <summary>
    /// The rtpmap of a payload type: the <c>a=rtpmap</c> line, or for a static payload type of RFC 3551 §6 that
    /// came without one, the table value.
    /// </summary>
    public SdpRtpMap? GetRtpMap(int payloadType)
    {
        foreach (var map in RtpMaps)
        {
            if (map.PayloadType == payloadType)
            {
                return map;
            }
        }

        return payloadType switch
        {
            0 => new SdpRtpMap(0, "PCMU", 8000),
            3 => new SdpRtpMap(3, "GSM", 8000),
            8 => new SdpRtpMap(8, "PCMA", 8000),
            9 => new SdpRtpMap(9, "G722", 8000),
            18 => new SdpRtpMap(18, "G729", 8000),
            _ => null,
        };
    }

    /// <summary>A copy with the media-level direction replaced; null removes it so the session level applies.</summary>
    public MediaDescription WithDirection(MediaDirection? direction) =>
        new(this) { Attributes = SdpAttributes.WithDirection(Attributes, direction) };

    public MediaDescription WithPort(int port)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        return new MediaDescription(this) { Port = port };
    }

    public MediaDescription WithConnection(SdpConnection? connection) => new(this) { Connection = connection };

    public override string ToString()
    {
        var builder = new StringBuilder();
        WriteTo(builder);
        return builder.ToString();
    }

    internal void WriteTo(StringBuilder builder)
    {
        var lines = new List<(int Rank, string Text)>
        {
            (SdpFieldOrder.MediaLine, $"m={FormatMediaLine()}"),
        };
        if (Connection is not null)
        {
            lines.Add((SdpFieldOrder.MediaConnection, $"c={Connection}"));
        }

        foreach (var attribute in Attributes)
        {
            lines.Add((SdpFieldOrder.MediaAttributes, $"a={attribute}"));
        }

        foreach (var line in OtherLines)
        {
            lines.Add((SdpFieldOrder.MediaRankOf(line), line.ToString()));
        }

        // OrderBy is stable: within a slot the modelled line comes first, then kept lines in input order.
        foreach (var (_, text) in lines.OrderBy(l => l.Rank))
        {
            builder.Append(text).Append("\r\n");
        }
    }

    private string FormatMediaLine()
    {
        var port = PortCount is { } count
            ? string.Create(CultureInfo.InvariantCulture, $"{Port}/{count}")
            : Port.ToString(CultureInfo.InvariantCulture);
        var head = $"{Media} {port} {Protocol}";
        return Formats.Count == 0 ? head : $"{head} {string.Join(' ', Formats)}";
    }
}
