using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Transactions;

/// <summary>
/// A server transaction as its TU sees it (RFC 3261 §17.2): the request, and <see cref="SendResponseAsync"/> for
/// the answers. Retransmitted requests never reach the TU; they get the last response again.
/// </summary>
public abstract class ServerTransaction : SipTransaction
{
    private readonly Func<ServerTransaction, TransactionFailure, Task> _failed;

    private protected ServerTransaction(TransactionContext context, IncomingMessage incoming, TransactionKey key, TransactionState initial,
        Func<ServerTransaction, TransactionFailure, Task> failed)
        : base(context, (SipRequest)incoming.Message, key, initial)
    {
        Incoming = incoming;
        _failed = failed;
    }

    /// <summary>The request as it arrived, with the path its responses take back.</summary>
    public IncomingMessage Incoming { get; }

    /// <summary>The last response handed to the transport, or null.</summary>
    public SipResponse? LastResponse { get; private set; }

    public override bool IsReliable => Incoming.IsReliable;

    /// <summary>
    /// Sends a response through the transaction. Returns false, without throwing, when the machine no longer takes
    /// this response (a final was already sent, it terminated) or the transport failed — the latter also terminates
    /// the transaction. Races such as a 487 after a 200 are therefore harmless.
    /// </summary>
    public Task<bool> SendResponseAsync(SipResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return RunAsync(() => OnSendAsync(response));
    }

    /// <summary>The machine's reaction to a response from the TU, under the gate.</summary>
    private protected abstract ValueTask<bool> OnSendAsync(SipResponse response);

    /// <summary>A retransmission of the request that created the transaction.</summary>
    internal Task OnRetransmissionAsync(IncomingMessage request) => RunAsync(async () =>
    {
        var last = LastResponse;
        if (last is null || !ResendsOnRetransmission)
        {
            Logger.LogDebug("Transaction {Branch} {Method} {CallId} absorbs a retransmitted request in {State}", Branch, Method, CallId, State);
            return;
        }
        Logger.LogDebug("Transaction {Branch} {Method} {CallId} answers a retransmitted request with {Status} again", Branch, Method, CallId, last.StatusCode);
        if (!await TransmitAsync(last).ConfigureAwait(false)) Fail(TransactionFailure.TransportError);
    });

    /// <summary>Whether the current state answers a retransmitted request with <see cref="LastResponse"/>.</summary>
    private protected abstract bool ResendsOnRetransmission { get; }

    /// <summary>Called once the layer has registered the transaction: starts timers that run from arrival.</summary>
    internal Task StartAsync() => RunAsync(() =>
    {
        if (Logger.IsEnabled(LogLevel.Debug))
            Logger.LogDebug("Transaction {Branch} {Method} {From} -> {To} from {Remote} {CallId}", Branch, Method, Request.From.Uri, Request.To.Uri, Incoming.Remote, CallId);
        OnStarted();
        return ValueTask.CompletedTask;
    });

    private protected virtual void OnStarted()
    {
    }

    /// <summary>Hands a response to the transport and remembers it; false when the transport failed.</summary>
    private protected async ValueTask<bool> TransmitAsync(SipResponse response)
    {
        LastResponse = response;
        try
        {
            return await Context.Sender.SendResponseAsync(response, Incoming).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Logger.LogWarning(ex, "Transaction {Branch} {Method} {CallId}: sending {Status} threw", Branch, Method, CallId, response.StatusCode);
            return false;
        }
    }

    /// <summary>Ends the transaction on a timeout or transport error and tells the TU once the gate is free.</summary>
    private protected void Fail(TransactionFailure failure, string? timer = null)
    {
        if (State == TransactionState.Terminated) return;
        if (timer is not null) LogTimeout(timer);
        else Logger.LogInformation("Transaction {Branch} {Method} {CallId}: transport error answering {Remote}", Branch, Method, CallId, Incoming.Remote);
        Transition(TransactionState.Terminated);
        Defer(() => _failed(this, failure));
    }

    private protected bool Refuse(SipResponse response)
    {
        Logger.LogDebug("Transaction {Branch} {Method} {CallId} does not send {Status} in {State}", Branch, Method, CallId, response.StatusCode, State);
        return false;
    }
}
