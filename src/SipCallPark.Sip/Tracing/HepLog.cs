using Microsoft.Extensions.Logging;

namespace SipCallPark.Sip.Tracing;

/// <summary>Every log line of the HEP export, as structured templates (event ids 1310–1319).</summary>
internal static partial class HepLog
{
    [LoggerMessage(1310, LogLevel.Information, "SIP trace goes to the HEP3 capture server {Endpoint} as agent {AgentId}")]
    public static partial void HepStarted(this ILogger logger, string endpoint, uint agentId);

    [LoggerMessage(1311, LogLevel.Warning, "HEP trace is dropping messages ({Dropped} dropped so far): the queue is full or a message is too large for HEP")]
    public static partial void HepDropping(this ILogger logger, long dropped);

    [LoggerMessage(1312, LogLevel.Warning, "HEP trace cannot reach {Endpoint}: {Reason}; trying again with backoff (messages wait in the queue while it has room)")]
    public static partial void HepUnreachable(this ILogger logger, string endpoint, string reason);

    [LoggerMessage(1313, LogLevel.Information, "HEP trace reaches {Endpoint} again after {Failures} failed attempts or sends")]
    public static partial void HepReachable(this ILogger logger, string endpoint, long failures);
}
