using System.Globalization;
using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Dialogs;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Blf;

internal sealed partial class DialogEventNotifier
{
    /// <summary>
    /// The one sender of a subscription: NOTIFYs what the lamps show now until nothing new is left, one at a time, at
    /// most <c>MaxNotifiesInFlight</c> of all subscriptions at once. A NOTIFY that fails (481, a timeout, any error
    /// answer) ends the subscription (RFC 6665 §4.2.2); so does the last one, terminated.
    /// </summary>
    private async Task SendAsync(DialogSubscription subscription)
    {
        try
        {
            while (subscription.TryTakeWork(out var terminate))
            {
                await _inFlight.WaitAsync(_stopping.Token).ConfigureAwait(false);
                try
                {
                    var notify = Build(subscription, terminate);
                    Journal(subscription);
                    var result = await _agent.SendInDialogAsync(subscription.Dialog, notify, subscription.Flow).ConfigureAwait(false);
                    if (terminate is not null)
                    {
                        Remove(subscription);
                        return;
                    }
                    if (!result.IsSuccess)
                    {
                        _logger.LogInformation("Lamp NOTIFY to {Subscriber} for {Resource} answered {Result}: subscription ended",
                            subscription.Subscriber, subscription.Resource, result);
                        subscription.Abandon();
                        Remove(subscription);
                        return;
                    }
                }
                finally
                {
                    _inFlight.Release();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Lamp NOTIFY to {Subscriber} for {Resource} failed", subscription.Subscriber, subscription.Resource);
            subscription.Abandon();
            Remove(subscription);
        }
    }

    /// <summary>The NOTIFY of the current state: <c>Event: dialog</c>, <c>Subscription-State</c> and a full dialog-info document.</summary>
    private SipRequest Build(DialogSubscription subscription, string? terminate)
    {
        var lamps = subscription.Orbit is { } orbit ? [_lamps.Get(orbit)] : _lamps.Occupied();
        var entity = $"sip:{subscription.Resource}@{_addresses.Domain}";
        var body = DialogInfoDocument.Build(entity, subscription.NextVersion(), lamps, _addresses.Domain, _options.ParkedShowsEarly);
        SipRequest notify;
        lock (subscription.Dialog) notify = subscription.Dialog.CreateRequest(SipMethods.Notify);
        notify.Headers.Add(HeaderNames.Event, subscription.EventId is { } id ? $"{Package};id={id}" : Package);
        var remaining = (long)Math.Ceiling((subscription.ExpiresAt - _time.GetUtcNow()).TotalSeconds);
        notify.Headers.Add(HeaderNames.SubscriptionState, terminate switch
        {
            null => $"active;expires={Math.Max(remaining, 0).ToString(CultureInfo.InvariantCulture)}",
            "" => "terminated",
            var reason => $"terminated;reason={reason}",
        });
        notify.SetBody(DialogInfoDocument.ContentType, body);
        return notify;
    }

    private void Remove(DialogSubscription subscription)
    {
        if (_subscriptions.TryRemove(new KeyValuePair<string, DialogSubscription>(subscription.Key, subscription)))
        {
            Release(subscription.Subscriber);
            Forget(subscription);
        }
    }

    /// <summary>Writes the subscription (its version and CSeq too) to the journal; a failure is logged, not waited for.</summary>
    private void Journal(DialogSubscription subscription)
    {
        if (!_subscriptions.ContainsKey(subscription.Key)) return;
        var write = _journal.UpsertAsync(subscription.ToRecord());
        if (!write.IsCompletedSuccessfully) _ = write.ContinueWith(t => _logger.LogError(t.Exception, "Journaling a lamp subscription failed"),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    private void Forget(DialogSubscription subscription)
    {
        var write = _journal.RemoveAsync(subscription.Dialog.Id.CallId, subscription.Dialog.Id.LocalTag);
        if (!write.IsCompletedSuccessfully) _ = write.ContinueWith(t => _logger.LogError(t.Exception, "Removing a lamp subscription from the journal failed"),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>
    /// Takes up the subscriptions of the previous run (docs/design.md §5 "Orbit lamps"): each unexpired one gets a
    /// full-state NOTIFY at once, so the phones see the orbits as they are now (free: a restart ends every park);
    /// expired ones are dropped. Returns how many were taken up.
    /// </summary>
    public int Restore()
    {
        var now = _time.GetUtcNow();
        var restored = 0;
        foreach (var record in _journal.Load())
        {
            if (record.ExpiresAt <= now || _subscriptions.ContainsKey(record.Key))
            {
                _ = _journal.RemoveAsync(record.CallId, record.LocalTag);
                continue;
            }
            DialogSubscription subscription;
            try
            {
                var dialog = Dialog.Restore(new DialogId(record.CallId, record.LocalTag, record.RemoteTag), false, NameAddress.Parse(record.LocalUri),
                    NameAddress.Parse(record.RemoteUri), SipUri.Parse(record.RemoteTarget), record.RouteSet.Select(NameAddress.Parse).ToArray(),
                    record.LocalCSeq, record.RemoteCSeq);
                var orbit = _addresses.IsOrbit(record.Resource) ? record.Resource : null;
                subscription = new DialogSubscription(dialog, record.Resource, orbit, record.Subscriber, record.EventId, record.Version, record.ExpiresAt);
            }
            catch (SipParseException e)
            {
                _logger.LogWarning("Dropped a stored lamp subscription {CallId}: {Error}", record.CallId, e.Message);
                _ = _journal.RemoveAsync(record.CallId, record.LocalTag);
                continue;
            }
            lock (_admission) _perUser[record.Subscriber] = _perUser.GetValueOrDefault(record.Subscriber) + 1;
            _subscriptions[subscription.Key] = subscription;
            subscription.Refresh(record.ExpiresAt, () => ArmExpiry(subscription, record.ExpiresAt - now));
            StartSender(subscription);
            restored++;
        }
        if (restored > 0) _logger.LogInformation("Took up {Count} lamp subscriptions of the previous run", restored);
        return restored;
    }
}
