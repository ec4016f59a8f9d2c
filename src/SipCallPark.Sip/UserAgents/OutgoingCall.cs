using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;

namespace SipCallPark.Sip.UserAgents;

/// <summary>An INVITE on its way: wait for <see cref="Completion"/>, watch provisionals, or cancel it.</summary>
public sealed class OutgoingCall
{
    private readonly TaskCompletionSource<SipResponse> _firstProvisional = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile InviteClientTransaction? _transaction;
    private volatile bool _cancelRequested;

    internal OutgoingCall(SipRequest invite) => Invite = invite;

    /// <summary>The INVITE as last sent (after an authentication retry, the retried one).</summary>
    public SipRequest Invite { get; internal set; }

    public Task<CallAttempt> Completion { get; internal set; } = null!;

    /// <summary>Completes with the first 1xx above 100 (Ringing, Session Progress).</summary>
    public Task<SipResponse> FirstProvisional => _firstProvisional.Task;

    internal bool CancelRequested => _cancelRequested;

    internal InviteClientTransaction? Transaction
    {
        get => _transaction;
        set
        {
            _transaction = value;
            if (_cancelRequested && value is not null) _ = value.CancelAsync();
        }
    }

    internal void OnProvisional(SipResponse response)
    {
        if (response.StatusCode > 100) _firstProvisional.TrySetResult(response);
    }

    /// <summary>Sends CANCEL (once a provisional has arrived, as RFC 3261 §9.1 requires); the INVITE then ends with 487.</summary>
    public async Task CancelAsync()
    {
        _cancelRequested = true;
        if (_transaction is { } transaction) await transaction.CancelAsync().ConfigureAwait(false);
    }
}
