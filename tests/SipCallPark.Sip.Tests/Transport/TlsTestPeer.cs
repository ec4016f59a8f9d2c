using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transport;

/// <summary>A TLS client playing the phone: its own socket and SslStream, so tests decide how bytes are cut into writes.</summary>
internal sealed class TlsTestPeer : IDisposable
{
    private readonly List<byte> _received = [];

    private TlsTestPeer(Socket socket, SslStream ssl)
    {
        Socket = socket;
        Ssl = ssl;
    }

    public Socket Socket { get; }

    public SslStream Ssl { get; }

    public IPEndPoint LocalEndPoint => (IPEndPoint)Socket.LocalEndPoint!;

    /// <summary>A self-signed certificate with its key, as a lab pool makes one.</summary>
    public static X509Certificate2 Certificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=tls-test.callpark.lab", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    public static async Task<TlsTestPeer> ConnectAsync(IPEndPoint server, SslProtocols protocols = SslProtocols.None)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server, Loopback.Timeout());
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            EnabledSslProtocols = protocols,
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        }, Loopback.Timeout());
        return new TlsTestPeer(socket, ssl);
    }

    public async Task SendAsync(string text)
    {
        await Ssl.WriteAsync(Encoding.ASCII.GetBytes(text), Loopback.Timeout());
        await Ssl.FlushAsync(Loopback.Timeout());
    }

    /// <summary>Reads until one whole message has arrived, within the test patience.</summary>
    public async Task<string> ReadFrameAsync()
    {
        using var timeout = new CancellationTokenSource(FrameCollector.Patience);
        var chunk = new byte[4096];
        while (true)
        {
            var buffer = new ReadOnlySequence<byte>(_received.ToArray());
            if (TcpFramer.TryReadFrame(ref buffer, 1 << 20, out ReadOnlySequence<byte> frame) == FrameStatus.Frame)
            {
                _received.RemoveRange(0, (int)(_received.Count - buffer.Length));
                return Encoding.ASCII.GetString(frame.ToArray());
            }

            int read = await Ssl.ReadAsync(chunk, timeout.Token);
            if (read == 0) throw new InvalidOperationException("The server closed the connection.");
            _received.AddRange(chunk.AsSpan(0, read));
        }
    }

    /// <summary>True when the server closes the connection within the test patience.</summary>
    public async Task<bool> WaitForCloseAsync()
    {
        using var timeout = new CancellationTokenSource(FrameCollector.Patience);
        var chunk = new byte[4096];
        try
        {
            while (await Ssl.ReadAsync(chunk, timeout.Token) > 0)
            {
                // Discard anything sent before the close.
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        Ssl.Dispose();
        Socket.Dispose();
    }
}
