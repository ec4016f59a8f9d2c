using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Hosting;

/// <summary>
/// Binds the channels a pool listens on: UDP and TCP sharing <see cref="PoolSettings.SipEndPoint"/>'s port, and TLS on
/// <see cref="PoolSettings.TlsPort"/>, WebSocket and secure WebSocket on theirs (RFC 7118), at the same address. UDP, when served, comes first:
/// <see cref="PoolServer.SipEndPoint"/> is the first channel's address.
/// </summary>
internal static class PoolChannels
{
    public static List<ISipChannel> Bind(PoolSettings settings, ILoggerFactory loggers, TimeProvider time)
    {
        var channels = new List<ISipChannel>();
        try
        {
            if (settings.Transports.Contains(SipProtocol.Udp) && settings.Transports.Contains(SipProtocol.Tcp))
            {
                var (udp, tcp) = SipChannels.BindUdpAndTcp(settings.SipEndPoint, settings.Transport, loggers, time);
                channels.Add(udp);
                channels.Add(tcp);
            }
            else if (settings.Transports.Contains(SipProtocol.Udp))
            {
                channels.Add(new UdpChannel(settings.SipEndPoint, settings.Transport, loggers.CreateLogger<UdpChannel>(), time));
            }
            else if (settings.Transports.Contains(SipProtocol.Tcp))
            {
                channels.Add(new TcpChannel(settings.SipEndPoint, settings.Transport, loggers.CreateLogger<TcpChannel>(), time));
            }

            if (settings.Transports.Contains(SipProtocol.Tls))
            {
                var tls = settings.Tls ?? throw new InvalidOperationException("PoolSettings.Tls is required for the TLS transport");
                // Mutual TLS is asked for on the TLS port only: browsers on WSS are never asked for a certificate.
                if (settings.PartnerTls is not null)
                {
                    tls = new TlsOptions
                    {
                        Certificate = tls.Certificate, HandshakeTimeout = tls.HandshakeTimeout,
                        MaxConcurrentHandshakes = tls.MaxConcurrentHandshakes, RequestClientCertificate = true,
                    };
                }
                var at = new System.Net.IPEndPoint(settings.SipEndPoint.Address, settings.TlsPort);
                channels.Add(new TlsChannel(at, tls, settings.Transport, loggers.CreateLogger<TlsChannel>(), time));
            }

            if (settings.Transports.Contains(SipProtocol.Ws))
            {
                var at = new System.Net.IPEndPoint(settings.SipEndPoint.Address, settings.WebSocketPort);
                channels.Add(new WebSocketChannel(at, null, settings.Transport, loggers.CreateLogger<WebSocketChannel>(), time));
            }

            if (settings.Transports.Contains(SipProtocol.Wss))
            {
                var tls = settings.Tls ?? throw new InvalidOperationException("PoolSettings.Tls is required for the WSS transport");
                var at = new System.Net.IPEndPoint(settings.SipEndPoint.Address, settings.SecureWebSocketPort);
                channels.Add(new WebSocketChannel(at, tls, settings.Transport, loggers.CreateLogger<WebSocketChannel>(), time));
            }
        }
        catch
        {
            foreach (var bound in channels) _ = bound.DisposeAsync().AsTask();
            throw;
        }

        if (channels.Count == 0) throw new InvalidOperationException("PoolSettings.Transports names no transport");
        return channels;
    }
}
