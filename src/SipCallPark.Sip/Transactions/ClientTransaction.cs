using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Transactions;

/// <summary>
/// A client transaction as its TU sees it (RFC 3261 §17.1): provisional responses as they come, and one
/// <see cref="Completion"/> with the final response or a timeout / transport failure.
/// </summary>
public abstract class ClientTransaction : SipTransaction
{
    private readonly TaskCompletionSource<ClientTransactionResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<SipResponse> _provisionals = Channel.CreateUnbounded<SipResponse>(new UnboundedChannelOptions { SingleWriter = true });

    private protected ClientTransaction(TransactionContext context, SipRequest request, SipEndPoint destination, TransactionState initial)
        : base(context, request, TransactionKey.ForClient(request), initial)
    {
        Destination = destination;
    }

    public SipEndPoint Destination { get; }

    public override bool IsReliable => Destination.Protocol != SipProtocol.Udp;

    /// <summary>1xx responses in arrival order; completes when the transaction has its outcome.</summary>
    public ChannelReader<SipResponse> ProvisionalResponses => _provisionals.Reader;

    /// <summary>The final response, or the timeout / transport error that ended the transaction.</summary>
    public Task<ClientTransactionResult> Completion => _completion.Task;

    /// <summary>Sends the request and starts the timers.</summary>
    internal abstract Task StartAsync();

    /// <summary>A response whose top Via branch and CSeq method matched this transaction (§17.1.3).</summary>
    internal abstract Task OnResponseAsync(IncomingMessage response);

    private protected void ReportProvisional(SipResponse response) => _provisionals.Writer.TryWrite(response);

    private protected void Complete(ClientTransactionResult result)
    {
        if (_completion.TrySetResult(result)) _provisionals.Writer.TryComplete();
    }

    /// <summary>Ends the transaction with a timeout or transport error, and tells the TU.</summary>
    private protected ValueTask FailAsync(TransactionFailure failure, string? timer = null)
    {
        if (timer is not null) LogTimeout(timer);
        else Logger.Log(Context.FailureLevel, "Transaction {Branch} {Method} {CallId}: transport error sending to {Destination}", Branch, Method, CallId, Destination);
        Complete(ClientTransactionResult.Failed(failure));
        return TerminateAsync();
    }

    private protected override void OnTerminated()
    {
        // Every path to Terminated settles the outcome first; this only guards against a machine that forgot.
        Complete(ClientTransactionResult.Failed(TransactionFailure.TransportError));
        _provisionals.Writer.TryComplete();
    }

    /// <summary>Hands a request (the original, a retransmission, or the ACK) to the transport; false when it failed.</summary>
    private protected async ValueTask<bool> SendAsync(SipRequest request)
    {
        try
        {
            return await Context.Sender.SendRequestAsync(request, Destination).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Logger.LogWarning(ex, "Transaction {Branch} {Method} {CallId}: sending {Request} to {Destination} threw", Branch, Method, CallId, request.Method, Destination);
            return false;
        }
    }

    private protected void LogStart()
    {
        if (Logger.IsEnabled(LogLevel.Debug))
            Logger.LogDebug("Transaction {Branch} {Method} {From} -> {To} via {Destination} {CallId}", Branch, Method, Request.From.Uri, Request.To.Uri, Destination, CallId);
    }
}
