using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// Implemented by the TLS channel: the certificate a peer presented in its handshake (mutual TLS, RFC 5630 §3.1.2),
/// for the layer above to decide who that peer is. The channel itself trusts no client certificate.
/// </summary>
public interface IPeerCertificates
{
    /// <summary>The certificate the peer at <paramref name="remote"/> presented, while its connection is open; else null.</summary>
    X509Certificate2? PeerCertificate(IPEndPoint remote);
}
