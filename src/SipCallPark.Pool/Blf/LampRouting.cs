using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Blf;

/// <summary>
/// What the dispatcher hands the park service: a new SUBSCRIBE, or one in a lamp subscription's dialog, goes to the
/// lamp notifier; everything else (a SUBSCRIBE refreshing the implicit subscription of a park REFER included) to the
/// park application, so neither needs to know of the other.
/// </summary>
internal sealed class LampRouting(DialogEventNotifier lamps, ITransactionUser park) : ITransactionUser
{
    public Task OnRequestAsync(ServerTransaction transaction) =>
        transaction.Request is { Method: SipMethods.Subscribe } subscribe && (subscribe.To.Tag is null || lamps.Holds(subscribe))
            ? lamps.OnSubscribeAsync(transaction)
            : park.OnRequestAsync(transaction);

    public Task OnAckAsync(IncomingMessage ack) => park.OnAckAsync(ack);

    public Task OnCancelAsync(InviteServerTransaction invite, IncomingMessage cancel) => park.OnCancelAsync(invite, cancel);

    public Task OnStrayResponseAsync(IncomingMessage response) => park.OnStrayResponseAsync(response);

    public Task OnAdditionalSuccessAsync(InviteClientTransaction transaction, IncomingMessage response) =>
        park.OnAdditionalSuccessAsync(transaction, response);

    public Task OnServerTransactionFailedAsync(ServerTransaction transaction, TransactionFailure failure) =>
        park.OnServerTransactionFailedAsync(transaction, failure);
}
