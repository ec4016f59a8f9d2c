using SipCallPark.Sip.Dialogs;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Blf;

/// <summary>
/// One subscription to the dialog event package of an orbit or of the whole lot (RFC 6665 §4.2). Its NOTIFYs go one at
/// a time and in order: a change while one is in flight only marks the subscription dirty, and the next NOTIFY carries
/// whatever the lamps show by then. So a flood of changes costs each subscription one pending NOTIFY, never a queue.
/// </summary>
internal sealed class DialogSubscription
{
    private readonly Lock _gate = new();
    // Born with its first NOTIFY due and the sender counted as running: changes before the owner starts the sender
    // (once the 200 is out) only add to that first NOTIFY, which never overtakes the 200.
    private bool _dirty = true;
    private bool _sending = true;
    private string? _terminate;
    private bool _abandoned;
    private ITimer? _timer;

    public DialogSubscription(Dialog dialog, string resource, string? orbit, string subscriber, string? eventId, long version, DateTimeOffset expiresAt)
    {
        Dialog = dialog;
        Resource = resource;
        Orbit = orbit;
        Subscriber = subscriber;
        EventId = eventId;
        Version = version;
        ExpiresAt = expiresAt;
    }

    public Dialog Dialog { get; }

    /// <summary>The WebSocket connection the NOTIFYs go back on (RFC 7118 §5), or null to follow the dialog.</summary>
    public SipEndPoint? Flow { get; init; }

    /// <summary>The Request-URI user subscribed to: an orbit, or the park service name (the whole lot).</summary>
    public string Resource { get; }

    /// <summary>The orbit watched; null for the whole lot.</summary>
    public string? Orbit { get; }

    /// <summary>The subscriber's address of record (the authenticated From).</summary>
    public string Subscriber { get; }

    public string? EventId { get; }

    /// <summary>The <c>version</c> of the last document sent, -1 before the first (RFC 4235 §4.1: versions start at 0
    /// and go up by one with each NOTIFY of the subscription).</summary>
    public long Version { get; private set; }

    public DateTimeOffset ExpiresAt { get; private set; }

    public string Key => $"{Dialog.Id.CallId}\n{Dialog.Id.LocalTag}";

    /// <summary>A NOTIFY is in flight or due (the admin view, and tests that must not move a fake clock past its timeout).</summary>
    public bool IsSending
    {
        get { lock (_gate) return _sending; }
    }

    /// <summary>The version of the next document (called by the one sender only).</summary>
    public long NextVersion() => ++Version;

    /// <summary>Something to tell: true when the caller must start the sender (none is running).</summary>
    public bool MarkDirty()
    {
        lock (_gate)
        {
            if (_terminate is not null) return false;
            _dirty = true;
            if (_sending) return false;
            _sending = true;
            return true;
        }
    }

    /// <summary>
    /// Ends the subscription with a last NOTIFY (<c>Subscription-State: terminated</c> and <paramref name="reason"/>);
    /// true when the caller must start the sender. False when it was ending already.
    /// </summary>
    public bool MarkTerminating(string reason)
    {
        lock (_gate)
        {
            if (_terminate is not null) return false;
            _terminate = reason;
            _dirty = true;
            StopTimer();
            if (_sending) return false;
            _sending = true;
            return true;
        }
    }

    /// <summary>Ends it without a NOTIFY (the subscriber is gone: a NOTIFY failed).</summary>
    public void Abandon()
    {
        lock (_gate)
        {
            _abandoned = true;
            _terminate ??= "";
            _dirty = false;
            StopTimer();
        }
    }

    /// <summary>
    /// The sender's next job: false when there is none (the sender stops); otherwise whether it is the last NOTIFY and
    /// with which reason (<see cref="string.Empty"/> for none).
    /// </summary>
    public bool TryTakeWork(out string? terminateReason)
    {
        lock (_gate)
        {
            terminateReason = _terminate;
            if (_abandoned || !_dirty)
            {
                _sending = false;
                return false;
            }
            _dirty = false;
            return true;
        }
    }

    /// <summary>Sets the expiry and the timer that fires then (the old one is stopped).</summary>
    public void Refresh(DateTimeOffset expiresAt, Func<ITimer> timer)
    {
        lock (_gate)
        {
            if (_terminate is not null) return;
            ExpiresAt = expiresAt;
            StopTimer();
            _timer = timer();
        }
    }

    private void StopTimer()
    {
        _timer?.Dispose();
        _timer = null;
    }

    public SubscriptionRecord ToRecord()
    {
        lock (Dialog)
        {
            return new SubscriptionRecord(Dialog.Id.CallId, Dialog.Id.LocalTag, Dialog.Id.RemoteTag, Dialog.LocalAddress.ToString(),
                Dialog.RemoteAddress.ToString(), Dialog.RemoteTarget.ToString(), Dialog.RouteSet.Select(r => r.ToString()).ToArray(),
                Dialog.LocalCSeq, Dialog.RemoteCSeq, Resource, Subscriber, EventId, Version, ExpiresAt);
        }
    }
}
