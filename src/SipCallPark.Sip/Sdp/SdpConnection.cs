using System.Net;
using System.Net.Sockets;

namespace SipCallPark.Sip.Sdp;

/// <summary>The <c>c=</c> line (RFC 4566 §5.7).</summary>
/// <param name="Address">The connection address as written, including any multicast <c>/ttl/count</c> suffix.</param>
public sealed record SdpConnection(string NetworkType, string AddressType, string Address)
{
    public static SdpConnection For(IPAddress address) =>
        new("IN", AddressTypeOf(address), address.ToString());

    /// <summary>The address as an <see cref="IPAddress"/>, when it is a literal and not a host name.</summary>
    public bool TryGetIPAddress(out IPAddress? address)
    {
        var slash = Address.IndexOf('/');
        return IPAddress.TryParse(slash < 0 ? Address : Address[..slash], out address);
    }

    /// <summary>True for <c>0.0.0.0</c>, the RFC 2543 way of putting a call on hold that old phones still send.</summary>
    public bool IsUnspecified => TryGetIPAddress(out var ip) && ip!.Equals(IPAddress.Any);

    public override string ToString() => $"{NetworkType} {AddressType} {Address}";

    internal static string AddressTypeOf(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? "IP6" : "IP4";

    internal static bool TryParse(string value, out SdpConnection? connection)
    {
        connection = null;
        var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 3)
        {
            return false;
        }

        connection = new SdpConnection(parts[0], parts[1], parts[2]);
        return true;
    }
}
