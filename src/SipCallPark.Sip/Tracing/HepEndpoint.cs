using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SipCallPark.Sip.Tracing;

/// <summary>Where HEP packets go: <c>udp:HOST:PORT</c> or <c>tcp:HOST:PORT</c>, HOST an IPv4 address, a bracketed IPv6
/// address (<c>udp:[::1]:9060</c>) or a host name (resolved when the exporter connects).</summary>
/// <param name="Transport"><see cref="ProtocolType.Udp"/> or <see cref="ProtocolType.Tcp"/>.</param>
/// <param name="Host">The address literal (without brackets) or host name.</param>
/// <param name="Port">1–65535.</param>
public sealed record HepEndpoint(ProtocolType Transport, string Host, int Port)
{
    /// <summary>Reads <paramref name="text"/>; false with a reason (for the configuration error) when it is malformed.</summary>
    public static bool TryParse(string? text, out HepEndpoint? endpoint, out string reason)
    {
        endpoint = null;
        reason = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            reason = "it is empty";
            return false;
        }

        int colon = text.IndexOf(':');
        string scheme = colon < 0 ? "" : text[..colon];
        ProtocolType transport;
        if (scheme.Equals("udp", StringComparison.OrdinalIgnoreCase)) transport = ProtocolType.Udp;
        else if (scheme.Equals("tcp", StringComparison.OrdinalIgnoreCase)) transport = ProtocolType.Tcp;
        else
        {
            reason = "it must start with udp: or tcp:";
            return false;
        }

        string rest = text[(colon + 1)..];
        int portColon = rest.LastIndexOf(':');
        if (portColon <= 0)
        {
            reason = "it needs a host and a port, as udp:HOST:PORT";
            return false;
        }

        string host = rest[..portColon];
        string portText = rest[(portColon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            reason = "the port must be a number between 1 and 65535";
            return false;
        }

        if (host.StartsWith('['))
        {
            if (!host.EndsWith(']') || !IPAddress.TryParse(host[1..^1], out IPAddress? v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                reason = "a bracketed host must be an IPv6 address, as udp:[::1]:9060";
                return false;
            }
            host = host[1..^1];
        }
        else if (host.Contains(':'))
        {
            reason = "an IPv6 host goes in brackets, as udp:[::1]:9060";
            return false;
        }
        else if (Uri.CheckHostName(host) is not (UriHostNameType.Dns or UriHostNameType.IPv4))
        {
            reason = "the host must be an IP address or a host name";
            return false;
        }

        endpoint = new HepEndpoint(transport, host, port);
        return true;
    }

    /// <summary>Parses or throws <see cref="FormatException"/> with the reason.</summary>
    public static HepEndpoint Parse(string text) =>
        TryParse(text, out HepEndpoint? endpoint, out string reason) ? endpoint! : throw new FormatException($"'{text}' is not a HEP endpoint: {reason}");

    public override string ToString() =>
        $"{(Transport == ProtocolType.Udp ? "udp" : "tcp")}:{(Host.Contains(':') ? $"[{Host}]" : Host)}:{Port.ToString(CultureInfo.InvariantCulture)}";
}
