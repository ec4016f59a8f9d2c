using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Transactions;

/// <summary>
/// The INVITE client transaction (RFC 3261 §17.1.1, figure 5, with RFC 6026 §7.2's Accepted state).
/// Calling: Timer A retransmits (T1, doubling, UDP only) until Timer B (64·T1) times out. A 1xx moves to
/// Proceeding. A 300–699 moves to Completed: this transaction sends the ACK, re-sends it for every retransmitted
/// final, and Timer D ends it. A 2xx moves to Accepted: the TU sends that ACK; later 2xx (retransmissions, other
/// forks) go to <see cref="ITransactionUser.OnAdditionalSuccessAsync"/> until Timer M ends it.
/// Timer C is a proxy's and is not kept here.
/// </summary>
public sealed class InviteClientTransaction : ClientTransaction
{
    private readonly Func<SipRequest, SipEndPoint, Task<ClientTransaction>> _startCancel;
    private readonly Func<InviteClientTransaction, IncomingMessage, Task> _additionalSuccess;
    private TaskCompletionSource<ClientTransaction?>? _cancel;
    private SipRequest? _ack;
    private TimeSpan _timerA;

    internal InviteClientTransaction(
        TransactionContext context,
        SipRequest invite,
        SipEndPoint destination,
        Func<SipRequest, SipEndPoint, Task<ClientTransaction>> startCancel,
        Func<InviteClientTransaction, IncomingMessage, Task> additionalSuccess)
        : base(context, invite, destination, TransactionState.Calling)
    {
        _startCancel = startCancel;
        _additionalSuccess = additionalSuccess;
    }

    /// <summary>
    /// Cancels the INVITE (RFC 3261 §9.1) with a CANCEL in its own non-INVITE client transaction. Before any
    /// provisional response the CANCEL is held and sent when one arrives. Returns the CANCEL's outcome, or null when
    /// it was never sent because the INVITE got a final response (or failed) first. Calling it again returns the
    /// same outcome.
    /// </summary>
    public async Task<ClientTransactionResult?> CancelAsync()
    {
        var pending = await RunAsync(() =>
        {
            if (_cancel is null)
            {
                _cancel = new TaskCompletionSource<ClientTransaction?>(TaskCreationOptions.RunContinuationsAsynchronously);
                switch (State)
                {
                    case TransactionState.Calling:
                        Logger.LogDebug("Transaction {Branch} {Method} {CallId}: CANCEL held until a provisional response", Branch, Method, CallId);
                        break;
                    case TransactionState.Proceeding:
                        Defer(SendCancelAsync);
                        break;
                    default:
                        _cancel.TrySetResult(null);
                        break;
                }
            }
            return ValueTask.FromResult(_cancel.Task);
        }).ConfigureAwait(false);
        var cancel = await pending.ConfigureAwait(false);
        return cancel is null ? null : await cancel.Completion.ConfigureAwait(false);
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
            _timerA = Options.T1;
            StartTimer("A", _timerA, OnTimerA);
        }
        StartTimer("B", Options.TransactionTimeout, OnTimerB);
    });

    internal override Task OnResponseAsync(IncomingMessage received) => RunAsync(async () =>
    {
        var response = (SipResponse)received.Message;
        switch (State)
        {
            case TransactionState.Calling or TransactionState.Proceeding when response.IsProvisional:
                if (State == TransactionState.Calling)
                {
                    StopTimer("A");
                    StopTimer("B");
                    Transition(TransactionState.Proceeding);
                    if (_cancel is not null) Defer(SendCancelAsync);
                }
                ReportProvisional(response);
                break;

            case TransactionState.Calling or TransactionState.Proceeding when response.IsSuccess:
                StopTimer("A");
                StopTimer("B");
                Transition(TransactionState.Accepted);
                Complete(ClientTransactionResult.FromResponse(received));
                _cancel?.TrySetResult(null);
                StartTimer("M", Options.TransactionTimeout, TerminateAsync);
                break;

            case TransactionState.Calling or TransactionState.Proceeding:
                StopTimer("A");
                StopTimer("B");
                _ack = TransactionRequests.Ack(Request, response);
                Transition(TransactionState.Completed);
                Complete(ClientTransactionResult.FromResponse(received));
                _cancel?.TrySetResult(null);
                if (!await SendAsync(_ack).ConfigureAwait(false))
                {
                    await TerminateAsync().ConfigureAwait(false);
                    break;
                }
                await StartAbsorbTimer("D", Options.TimerD, TerminateAsync).ConfigureAwait(false);
                break;

            case TransactionState.Completed when response.IsFinal && !response.IsSuccess:
                // The ACK was lost: every retransmitted final gets it again (§17.1.1.2).
                if (!await SendAsync(_ack!).ConfigureAwait(false)) await TerminateAsync().ConfigureAwait(false);
                break;

            case TransactionState.Accepted when response.IsSuccess:
                Defer(() => _additionalSuccess(this, received));
                break;

            default:
                Logger.LogDebug("Transaction {Branch} {Method} {CallId} ignores {Status} in {State}", Branch, Method, CallId, response.StatusCode, State);
                break;
        }
    });

    private protected override void OnTerminated()
    {
        _cancel?.TrySetResult(null);
        base.OnTerminated();
    }

    private async ValueTask OnTimerA()
    {
        if (State != TransactionState.Calling) return;
        if (!await SendAsync(Request).ConfigureAwait(false))
        {
            await FailAsync(TransactionFailure.TransportError).ConfigureAwait(false);
            return;
        }
        _timerA *= 2;
        StartTimer("A", _timerA, OnTimerA);
    }

    private ValueTask OnTimerB() =>
        State == TransactionState.Calling ? FailAsync(TransactionFailure.Timeout, "B") : ValueTask.CompletedTask;

    private async Task SendCancelAsync()
    {
        try
        {
            var cancel = await _startCancel(TransactionRequests.Cancel(Request), Destination).ConfigureAwait(false);
            _cancel!.TrySetResult(cancel);
        }
        catch (Exception ex)
        {
            _cancel!.TrySetException(ex);
        }
    }
}
