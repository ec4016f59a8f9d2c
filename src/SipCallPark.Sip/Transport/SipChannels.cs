using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace SipCallPark.Sip.Transport;

/// <summary>Creates the channels a SIP host listens on.</summary>
public static class SipChannels
{
    private const int MaxBindAttempts = 8;

    /// <summary>
    /// Binds UDP and TCP on the same port (RFC 3261 §18: a server listening on a port for UDP listens for TCP on it
    /// too). UDP binds first; with port 0 it picks the port and TCP follows it, retrying with a fresh port when
    /// another socket holds that port for TCP. The channels are bound but not started.
    /// </summary>
    public static (UdpChannel Udp, TcpChannel Tcp) BindUdpAndTcp(IPEndPoint endPoint, TransportOptions? options = null,
        ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        options ??= new TransportOptions();
        options.Validate();

        for (int attempt = 1; ; attempt++)
        {
            var udp = new UdpChannel(endPoint, options, loggerFactory?.CreateLogger<UdpChannel>(), timeProvider);
            try
            {
                var tcp = new TcpChannel(udp.LocalEndPoint, options, loggerFactory?.CreateLogger<TcpChannel>(), timeProvider);
                return (udp, tcp);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse
                                            && endPoint.Port == 0 && attempt < MaxBindAttempts)
            {
                udp.CloseUnstarted();
            }
            catch
            {
                udp.CloseUnstarted();
                throw;
            }
        }
    }
}
