using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Transactions;

/// <summary>
/// The INVITE server transaction (RFC 3261 §17.2.1, figure 7, with RFC 6026 §7.1's Accepted state).
/// Proceeding: 100 Trying goes out by itself when the TU is silent for <see cref="TransactionOptions.TryingDelay"/>;
/// retransmitted INVITEs get the last provisional again. A 300–699 moves to Completed: Timer G retransmits it
/// (T1 doubling to T2, UDP only) until the ACK moves to Confirmed (Timer I, then Terminated) or Timer H (64·T1)
/// reports a timeout. A 2xx moves to Accepted: retransmitted INVITEs are absorbed, ACKs go to the TU, further
/// 2xx from the TU are sent, and Timer L (64·T1) ends it. Retransmitting the 2xx is the TU's job
/// (§13.3.1.4, see <see cref="TwoXxRetransmitter"/>).
/// </summary>
public sealed class InviteServerTransaction : ServerTransaction
{
    private TimeSpan _timerG;

    internal InviteServerTransaction(TransactionContext context, IncomingMessage incoming, TransactionKey key,
        Func<ServerTransaction, TransactionFailure, Task> failed)
        : base(context, incoming, key, TransactionState.Proceeding, failed)
    {
    }

    private protected override bool ResendsOnRetransmission => State is TransactionState.Proceeding or TransactionState.Completed;

    /// <summary>The To tag of the last response sent: what an RFC 2543 ACK is matched against (§17.2.3).</summary>
    internal string? LastResponseToTag => LastResponse?.To.Tag;

    private protected override void OnStarted() => StartTimer("100", Options.TryingDelay, OnTryingTimer);

    private protected override async ValueTask<bool> OnSendAsync(SipResponse response)
    {
        var state = State;
        if (state == TransactionState.Accepted && response.IsSuccess)
        {
            // A 2xx retransmitted by the TU while the transaction is still around (RFC 6026 §7.1).
            if (await TransmitAsync(response).ConfigureAwait(false)) return true;
            Fail(TransactionFailure.TransportError);
            return false;
        }
        if (state != TransactionState.Proceeding) return Refuse(response);

        StopTimer("100");
        if (!await TransmitAsync(response).ConfigureAwait(false))
        {
            Fail(TransactionFailure.TransportError);
            return false;
        }
        if (response.IsProvisional) return true;
        if (response.IsSuccess)
        {
            Transition(TransactionState.Accepted);
            StartTimer("L", Options.TransactionTimeout, TerminateAsync);
            return true;
        }
        Transition(TransactionState.Completed);
        if (!IsReliable)
        {
            _timerG = Options.T1;
            StartTimer("G", _timerG, OnTimerG);
        }
        StartTimer("H", Options.TransactionTimeout, OnTimerH);
        return true;
    }

    /// <summary>
    /// An ACK matched to this transaction. In Completed it confirms the non-2xx final and is absorbed; in Accepted
    /// it acknowledges a 2xx and belongs to the TU. Returns true when the layer should hand it to the TU.
    /// </summary>
    internal Task<bool> OnAckAsync() => RunAsync(async () =>
    {
        switch (State)
        {
            case TransactionState.Completed:
                StopTimer("G");
                StopTimer("H");
                Transition(TransactionState.Confirmed);
                await StartAbsorbTimer("I", Options.T4, TerminateAsync).ConfigureAwait(false);
                return false;
            case TransactionState.Accepted:
                return true;
            default:
                Logger.LogDebug("Transaction {Branch} {Method} {CallId} absorbs an ACK in {State}", Branch, Method, CallId, State);
                return false;
        }
    });

    /// <summary>Whether a CANCEL still has something to cancel: no final response yet (§9.2).</summary>
    internal Task<bool> IsCancellableAsync() => RunAsync(() => ValueTask.FromResult(State == TransactionState.Proceeding));

    private async ValueTask OnTryingTimer()
    {
        if (State != TransactionState.Proceeding || LastResponse is not null) return;
        Logger.LogDebug("Transaction {Branch} {Method} {CallId}: TU silent for {Delay}, sending 100 Trying", Branch, Method, CallId, Options.TryingDelay);
        if (!await TransmitAsync(SipResponse.CreateFor(Request, 100)).ConfigureAwait(false)) Fail(TransactionFailure.TransportError);
    }

    private async ValueTask OnTimerG()
    {
        if (State != TransactionState.Completed) return;
        if (!await TransmitAsync(LastResponse!).ConfigureAwait(false))
        {
            Fail(TransactionFailure.TransportError);
            return;
        }
        _timerG = TimeSpan.FromTicks(Math.Min(_timerG.Ticks * 2, Options.T2.Ticks));
        StartTimer("G", _timerG, OnTimerG);
    }

    private ValueTask OnTimerH()
    {
        if (State == TransactionState.Completed) Fail(TransactionFailure.Timeout, "H");
        return ValueTask.CompletedTask;
    }
}
