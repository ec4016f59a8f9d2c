using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// Turns a connected socket into an authenticated <see cref="SslStream"/> for a <see cref="TcpChannel"/> serving TLS:
/// TLS 1.2 or 1.3 only, a deadline on every handshake and a cap on how many run at once. A failed handshake is one
/// log line naming the peer and the reason (rate-limited, since anyone can fail one), never an exception trace.
/// </summary>
internal sealed class TlsHandshaker
{
    private const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    private readonly TlsOptions _options;
    private readonly SslStreamCertificateContext _serverContext;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly LogBudget _failureLog;
    private int _slots;
    private int _inProgress;

    public TlsHandshaker(TlsOptions options, TimeProvider time, ILogger logger)
    {
        options.Validate();
        _options = options;
        _serverContext = SslStreamCertificateContext.Create(options.Certificate!, additionalCertificates: null, offline: true);
        _time = time;
        _logger = logger;
        _failureLog = new LogBudget(20, 200, time);
    }

    /// <summary>Handshakes in progress now, each under its deadline.</summary>
    public int InProgress => Volatile.Read(ref _inProgress);

    /// <summary>
    /// Runs the server (<paramref name="inbound"/>) or client side of the handshake on <paramref name="socket"/>.
    /// Returns the stream to frame SIP on, or null, having logged why and closed the socket.
    /// </summary>
    public async Task<SslStream?> AuthenticateAsync(Socket socket, IPEndPoint remote, bool inbound, CancellationToken lifetime)
    {
        if (Interlocked.Increment(ref _slots) > _options.MaxConcurrentHandshakes)
        {
            Interlocked.Decrement(ref _slots);
            if (_failureLog.TryTake(out _)) _logger.TlsHandshakeLimitReached(remote, _options.MaxConcurrentHandshakes);
            socket.Dispose();
            return null;
        }

        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(lifetime);
        // Closing the socket, not only cancelling, is what surely ends a read the peer never answers.
        var expiry = new Expiry(socket);
        using ITimer deadline = _time.CreateTimer(static state => ((Expiry)state!).Expire(), expiry, _options.HandshakeTimeout,
            Timeout.InfiniteTimeSpan);
        Interlocked.Increment(ref _inProgress);
        string? failure;
        try
        {
            if (inbound)
            {
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = _serverContext,
                    EnabledSslProtocols = Protocols,
                    // Asked for, never demanded: who a certificate belongs to is the pool's question (IPeerCertificates).
                    ClientCertificateRequired = _options.RequestClientCertificate,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = _options.RequestClientCertificate ? static (_, _, _, _) => true : null,
                }, attempt.Token).ConfigureAwait(false);
            }
            else
            {
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = remote.Address.ToString(),
                    EnabledSslProtocols = Protocols,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    // A lab pool reaches phones and its partner by address, with self-signed certificates: it encrypts
                    // but does not authenticate the far end (docs/design.md §11; README "TLS").
                    RemoteCertificateValidationCallback = static (_, _, _, _) => true,
                    // Offered only when the far end asks: a partner pool with mutual TLS knows this pool by it.
                    ClientCertificateContext = _serverContext,
                }, attempt.Token).ConfigureAwait(false);
            }

        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException or ObjectDisposedException
                                      or OperationCanceledException or InvalidOperationException)
        {
            failure = lifetime.IsCancellationRequested ? null
                : expiry.Expired ? $"no handshake within {_options.HandshakeTimeout}"
                : Reason(e);
            await ssl.DisposeAsync().ConfigureAwait(false);
            if (failure is not null && _failureLog.TryTake(out var suppressed))
            {
                if (suppressed > 0) _logger.TlsFailureLinesSuppressed(suppressed, _failureLog.PerSecond);
                _logger.TlsHandshakeFailed(remote, inbound ? "inbound" : "outbound", failure);
            }

            return null;
        }
        finally
        {
            Interlocked.Decrement(ref _inProgress);
            Interlocked.Decrement(ref _slots);
        }

        _logger.TlsHandshakeDone(remote, inbound ? "inbound" : "outbound", ssl.SslProtocol, ssl.NegotiatedCipherSuite);
        return ssl;
    }

    private sealed class Expiry(Socket socket)
    {
        private int _expired;

        public bool Expired => Volatile.Read(ref _expired) != 0;

        public void Expire()
        {
            Volatile.Write(ref _expired, 1);
            socket.Dispose();
        }
    }

    /// <summary>The innermost message: "Authentication failed because the remote party sent a TLS alert" says less than its cause.</summary>
    private static string Reason(Exception e)
    {
        while (e.InnerException is { } inner) e = inner;
        return e.Message;
    }
}
