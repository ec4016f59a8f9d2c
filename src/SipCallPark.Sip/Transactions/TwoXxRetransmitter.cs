using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Transactions;

/// <summary>How a <see cref="TwoXxRetransmitter"/> ended.</summary>
public enum TwoXxOutcome
{
    /// <summary><see cref="TwoXxRetransmitter.Acknowledge"/> was called: the ACK arrived.</summary>
    Acknowledged,

    /// <summary>64·T1 passed without an ACK: the dialog should send BYE (RFC 3261 §13.3.1.4).</summary>
    TimedOut,

    /// <summary>Disposed before either happened.</summary>
    Stopped,
}

/// <summary>
/// The UAS core's retransmission of a 2xx to an INVITE until the ACK arrives (RFC 3261 §13.3.1.4): the INVITE
/// server transaction leaves this to its TU. Retransmits at T1, then doubling up to T2 — not over a reliable
/// transport — and gives up after 64·T1 with <see cref="TwoXxOutcome.TimedOut"/>, which also applies over TCP
/// where the ACK is still awaited. The TU sends the first 2xx itself, then calls <see cref="Start"/>.
/// </summary>
public sealed class TwoXxRetransmitter : IDisposable
{
    private readonly object _lock = new();
    private readonly ISipMessageSender _sender;
    private readonly SipResponse _response;
    private readonly IncomingMessage _invite;
    private readonly TransactionOptions _options;
    private readonly TimeProvider _time;
    private readonly TaskCompletionSource<TwoXxOutcome> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ITimer? _retransmit;
    private ITimer? _giveUp;
    private TimeSpan _interval;

    public TwoXxRetransmitter(ISipMessageSender sender, SipResponse response, IncomingMessage invite, TransactionOptions options, TimeProvider time)
    {
        _sender = sender ?? throw new ArgumentNullException(nameof(sender));
        _response = response ?? throw new ArgumentNullException(nameof(response));
        _invite = invite ?? throw new ArgumentNullException(nameof(invite));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        if (!response.IsSuccess) throw new ArgumentException("Only a 2xx is retransmitted by the UAS core", nameof(response));
    }

    /// <summary>Completes with why the retransmissions stopped.</summary>
    public Task<TwoXxOutcome> Completion => _completion.Task;

    /// <summary>How many times the 2xx was sent again.</summary>
    public int Retransmissions { get; private set; }

    public void Start()
    {
        lock (_lock)
        {
            if (_giveUp is not null) throw new InvalidOperationException("Already started");
            if (_completion.Task.IsCompleted) return;
            _giveUp = _time.CreateTimer(static s => ((TwoXxRetransmitter)s!).Finish(TwoXxOutcome.TimedOut), this,
                _options.TransactionTimeout, Timeout.InfiniteTimeSpan);
            if (_invite.IsReliable) return;
            _interval = _options.T1;
            _retransmit = _time.CreateTimer(static s => _ = ((TwoXxRetransmitter)s!).RetransmitAsync(), this, _interval, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The ACK for this 2xx arrived.</summary>
    public void Acknowledge() => Finish(TwoXxOutcome.Acknowledged);

    public void Dispose() => Finish(TwoXxOutcome.Stopped);

    private async Task RetransmitAsync()
    {
        lock (_lock)
        {
            if (_completion.Task.IsCompleted) return;
            Retransmissions++;
        }
        try
        {
            // A failed send is not fatal: the next interval tries again, and the give-up timer bounds it all.
            await _sender.SendResponseAsync(_response, _invite).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
        }
        lock (_lock)
        {
            if (_completion.Task.IsCompleted) return;
            _interval = TimeSpan.FromTicks(Math.Min(_interval.Ticks * 2, _options.T2.Ticks));
            _retransmit!.Change(_interval, Timeout.InfiniteTimeSpan);
        }
    }

    private void Finish(TwoXxOutcome outcome)
    {
        lock (_lock)
        {
            if (!_completion.TrySetResult(outcome)) return;
            _retransmit?.Dispose();
            _giveUp?.Dispose();
        }
    }
}
