using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Blf;

/// <summary>
/// What the dispatcher hands the park service: SUBSCRIBE goes to the lamp notifier, everything else to the park
/// application, so neither needs to know of the other.
/// </summary>
internal sealed class LampRouting(DialogEventNotifier lamps, ITransactionUser park) : ITransactionUser
{
    public Task OnRequestAsync(ServerTransaction transaction) =>
        transaction.Request.Method == SipMethods.Subscribe ? lamps.OnSubscribeAsync(transaction) : park.OnRequestAsync(transaction);

    public Task OnAckAsync(IncomingMessage ack) => park.OnAckAsync(ack);

    public Task OnCancelAsync(InviteServerTransaction invite, IncomingMessage cancel) => park.OnCancelAsync(invite, cancel);

    public Task OnStrayResponseAsync(IncomingMessage response) => park.OnStrayResponseAsync(response);

    public Task OnAdditionalSuccessAsync(InviteClientTransaction transaction, IncomingMessage response) =>
        park.OnAdditionalSuccessAsync(transaction, response);

    public Task OnServerTransactionFailedAsync(ServerTransaction transaction, TransactionFailure failure) =>
        park.OnServerTransactionFailedAsync(transaction, failure);
}
