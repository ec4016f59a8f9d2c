using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Transactions;

/// <summary>
/// The non-INVITE server transaction (RFC 3261 §17.2.2, figure 8). Trying: retransmitted requests are absorbed.
/// A 1xx from the TU moves to Proceeding (retransmissions get it again), a final response to Completed, where
/// retransmissions get the final again until Timer J (64·T1 over UDP, zero over TCP) ends it.
/// </summary>
public sealed class NonInviteServerTransaction : ServerTransaction
{
    internal NonInviteServerTransaction(TransactionContext context, IncomingMessage incoming, TransactionKey key,
        Func<ServerTransaction, TransactionFailure, Task> failed)
        : base(context, incoming, key, TransactionState.Trying, failed)
    {
    }

    private protected override bool ResendsOnRetransmission => State is TransactionState.Proceeding or TransactionState.Completed;

    private protected override async ValueTask<bool> OnSendAsync(SipResponse response)
    {
        if (State is not (TransactionState.Trying or TransactionState.Proceeding)) return Refuse(response);
        if (!await TransmitAsync(response).ConfigureAwait(false))
        {
            Fail(TransactionFailure.TransportError);
            return false;
        }
        if (response.IsProvisional)
        {
            Transition(TransactionState.Proceeding);
            return true;
        }
        Transition(TransactionState.Completed);
        await StartAbsorbTimer("J", Options.TransactionTimeout, TerminateAsync).ConfigureAwait(false);
        return true;
    }
}
