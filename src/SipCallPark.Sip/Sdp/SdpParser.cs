using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace SipCallPark.Sip.Sdp;

/// <summary>
/// Reads RFC 4566 text into a <see cref="SessionDescription"/>. Tolerant where peers differ in harmless ways (LF or
/// CRLF, blank lines, unknown line types, lines in a wrong slot), strict where the meaning would be unclear (no
/// <c>v=0</c> first, a missing or unreadable <c>o=</c>, <c>s=</c> or <c>t=</c>, an unreadable <c>c=</c>, <c>m=</c>
/// or <c>a=</c>). Never throws on input.
/// </summary>
internal static class SdpParser
{
    private const int MaxQuotedLength = 60;

    public static bool TryParse(
        string? text,
        [NotNullWhen(true)] out SessionDescription? sdp,
        [NotNullWhen(false)] out string? error)
    {
        sdp = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "SDP is empty";
            return false;
        }

        var session = new SessionParts();
        MediaParts? media = null;
        var mediaSections = new List<MediaDescription>();
        var sawVersion = false;
        var lineNumber = 0;

        // One pass over the lines; the loop ends with the text.
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.EndsWith('\r') ? rawLine[..^1] : rawLine;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            if (line.Length < 2 || line[1] != '=' || !char.IsAsciiLetterLower(line[0]))
            {
                error = Describe(lineNumber, $"expected '<type>=<value>' but read '{Quote(line)}'");
                return false;
            }

            var type = line[0];
            var value = line[2..];

            if (!sawVersion)
            {
                if (type != 'v' || value.Trim() != "0")
                {
                    error = Describe(lineNumber, $"an SDP must start with 'v=0' but starts with '{Quote(line)}'");
                    return false;
                }

                sawVersion = true;
                continue;
            }

            string? problem;
            if (type == 'm')
            {
                if (media is not null)
                {
                    mediaSections.Add(media.Build());
                }

                problem = MediaParts.TryStart(value, out media);
            }
            else if (media is null)
            {
                problem = session.Add(type, value);
            }
            else
            {
                problem = media.Add(type, value);
            }

            if (problem is not null)
            {
                error = Describe(lineNumber, problem);
                return false;
            }
        }

        if (media is not null)
        {
            mediaSections.Add(media.Build());
        }

        return session.TryBuild(mediaSections, out sdp, out error);
    }

    private static string Describe(int lineNumber, string problem) => $"SDP line {lineNumber}: {problem}";

    private static string Quote(string line) =>
        line.Length <= MaxQuotedLength ? line : string.Concat(line.AsSpan(0, MaxQuotedLength), "…");

    private sealed class SessionParts
    {
        private readonly List<SdpAttribute> _attributes = [];
        private readonly List<SdpLine> _otherLines = [];
        private SdpOrigin? _origin;
        private string? _sessionName;
        private SdpConnection? _connection;
        private SdpTiming? _timing;
        private int _lastRank = SdpFieldOrder.Version;

        /// <returns>Null when the line was taken, else what is wrong with it.</returns>
        public string? Add(char type, string value)
        {
            var rank = SdpFieldOrder.SessionRank(type) ?? _lastRank;
            _lastRank = rank;
            switch (type)
            {
                case 'v':
                    return "a second v= line";
                case 'o':
                    if (_origin is not null)
                    {
                        return "a second o= line";
                    }

                    return SdpOrigin.TryParse(value, out _origin)
                        ? null
                        : $"o= needs '<username> <sess-id> <sess-version> <nettype> <addrtype> <address>' with numeric id and version, read '{Quote(value)}'";
                case 's':
                    if (_sessionName is not null)
                    {
                        return "a second s= line";
                    }

                    _sessionName = value;
                    return null;
                case 'c':
                    if (_connection is not null)
                    {
                        return "a second session-level c= line";
                    }

                    return SdpConnection.TryParse(value, out _connection)
                        ? null
                        : $"c= needs '<nettype> <addrtype> <address>', read '{Quote(value)}'";
                case 't' when _timing is null:
                    if (!SdpTiming.TryParse(value, out var timing))
                    {
                        return $"t= needs '<start> <stop>' as numbers, read '{Quote(value)}'";
                    }

                    _timing = timing;
                    return null;
                case 'a':
                    if (!SdpAttribute.TryParse(value, out var attribute))
                    {
                        return $"a= needs an attribute name, read '{Quote(value)}'";
                    }

                    _attributes.Add(attribute!);
                    return null;
                default:
                    _otherLines.Add(new SdpLine(type, value) { Rank = rank });
                    return null;
            }
        }

        public bool TryBuild(
            List<MediaDescription> media,
            [NotNullWhen(true)] out SessionDescription? sdp,
            [NotNullWhen(false)] out string? error)
        {
            sdp = null;
            error = _origin is null ? "SDP has no o= line"
                : _sessionName is null ? "SDP has no s= line"
                : _timing is null ? "SDP has no t= line"
                : null;
            if (error is not null)
            {
                return false;
            }

            sdp = new SessionDescription(_origin!, _sessionName!, _connection, _timing!.Value, _attributes, media, _otherLines);
            return true;
        }
    }

    private sealed class MediaParts
    {
        private readonly List<SdpAttribute> _attributes = [];
        private readonly List<SdpLine> _otherLines = [];
        private readonly string _media;
        private readonly int _port;
        private readonly int? _portCount;
        private readonly string _protocol;
        private readonly string[] _formats;
        private SdpConnection? _connection;
        private int _lastRank = SdpFieldOrder.MediaLine;

        private MediaParts(string media, int port, int? portCount, string protocol, string[] formats)
        {
            _media = media;
            _port = port;
            _portCount = portCount;
            _protocol = protocol;
            _formats = formats;
        }

        /// <returns>Null when the m= line was read, else what is wrong with it.</returns>
        public static string? TryStart(string value, out MediaParts? media)
        {
            media = null;
            // Any whitespace separates: a stray CR or tab must not end up as the <proto> the constructor refuses.
            var parts = value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 3)
            {
                return $"m= needs '<media> <port> <proto> <fmt> …', read '{Quote(value)}'";
            }

            var portText = parts[1];
            int? portCount = null;
            var slash = portText.IndexOf('/');
            if (slash >= 0)
            {
                if (!int.TryParse(portText.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
                    || count < 1)
                {
                    return $"m= port count must be a positive number, read '{Quote(portText)}'";
                }

                portCount = count;
                portText = portText[..slash];
            }

            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
            {
                return $"m= port must be a number from 0 to 65535, read '{Quote(portText)}'";
            }

            media = new MediaParts(parts[0], port, portCount, parts[2], parts[3..]);
            return null;
        }

        /// <returns>Null when the line was taken, else what is wrong with it.</returns>
        public string? Add(char type, string value)
        {
            var rank = SdpFieldOrder.MediaRank(type) ?? _lastRank;
            _lastRank = rank;
            switch (type)
            {
                case 'v' or 'o' or 's':
                    return $"{type}= belongs before the first m= line";
                case 'c' when _connection is null:
                    return SdpConnection.TryParse(value, out _connection)
                        ? null
                        : $"c= needs '<nettype> <addrtype> <address>', read '{Quote(value)}'";
                case 'a':
                    if (!SdpAttribute.TryParse(value, out var attribute))
                    {
                        return $"a= needs an attribute name, read '{Quote(value)}'";
                    }

                    _attributes.Add(attribute!);
                    return null;
                default:
                    // Includes further c= lines (layered multicast, RFC 4566 §5.7), kept as they came.
                    _otherLines.Add(new SdpLine(type, value) { Rank = rank });
                    return null;
            }
        }

        public MediaDescription Build() =>
            new(_media, _port, _protocol, _formats, _connection, _attributes, _portCount, _otherLines);
    }
}
