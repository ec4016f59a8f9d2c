namespace SipCallPark.Sip.Tracing;

/// <summary>Where and how much the SIP pcap trace writes. Immutable; checked by <see cref="Validate"/>.</summary>
public sealed class PcapOptions
{
    internal const long MinFileBytes = 4096;
    internal const int MaxQueueCapacity = 1_000_000;

    /// <summary>The first file, e.g. <c>logs/trace.pcap</c>. Rolled files sit beside it as <c>trace-1.pcap</c>,
    /// <c>trace-2.pcap</c>, …; an existing file is never overwritten (a restart continues at the next free name).</summary>
    public string Path { get; init; } = "";

    /// <summary>A file that would grow past this many bytes is closed and the next one started.
    /// A single record larger than this still goes, alone, into a file of its own.</summary>
    public long MaxFileBytes { get; init; } = 100L * 1024 * 1024;

    /// <summary>Messages waiting for the writer; when full, further messages are dropped and counted.</summary>
    public int QueueCapacity { get; init; } = 10_000;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option that is invalid.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Path))
        {
            throw new ArgumentException($"{nameof(PcapOptions)}.{nameof(Path)} must name a file.", nameof(Path));
        }

        if (Path.IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0 || Path.EndsWith('/') || Path.EndsWith('\\'))
        {
            throw new ArgumentException($"{nameof(PcapOptions)}.{nameof(Path)} '{Path}' is not a file path.", nameof(Path));
        }

        if (MaxFileBytes < MinFileBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxFileBytes), MaxFileBytes,
                $"{nameof(PcapOptions)}.{nameof(MaxFileBytes)} must be at least {MinFileBytes} bytes.");
        }

        if (QueueCapacity is < 1 or > MaxQueueCapacity)
        {
            throw new ArgumentOutOfRangeException(nameof(QueueCapacity), QueueCapacity,
                $"{nameof(PcapOptions)}.{nameof(QueueCapacity)} must be between 1 and {MaxQueueCapacity}.");
        }
    }
}
