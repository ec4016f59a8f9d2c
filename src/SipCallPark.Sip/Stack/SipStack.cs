using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Stack;

/// <summary>
/// One SIP stack instance: channels, the message transport and the transaction layer, wired together, with the
/// transaction user (a user agent, or the pool's dispatcher) plugged in as <see cref="User"/>. Everything is per
/// instance — two stacks in one process (a test with two phones) share nothing.
/// </summary>
public sealed class SipStack : ITransactionUser, IAsyncDisposable
{
    private readonly ILogger _logger;

    private SipStack(SipMessageTransport transport, TransactionOptions options, TimeProvider time, ILoggerFactory loggers, ISipIdGenerator ids)
    {
        Transport = transport;
        Time = time;
        Loggers = loggers;
        _logger = loggers.CreateLogger<SipStack>();
        Transactions = new SipTransactionLayer(transport, options, time, loggers.CreateLogger<SipTransactionLayer>(), this, ids);
    }

    public SipMessageTransport Transport { get; }

    public SipTransactionLayer Transactions { get; }

    public ISipIdGenerator Ids => Transactions.Ids;

    public TimeProvider Time { get; }

    public ILoggerFactory Loggers { get; }

    /// <summary>Who handles what the transaction layer hands up. Until one is set, requests get 503.</summary>
    public ITransactionUser? User { get; set; }

    /// <summary>Builds a stack over <paramref name="channels"/> and starts receiving.</summary>
    public static async Task<SipStack> StartAsync(IEnumerable<ISipChannel> channels, TransactionOptions? options = null,
        TimeProvider? time = null, ILoggerFactory? loggers = null, ISipIdGenerator? ids = null, CancellationToken cancellationToken = default)
    {
        loggers ??= NullLoggerFactory.Instance;
        var transport = new SipMessageTransport(channels, loggers.CreateLogger<SipMessageTransport>(), time);
        var stack = new SipStack(transport, options ?? new TransactionOptions(), time ?? TimeProvider.System, loggers, ids ?? new SipIdGenerator());
        await transport.StartAsync(message => new ValueTask(stack.Transactions.HandleIncomingAsync(message)), cancellationToken).ConfigureAwait(false);
        return stack;
    }

    /// <summary>A stack on UDP and TCP at one address (port 0 = any free port, the same for both).</summary>
    public static Task<SipStack> StartUdpTcpAsync(System.Net.IPEndPoint address, TransportOptions? transportOptions = null,
        TransactionOptions? options = null, TimeProvider? time = null, ILoggerFactory? loggers = null, ISipIdGenerator? ids = null,
        CancellationToken cancellationToken = default)
    {
        var (udp, tcp) = SipChannels.BindUdpAndTcp(address, transportOptions, loggers, time);
        return StartAsync([udp, tcp], options, time, loggers, ids, cancellationToken);
    }

    Task ITransactionUser.OnRequestAsync(ServerTransaction transaction)
    {
        if (User is { } user) return user.OnRequestAsync(transaction);
        _logger.LogWarning("No transaction user: {Method} answered 503", transaction.Method);
        return transaction.SendResponseAsync(Message.SipResponse.CreateFor(transaction.Request, 503, toTag: Ids.NewTag()));
    }

    Task ITransactionUser.OnAckAsync(IncomingMessage ack) => User?.OnAckAsync(ack) ?? Task.CompletedTask;

    Task ITransactionUser.OnCancelAsync(InviteServerTransaction invite, IncomingMessage cancel) =>
        User?.OnCancelAsync(invite, cancel) ?? Task.CompletedTask;

    Task ITransactionUser.OnStrayResponseAsync(IncomingMessage response) => User?.OnStrayResponseAsync(response) ?? Task.CompletedTask;

    Task ITransactionUser.OnAdditionalSuccessAsync(InviteClientTransaction transaction, IncomingMessage response) =>
        User?.OnAdditionalSuccessAsync(transaction, response) ?? Task.CompletedTask;

    Task ITransactionUser.OnServerTransactionFailedAsync(ServerTransaction transaction, TransactionFailure failure) =>
        User?.OnServerTransactionFailedAsync(transaction, failure) ?? Task.CompletedTask;

    public ValueTask DisposeAsync() => Transport.DisposeAsync();
}
