using System.Collections.Concurrent;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transactions;

/// <summary>An <see cref="ITransactionUser"/> that records every call; <see cref="OnRequest"/> lets a test answer.</summary>
internal sealed class RecordingTransactionUser : ITransactionUser
{
    public Func<ServerTransaction, Task>? OnRequest { get; set; }

    public ConcurrentQueue<ServerTransaction> Requests { get; } = new();
    public ConcurrentQueue<IncomingMessage> Acks { get; } = new();
    public ConcurrentQueue<(InviteServerTransaction Invite, IncomingMessage Cancel)> Cancels { get; } = new();
    public ConcurrentQueue<IncomingMessage> StrayResponses { get; } = new();
    public ConcurrentQueue<IncomingMessage> AdditionalSuccesses { get; } = new();
    public ConcurrentQueue<(ServerTransaction Transaction, TransactionFailure Failure)> Failures { get; } = new();

    public Task OnRequestAsync(ServerTransaction transaction)
    {
        Requests.Enqueue(transaction);
        return OnRequest?.Invoke(transaction) ?? Task.CompletedTask;
    }

    public Task OnAckAsync(IncomingMessage ack)
    {
        Acks.Enqueue(ack);
        return Task.CompletedTask;
    }

    public Task OnCancelAsync(InviteServerTransaction invite, IncomingMessage cancel)
    {
        Cancels.Enqueue((invite, cancel));
        return Task.CompletedTask;
    }

    public Task OnStrayResponseAsync(IncomingMessage response)
    {
        StrayResponses.Enqueue(response);
        return Task.CompletedTask;
    }

    public Task OnAdditionalSuccessAsync(InviteClientTransaction transaction, IncomingMessage response)
    {
        AdditionalSuccesses.Enqueue(response);
        return Task.CompletedTask;
    }

    public Task OnServerTransactionFailedAsync(ServerTransaction transaction, TransactionFailure failure)
    {
        Failures.Enqueue((transaction, failure));
        return Task.CompletedTask;
    }
}
