using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using SipCallPark.Pool.Hosting;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>The self-signed certificate the lab pools and phones present over TLS, and where a pool listens for TLS.</summary>
internal static class LabTls
{
    /// <summary>Made once per test run; nothing changes it.</summary>
    public static X509Certificate2 Certificate { get; } = Create();

    /// <summary>The pool's listening address for <paramref name="transport"/>: its TLS channel's for TLS, else its SIP address.</summary>
    public static IPEndPoint EndPointOf(PoolServer pool, SipProtocol transport) =>
        transport == SipProtocol.Tls
            ? pool.Stack.Transport.ChannelFor(SipProtocol.Tls, AddressFamily.InterNetwork)?.LocalEndPoint
              ?? throw new InvalidOperationException("The pool serves no TLS: start the lab with tls: true")
            : pool.SipEndPoint;

    private static X509Certificate2 Create()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=lab.callpark.lab", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));
    }
}
