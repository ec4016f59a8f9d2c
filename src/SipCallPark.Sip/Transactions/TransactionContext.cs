using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Transactions;

/// <summary>
/// What every transaction of one layer shares: the transport, the timers' clock, options and log.
/// <paramref name="FailureLevel"/> is the level a transaction logs its own timeout or transport error at.
/// </summary>
internal sealed record TransactionContext(
    ISipMessageSender Sender,
    TransactionOptions Options,
    TimeProvider Time,
    ILogger Logger,
    Action<SipTransaction> Terminated,
    LogLevel FailureLevel = LogLevel.Information);
