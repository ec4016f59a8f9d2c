using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Transactions;

/// <summary>
/// The non-INVITE client transaction (RFC 3261 §17.1.2, figure 6). Trying: Timer E retransmits (T1 doubling up to
/// T2, UDP only) and Timer F (64·T1) times out. A 1xx moves to Proceeding, where E keeps firing every T2. A final
/// response moves to Completed, where retransmitted responses are absorbed until Timer K (T4; zero over TCP).
/// </summary>
public sealed class NonInviteClientTransaction : ClientTransaction
{
    private TimeSpan _timerE;

    internal NonInviteClientTransaction(TransactionContext context, SipRequest request, SipEndPoint destination)
        : base(context, request, destination, TransactionState.Trying)
    {
    }

    internal override Task StartAsync() => RunAsync(async () =>
    {
        LogStart();
        if (!await SendAsync(Request).ConfigureAwait(false))
        {
            await FailAsync(TransactionFailure.TransportError).ConfigureAwait(false);
            return;
        }
        if (!IsReliable)
        {
            _timerE = Options.T1;
            StartTimer("E", _timerE, OnTimerE);
        }
        StartTimer("F", Options.TransactionTimeout, OnTimerF);
    });

    internal override Task OnResponseAsync(IncomingMessage received) => RunAsync(async () =>
    {
        var response = (SipResponse)received.Message;
        if (State is not (TransactionState.Trying or TransactionState.Proceeding))
        {
            Logger.LogDebug("Transaction {Branch} {Method} {CallId} absorbs {Status} in {State}", Branch, Method, CallId, response.StatusCode, State);
            return;
        }
        if (response.IsProvisional)
        {
            Transition(TransactionState.Proceeding);
            ReportProvisional(response);
            return;
        }
        StopTimer("E");
        StopTimer("F");
        Transition(TransactionState.Completed);
        Complete(ClientTransactionResult.FromResponse(received));
        await StartAbsorbTimer("K", Options.T4, TerminateAsync).ConfigureAwait(false);
    });

    private async ValueTask OnTimerE()
    {
        if (State is not (TransactionState.Trying or TransactionState.Proceeding)) return;
        if (!await SendAsync(Request).ConfigureAwait(false))
        {
            await FailAsync(TransactionFailure.TransportError).ConfigureAwait(false);
            return;
        }
        // §17.1.2.2: doubling capped at T2 while Trying; once a 1xx came, every T2.
        _timerE = State == TransactionState.Trying ? TimeSpan.FromTicks(Math.Min(_timerE.Ticks * 2, Options.T2.Ticks)) : Options.T2;
        StartTimer("E", _timerE, OnTimerE);
    }

    private ValueTask OnTimerF() =>
        State is TransactionState.Trying or TransactionState.Proceeding ? FailAsync(TransactionFailure.Timeout, "F") : ValueTask.CompletedTask;
}
