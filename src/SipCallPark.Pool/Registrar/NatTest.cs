using System.Net;
using System.Net.Sockets;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Registrar;

/// <summary>
/// The registrar's NAT test (docs/design.md §11): looks at one Contact of a REGISTER and where the REGISTER came
/// from, and names every sign that the phone cannot be reached at its Contact (<see cref="NatSigns"/>).
/// </summary>
public static class NatTest
{
    public static NatSigns Detect(SipRequest register, NameAddress contact, SipEndPoint source)
    {
        var signs = NatSigns.None;
        var sourceAddress = Normalize(source.Address.Address);
        // maddr overrides the host as the destination (RFC 3261 §19.1.1), so it is what must match the source.
        var host = contact.Uri.Parameters.Get("maddr") ?? contact.Uri.HostWithoutBrackets;
        var contactAddress = IPAddress.TryParse(host.Trim('[', ']'), out var parsed) ? Normalize(parsed) : null;
        if (contactAddress is null || !contactAddress.Equals(sourceAddress)) signs |= NatSigns.ContactAddress;
        if (contactAddress is not null && IsPrivate(contactAddress) && !IsPrivate(sourceAddress)) signs |= NatSigns.PrivateContact;
        if (register.TopVia is { } via && !SentBySource(via, source)) signs |= NatSigns.ViaSentBy;
        // RFC 5626 §4.2.1: reg-id with +sip.instance asks for a flow; 'ob' in the Contact URI asks for the same.
        if ((contact.Parameters.Get("reg-id") is not null && contact.Parameters.Get("+sip.instance") is not null)
            || contact.Uri.Parameters.Contains("ob"))
            signs |= NatSigns.Outbound;
        if (source.Protocol != SipProtocol.Udp) signs |= NatSigns.Connection;
        return signs;
    }

    /// <summary>True for RFC 1918 (10/8, 172.16/12, 192.168/16), RFC 6598 (100.64/10) and IPv6 unique-local (fc00::/7) addresses.</summary>
    public static bool IsPrivate(IPAddress address)
    {
        address = Normalize(address);
        if (address.AddressFamily == AddressFamily.InterNetworkV6) return (address.GetAddressBytes()[0] & 0xFE) == 0xFC;
        var b = address.GetAddressBytes();
        return b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) || (b[0] == 100 && (b[1] & 0xC0) == 64);
    }

    /// <summary>Names the signs for people: the <c>/registrations</c> answer and the log.</summary>
    public static string Describe(NatSigns signs)
    {
        var parts = new List<string>();
        if (signs.HasFlag(NatSigns.ContactAddress)) parts.Add("Contact address is not the source");
        if (signs.HasFlag(NatSigns.PrivateContact)) parts.Add("Contact address is private, the source is not");
        if (signs.HasFlag(NatSigns.ViaSentBy)) parts.Add("Via sent-by is not the source");
        if (signs.HasFlag(NatSigns.Outbound)) parts.Add("the phone asked for outbound (RFC 5626)");
        if (signs.HasFlag(NatSigns.Connection)) parts.Add("registered over a connection, reused");
        return parts.Count == 0 ? "no NAT sign" : string.Join("; ", parts);
    }

    private static bool SentBySource(ViaHeader via, SipEndPoint source)
    {
        if (!IPAddress.TryParse(via.Host.Trim('[', ']'), out var host) || !Normalize(host).Equals(Normalize(source.Address.Address))) return false;
        var port = via.Port ?? (string.Equals(via.Transport, "TLS", StringComparison.OrdinalIgnoreCase) ? 5061 : 5060);
        return port == source.Address.Port;
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
