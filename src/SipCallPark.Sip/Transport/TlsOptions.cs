using System.Security.Cryptography.X509Certificates;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// The TLS side of a <see cref="TlsChannel"/> (RFC 3261 §26.2.1, RFC 5630): the certificate it presents and the bounds
/// on handshakes. The stream limits (message size, idle and partial-message timeouts) are the TCP ones of
/// <see cref="TransportOptions"/>. Immutable; checked by <see cref="Validate"/>.
/// </summary>
public sealed class TlsOptions
{
    /// <summary>The server certificate, with its private key. Required.</summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>A peer that has not finished its TLS handshake within this time is dropped: a client that connects and
    /// says nothing must not hold a socket (and a handshake slot) for as long as the idle timeout.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Handshakes in progress at once, inbound and outbound together; connections beyond are closed at once.</summary>
    public int MaxConcurrentHandshakes { get; init; } = 200;

    /// <summary>
    /// Asks every TLS client for a certificate (mutual TLS). A client that sends none, or one nobody trusts, is still
    /// served: the certificate only tells the layer above who the peer is (<see cref="IPeerCertificates"/>). Connections
    /// this side opens always offer <see cref="Certificate"/> when the server asks for one.
    /// </summary>
    public bool RequestClientCertificate { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option that is wrong.</summary>
    public void Validate()
    {
        if (Certificate is null)
        {
            throw new ArgumentNullException(nameof(Certificate), "A TLS channel needs a certificate.");
        }

        if (!Certificate.HasPrivateKey)
        {
            throw new ArgumentException("The TLS certificate has no private key.", nameof(Certificate));
        }

        if (HandshakeTimeout <= TimeSpan.Zero || HandshakeTimeout > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentOutOfRangeException(nameof(HandshakeTimeout), HandshakeTimeout,
                $"{nameof(HandshakeTimeout)} must be positive and at most 5 minutes.");
        }

        if (MaxConcurrentHandshakes is < 1 or > 100_000)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentHandshakes), MaxConcurrentHandshakes,
                $"{nameof(MaxConcurrentHandshakes)} must be between 1 and 100000.");
        }
    }
}
