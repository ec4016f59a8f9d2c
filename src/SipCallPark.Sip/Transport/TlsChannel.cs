using System.Net;
using Microsoft.Extensions.Logging;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// SIP over TLS (RFC 3261 §26.2, RFC 5630): a TCP channel whose every connection, accepted or opened, first completes
/// a TLS 1.2+ handshake (<see cref="TlsOptions"/>: certificate, handshake deadline, concurrent handshakes), then frames
/// messages by Content-Length exactly like TCP, with the same size cap, idle and partial-message timeouts and
/// connection reuse (by connection, by peer address, and by RFC 5923 <c>alias</c>). Messages handed up and the trace
/// see the decrypted SIP; the protocol is <see cref="SipProtocol.Tls"/>.
/// </summary>
public sealed class TlsChannel : ISipChannel, IConnectionLookup, IConnectionAliases, IPeerCertificates
{
    private readonly TcpChannel _inner;

    public TlsChannel(IPEndPoint localEndPoint, TlsOptions tls, TransportOptions? options = null, ILogger? logger = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(tls);
        tls.Validate();
        _inner = new TcpChannel(localEndPoint, options, logger, timeProvider, tls);
    }

    public SipProtocol Protocol => SipProtocol.Tls;

    public bool IsReliable => true;

    public IPEndPoint LocalEndPoint => _inner.LocalEndPoint;

    /// <summary>Connections that finished their handshake and are open.</summary>
    internal int ConnectionCount => _inner.ConnectionCount;

    /// <summary>Handshakes running now.</summary>
    internal int HandshakesInProgress => _inner.HandshakesInProgress;

    public Task StartAsync(Func<ReceivedFrame, ValueTask> onFrame, CancellationToken ct) => _inner.StartAsync(onFrame, ct);

    public ValueTask<bool> SendAsync(ReadOnlyMemory<byte> data, IPEndPoint remote, long connectionId, CancellationToken ct) =>
        _inner.SendAsync(data, remote, connectionId, ct);

    /// <inheritdoc/>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? PeerCertificate(IPEndPoint remote) => _inner.PeerCertificate(remote);

    IPEndPoint? IConnectionLookup.OpenConnectionRemote(long connectionId) => ((IConnectionLookup)_inner).OpenConnectionRemote(connectionId);

    void IConnectionAliases.AddAlias(long connectionId, IPEndPoint sentBy) => ((IConnectionAliases)_inner).AddAlias(connectionId, sentBy);

    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}
