using System.Net;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Proxy;

/// <summary>This pool's name and the addresses it listens on: what "a URI that names us" means.</summary>
public sealed class PoolIdentity(string name, IReadOnlyList<IPEndPoint> listenEndPoints)
{
    public string Name { get; } = name;

    public IReadOnlyList<IPEndPoint> ListenEndPoints { get; } = listenEndPoints;

    public bool Is(string poolName) => string.Equals(poolName, Name, StringComparison.OrdinalIgnoreCase);

    /// <summary>True when the URI's host and port are one of our listening addresses (5060 when absent, 5061 for sips:).</summary>
    public bool IsMe(SipUri uri)
    {
        if (!IPAddress.TryParse(uri.HostWithoutBrackets, out var ip)) return false;
        var port = uri.Port ?? (uri.IsSecure ? 5061 : 5060);
        return ListenEndPoints.Any(ep => ep.Port == port && (ep.Address.Equals(ip) || (ep.Address.Equals(IPAddress.Any) && IPAddress.IsLoopback(ip))));
    }
}
