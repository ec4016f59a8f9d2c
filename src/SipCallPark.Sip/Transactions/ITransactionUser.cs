using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Transactions;

/// <summary>
/// The layer above transactions (the UA core or dialog layer, RFC 3261 §17's "TU"). Each call is awaited by the
/// message's receive path, so implementations should hand long work off rather than hold it. Never called while a
/// transaction's gate is held: answering through the transaction from inside a callback is fine.
/// </summary>
public interface ITransactionUser
{
    /// <summary>A new request (not ACK, not CANCEL): answer it with <see cref="ServerTransaction.SendResponseAsync"/>.</summary>
    Task OnRequestAsync(ServerTransaction transaction);

    /// <summary>
    /// An ACK for a 2xx: either one that matched no transaction (a new one per §17.1.1.3), or one that matched an
    /// INVITE server transaction in Accepted (RFC 6026 §7.1). ACKs for non-2xx finals are absorbed below.
    /// </summary>
    Task OnAckAsync(IncomingMessage ack);

    /// <summary>
    /// A CANCEL matched <paramref name="invite"/> before it sent a final response. The layer has already answered the
    /// CANCEL with 200 (§9.2); the TU should now answer the INVITE with 487 Request Terminated.
    /// </summary>
    Task OnCancelAsync(InviteServerTransaction invite, IncomingMessage cancel);

    /// <summary>
    /// A response that matched no client transaction — notably a retransmitted 2xx to an INVITE after the
    /// transaction ended, whose dialog must send the ACK again (§13.2.2.4). A proxy would forward it.
    /// </summary>
    Task OnStrayResponseAsync(IncomingMessage response);

    /// <summary>
    /// A 2xx that reached an INVITE client transaction in Accepted after its first 2xx (a retransmission, or a
    /// forked answer with another To tag; RFC 6026 §7.2). The TU ACKs it as it does a stray one.
    /// </summary>
    Task OnAdditionalSuccessAsync(InviteClientTransaction transaction, IncomingMessage response);

    /// <summary>A server transaction ended without completing: Timer H fired with no ACK, or the transport failed.</summary>
    Task OnServerTransactionFailedAsync(ServerTransaction transaction, TransactionFailure failure);
}
