namespace SipCallPark.Sip.Transport;

/// <summary>Limits and timeouts of the UDP and TCP channels. Immutable; checked by <see cref="Validate"/>.</summary>
public sealed class TransportOptions
{
    internal const int MinMessageSize = 256;
    internal const int MaxMessageSizeLimit = 16 * 1024 * 1024;

    // Timers take milliseconds as an int on some platforms; ~24 days is far beyond any sensible SIP timeout.
    private static readonly TimeSpan LongestTimeout = TimeSpan.FromMilliseconds(int.MaxValue);

    /// <summary>Largest message accepted, headers plus body, on UDP and on TCP. Larger ones are dropped
    /// (UDP) or close the connection (TCP).</summary>
    public int MaxMessageSize { get; init; } = 65535;

    /// <summary>A TCP connection with no bytes either way for this long is closed. Generous because phones
    /// parked for a long time may have nothing to say, and RFC 5626 keepalives count as traffic.</summary>
    public TimeSpan TcpIdleTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an outgoing TCP connect may take before the send fails.</summary>
    public TimeSpan TcpConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Slow-loris guard: a TCP connection holding a partial message for longer than this is closed.</summary>
    public TimeSpan TcpHeaderReadTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A TCP write that cannot hand its bytes to the socket for this long (the peer stopped reading and both
    /// buffers are full) closes the connection: a stuck peer must not hold a sender, or the connection, forever.</summary>
    public TimeSpan TcpWriteTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Open TCP connections, inbound and outbound together; more are refused.</summary>
    public int MaxTcpConnections { get; init; } = 10_000;

    /// <summary>Concurrent receive loops on the UDP socket.</summary>
    public int UdpReceiveLoops { get; init; } = 2;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option that is out of range.</summary>
    public void Validate()
    {
        if (MaxMessageSize is < MinMessageSize or > MaxMessageSizeLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxMessageSize), MaxMessageSize,
                $"{nameof(MaxMessageSize)} must be between {MinMessageSize} and {MaxMessageSizeLimit} bytes.");
        }

        CheckTimeout(TcpIdleTimeout, nameof(TcpIdleTimeout));
        CheckTimeout(TcpConnectTimeout, nameof(TcpConnectTimeout));
        CheckTimeout(TcpHeaderReadTimeout, nameof(TcpHeaderReadTimeout));
        CheckTimeout(TcpWriteTimeout, nameof(TcpWriteTimeout));

        if (MaxTcpConnections < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTcpConnections), MaxTcpConnections,
                $"{nameof(MaxTcpConnections)} must be at least 1.");
        }

        if (UdpReceiveLoops is < 1 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(UdpReceiveLoops), UdpReceiveLoops,
                $"{nameof(UdpReceiveLoops)} must be between 1 and 64.");
        }
    }

    private static void CheckTimeout(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero || value > LongestTimeout)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive and at most {LongestTimeout}.");
        }
    }
}
