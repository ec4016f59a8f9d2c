using Microsoft.Extensions.Logging;

namespace SipCallPark.Sip.Tracing;

/// <summary>Every log line of the pcap trace, as structured templates (event ids 1300–1319).</summary>
internal static partial class TracingLog
{
    [LoggerMessage(1300, LogLevel.Warning, "SIP pcap trace queue is full: messages are being dropped ({Dropped} dropped so far)")]
    public static partial void PcapQueueFull(this ILogger logger, long dropped);

    [LoggerMessage(1301, LogLevel.Error, "SIP pcap trace could not write {File}; messages are dropped for {Pause}")]
    public static partial void PcapWriteFailed(this ILogger logger, Exception exception, string file, TimeSpan pause);

    [LoggerMessage(1302, LogLevel.Information, "SIP pcap trace writes to {File}")]
    public static partial void PcapFileOpened(this ILogger logger, string file);

    [LoggerMessage(1303, LogLevel.Warning, "SIP pcap trace skipped a {Size}-byte UDP message from {Source} to {Destination}: too large for one IP packet")]
    public static partial void PcapDatagramTooLarge(this ILogger logger, int size, string source, string destination);

    [LoggerMessage(1304, LogLevel.Error, "SIP pcap trace found no free file name after {Path}; messages are dropped")]
    public static partial void PcapNoFreeName(this ILogger logger, string path);

    [LoggerMessage(1305, LogLevel.Information, "SIP pcap trace closed: {Written} SIP messages written, {Dropped} dropped; {MediaWritten} media packets written, {MediaDropped} dropped; last file {File}")]
    public static partial void PcapClosed(this ILogger logger, long written, long dropped, long mediaWritten, long mediaDropped, string file);

    [LoggerMessage(1306, LogLevel.Warning, "SIP pcap trace closed incomplete: {Dropped} SIP messages dropped (not in the files), {Written} written; {MediaWritten} media packets written, {MediaDropped} dropped; last file {File}")]
    public static partial void PcapClosedIncomplete(this ILogger logger, long written, long dropped, long mediaWritten, long mediaDropped, string file);
}
