using System.Net;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// Dual-mode IPv6 sockets report IPv4 peers as ::ffff:a.b.c.d; the layers above (received, connection reuse)
/// must see the plain IPv4 address so that one peer has one key.
/// </summary>
internal static class EndPointMapping
{
    public static IPEndPoint Unmapped(this IPEndPoint endPoint) =>
        endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
}
