namespace SipCallPark.Sip.Tracing;

/// <summary>Where and how the SIP trace is mirrored to a Homer capture server as HEP3. Immutable; checked by
/// <see cref="Validate"/>.</summary>
public sealed class HepOptions
{
    internal const int MaxQueueCapacity = 1_000_000;

    /// <summary>The capture server, e.g. <c>udp:127.0.0.1:9060</c>.</summary>
    public required HepEndpoint Endpoint { get; init; }

    /// <summary>The capture agent id chunk (type 12): tells this pool's packets apart in Homer.</summary>
    public uint AgentId { get; init; }

    /// <summary>The authentication key chunk (type 14); none sends no such chunk.</summary>
    public string? Password { get; init; }

    /// <summary>Messages waiting to be sent; when full, further messages are dropped and counted.</summary>
    public int QueueCapacity { get; init; } = 10_000;

    /// <summary>TCP: the first wait before connecting again after a failure; doubled after each failure in a row.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>TCP: the longest wait between two connection attempts.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>TCP: a connect or a write that takes longer fails (the capture server stopped reading), and the
    /// connection is made again.</summary>
    public TimeSpan SendTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Music-on-hold RTP as counters only (<see cref="HepRtpCounters"/>): a JSON report per stream every
    /// <see cref="RtpCounterInterval"/>, no RTP or RTCP packet. Off by default.</summary>
    public bool RtpCounters { get; init; }

    /// <summary>How often <see cref="RtpCounters"/> reports each stream that sent since the last report.</summary>
    public TimeSpan RtpCounterInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option that is invalid.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Endpoint, nameof(Endpoint));
        if (Password is { } password && (password.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(password) > 1024))
        {
            throw new ArgumentException($"{nameof(HepOptions)}.{nameof(Password)} must be 1 to 1024 bytes, or absent.", nameof(Password));
        }

        if (QueueCapacity is < 1 or > MaxQueueCapacity)
        {
            throw new ArgumentOutOfRangeException(nameof(QueueCapacity), QueueCapacity,
                $"{nameof(HepOptions)}.{nameof(QueueCapacity)} must be between 1 and {MaxQueueCapacity}.");
        }

        if (ReconnectDelay <= TimeSpan.Zero || MaxReconnectDelay < ReconnectDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(ReconnectDelay), ReconnectDelay,
                $"{nameof(HepOptions)}.{nameof(ReconnectDelay)} must be positive and at most {nameof(MaxReconnectDelay)}.");
        }

        if (RtpCounterInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(RtpCounterInterval), RtpCounterInterval, $"{nameof(HepOptions)}.{nameof(RtpCounterInterval)} must be positive.");
        }

        if (SendTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(SendTimeout), SendTimeout, $"{nameof(HepOptions)}.{nameof(SendTimeout)} must be positive.");
        }
    }
}
