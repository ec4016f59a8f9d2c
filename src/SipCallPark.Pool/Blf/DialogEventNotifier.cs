using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Park;
using SipCallPark.Sip.Dialogs;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Blf;

/// <summary>
/// The notifier of the dialog event package for the pool's orbits (RFC 6665, RFC 4235; docs/design.md §5 "Orbit
/// lamps"): answers SUBSCRIBE to an orbit or to the park service URI (the whole lot), sends a full-state NOTIFY at once
/// and on every change the park application reports, ends subscriptions that expire, are withdrawn or whose NOTIFY
/// fails, and keeps them in a journal so that they outlive a restart. The router has authenticated every new SUBSCRIBE
/// (docs/design.md §11); a refresh is known by its dialog.
/// </summary>
internal sealed partial class DialogEventNotifier : IAsyncDisposable
{
    public const string Package = "dialog";

    private readonly SipUserAgent _agent;
    private readonly OrbitLamps _lamps;
    private readonly ISubscriptionJournal _journal;
    private readonly BlfOptions _options;
    private readonly LampAddresses _addresses;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, DialogSubscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _perUser = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _admission = new();
    private readonly SemaphoreSlim _inFlight;
    private readonly CancellationTokenSource _stopping = new();

    public DialogEventNotifier(SipUserAgent agent, OrbitLamps lamps, ISubscriptionJournal journal, BlfOptions options, LampAddresses addresses,
        TimeProvider time, ILogger<DialogEventNotifier> logger)
    {
        _agent = agent;
        _lamps = lamps;
        _journal = journal;
        _options = options;
        _addresses = addresses;
        _time = time;
        _logger = logger;
        _inFlight = new SemaphoreSlim(options.MaxNotifiesInFlight);
        lamps.Changed += OnLampChanged;
    }

    /// <summary>Subscriptions held now.</summary>
    public int Count => _subscriptions.Count;

    /// <summary>The subscriptions held now (tests, the admin view).</summary>
    public IReadOnlyList<DialogSubscription> Subscriptions => _subscriptions.Values.ToArray();

    /// <summary>Whether an in-dialog request belongs to one of the lamp subscriptions held now.</summary>
    public bool Holds(SipRequest request) =>
        request.To.Tag is { } tag && _subscriptions.ContainsKey($"{request.CallId}\n{tag}");

    /// <summary>Answers a SUBSCRIBE the router sent to the park service: a new subscription or one of ours refreshed.</summary>
    public async Task OnSubscribeAsync(ServerTransaction transaction)
    {
        var request = transaction.Request;
        try
        {
            if (request.To.Tag is null) await SubscribeAsync(transaction).ConfigureAwait(false);
            else await RefreshAsync(transaction).ConfigureAwait(false);
        }
        catch (SipParseException e)
        {
            await ReplyAsync(transaction, 400, e.Message).ConfigureAwait(false);
        }
    }

    private async Task SubscribeAsync(ServerTransaction transaction)
    {
        var request = transaction.Request;
        var (package, eventId) = ParseEvent(request);
        if (!string.Equals(package, Package, StringComparison.OrdinalIgnoreCase))
        {
            await ReplyAsync(transaction, 489, null, r => r.Headers.Add(HeaderNames.AllowEvents, Package)).ConfigureAwait(false);
            return;
        }
        var user = request.RequestUri.UnescapedUser ?? "";
        var orbit = _addresses.IsOrbit(user) ? user : null;
        if (orbit is null && !_addresses.IsLot(user))
        {
            await ReplyAsync(transaction, 404, $"{user} is not an orbit of {_addresses.Pool}").ConfigureAwait(false);
            return;
        }
        var subscriber = request.From.Uri.WithoutHeaders();
        if (_addresses.InResiliencyMode(subscriber))
        {
            await ReplyAsync(transaction, 403, Proxy.ProxyRouter.ResiliencyParkRefusal).ConfigureAwait(false);
            return;
        }
        if (!AcceptsDialogInfo(request))
        {
            await ReplyAsync(transaction, 406, null, r => r.Headers.Add(HeaderNames.Accept, DialogInfoDocument.ContentType)).ConfigureAwait(false);
            return;
        }
        if (await GrantedExpiresAsync(transaction) is not { } expires) return;
        var aor = $"{subscriber.Scheme}:{subscriber.UnescapedUser}@{subscriber.Host}".ToLowerInvariant();
        if (expires > 0 && Admit(aor) is { } refusal)
        {
            _logger.LogWarning("Lamp SUBSCRIBE {CallId} from {Subscriber} to {Resource} refused: {Reason}", request.CallId, aor, user, refusal.Warning);
            await ReplyAsync(transaction, refusal.Status, refusal.Warning,
                r => { if (refusal.Status == 503) r.Headers.Add(HeaderNames.RetryAfter, "60"); }).ConfigureAwait(false);
            return;
        }
        var dialog = Dialog.FromUas(request, _agent.Stack.Ids.NewTag());
        dialog.Confirm();
        var subscription = new DialogSubscription(dialog, user, orbit, aor, eventId, -1, _time.GetUtcNow().AddSeconds(expires))
        {
            Flow = WebSocketFlow(transaction, dialog),
        };
        var ok = Accepted(request, dialog.Id.LocalTag, expires);
        if (expires == 0)
        {
            // A fetch (RFC 6665 §4.4.3): the state once, in a NOTIFY that ends the subscription.
            subscription.MarkTerminating("timeout");
            await transaction.SendResponseAsync(ok).ConfigureAwait(false);
            StartSender(subscription);
            return;
        }
        _subscriptions[subscription.Key] = subscription;
        subscription.Refresh(subscription.ExpiresAt, () => ArmExpiry(subscription, TimeSpan.FromSeconds(expires)));
        _logger.LogInformation("{Subscriber} watches {Resource} for {Expires} s (SUBSCRIBE {CallId})", aor, user, expires, request.CallId);
        Journal(subscription);
        await transaction.SendResponseAsync(ok).ConfigureAwait(false);
        // The first NOTIFY, with the state as it is now (RFC 6665 §4.2.1.2).
        StartSender(subscription);
    }

    /// <summary>
    /// The WebSocket connection a SUBSCRIBE came over straight from its subscriber (no route set), or null: a browser
    /// takes requests only on its own connection (RFC 7118 §5), so its NOTIFYs go there, not to its <c>.invalid</c> Contact.
    /// </summary>
    private static SipEndPoint? WebSocketFlow(ServerTransaction transaction, Dialog dialog)
    {
        var remote = transaction.Incoming.Remote;
        if (remote.Protocol is not (SipProtocol.Ws or SipProtocol.Wss)) return null;
        lock (dialog) return dialog.RouteSet.Count == 0 ? remote : null;
    }

    private async Task RefreshAsync(ServerTransaction transaction)
    {
        var request = transaction.Request;
        if (!_subscriptions.TryGetValue($"{request.CallId}\n{request.To.Tag}", out var subscription)
            || !string.Equals(subscription.Dialog.Id.RemoteTag, request.From.Tag, StringComparison.Ordinal))
        {
            await ReplyAsync(transaction, 481, "no such subscription").ConfigureAwait(false);
            return;
        }
        if (!string.Equals(ParseEvent(request).Package, Package, StringComparison.OrdinalIgnoreCase))
        {
            await ReplyAsync(transaction, 489, null, r => r.Headers.Add(HeaderNames.AllowEvents, Package)).ConfigureAwait(false);
            return;
        }
        bool inOrder;
        lock (subscription.Dialog) inOrder = subscription.Dialog.AcceptRemoteRequest(request);
        if (!inOrder)
        {
            await ReplyAsync(transaction, 500, "CSeq out of order").ConfigureAwait(false);
            return;
        }
        if (await GrantedExpiresAsync(transaction) is not { } expires) return;
        await transaction.SendResponseAsync(Accepted(request, null, expires)).ConfigureAwait(false);
        if (expires == 0)
        {
            // Unsubscribing (RFC 6665 §4.1.2.3): a last NOTIFY with the state, terminated without a reason.
            _logger.LogInformation("{Subscriber} stopped watching {Resource} (SUBSCRIBE {CallId}, Expires: 0)", subscription.Subscriber, subscription.Resource, request.CallId);
            if (subscription.MarkTerminating("")) StartSender(subscription);
            return;
        }
        subscription.Refresh(_time.GetUtcNow().AddSeconds(expires), () => ArmExpiry(subscription, TimeSpan.FromSeconds(expires)));
        Journal(subscription);
        // RFC 6665 §4.2.1.2: a refresh is answered with the current state too.
        Poke(subscription);
    }

    /// <summary>The duration to grant (capped at MaxExpires), or null after answering 400 / 423.</summary>
    private async Task<int?> GrantedExpiresAsync(ServerTransaction transaction)
    {
        var request = transaction.Request;
        var text = request.Headers.Get(HeaderNames.Expires);
        long asked = _options.DefaultExpires;
        if (text is not null && !long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out asked))
        {
            await ReplyAsync(transaction, 400, "Expires is not a number of seconds").ConfigureAwait(false);
            return null;
        }
        if (asked > 0 && asked < _options.MinExpires)
        {
            // RFC 6665 §4.2.1.1: too brief, and how long is enough.
            await ReplyAsync(transaction, 423, null,
                r => r.Headers.Add(HeaderNames.MinExpires, _options.MinExpires.ToString(CultureInfo.InvariantCulture))).ConfigureAwait(false);
            return null;
        }
        return (int)Math.Min(asked, _options.MaxExpires);
    }

    /// <summary>Takes a place for a new subscription of <paramref name="aor"/>, or says why there is none.</summary>
    private (int Status, string Warning)? Admit(string aor)
    {
        lock (_admission)
        {
            if (_subscriptions.Count >= _options.MaxTotal) return (503, "too many lamp subscriptions on this pool");
            _perUser.TryGetValue(aor, out var held);
            if (held >= _options.MaxPerUser) return (403, $"{aor} holds {held} lamp subscriptions, the most one user may");
            _perUser[aor] = held + 1;
            return null;
        }
    }

    private void Release(string aor)
    {
        lock (_admission)
        {
            if (!_perUser.TryGetValue(aor, out var held)) return;
            if (held <= 1) _perUser.Remove(aor);
            else _perUser[aor] = held - 1;
        }
    }

    private SipResponse Accepted(SipRequest request, string? toTag, int expires)
    {
        var ok = SipResponse.CreateFor(request, 200, toTag: toTag);
        foreach (var rr in request.Headers.GetAll(HeaderNames.RecordRoute)) ok.Headers.Add(HeaderNames.RecordRoute, rr);
        ok.Headers.Add(HeaderNames.Expires, expires.ToString(CultureInfo.InvariantCulture));
        ok.Headers.Add(HeaderNames.AllowEvents, Package);
        _agent.AddContact(ok);
        return ok;
    }

    private ITimer ArmExpiry(DialogSubscription subscription, TimeSpan after) =>
        _time.CreateTimer(_ =>
        {
            if (subscription.MarkTerminating("timeout"))
            {
                _logger.LogInformation("Lamp subscription of {Subscriber} to {Resource} expired", subscription.Subscriber, subscription.Resource);
                StartSender(subscription);
            }
        }, null, after, Timeout.InfiniteTimeSpan);

    private void OnLampChanged(string orbit)
    {
        foreach (var subscription in _subscriptions.Values)
            if (subscription.Orbit is null || string.Equals(subscription.Orbit, orbit, StringComparison.Ordinal)) Poke(subscription);
    }

    private void Poke(DialogSubscription subscription)
    {
        if (subscription.MarkDirty()) StartSender(subscription);
    }

    private void StartSender(DialogSubscription subscription) => _ = Task.Run(() => SendAsync(subscription));

    private static (string? Package, string? Id) ParseEvent(SipRequest request)
    {
        if (request.Headers.Get(HeaderNames.Event) is not { } value) return (null, null);
        var parts = value.Split(';', StringSplitOptions.TrimEntries);
        var id = parts.Skip(1).Select(p => p.Split('=', 2, StringSplitOptions.TrimEntries))
            .FirstOrDefault(p => p.Length == 2 && string.Equals(p[0], "id", StringComparison.OrdinalIgnoreCase))?[1];
        return (parts[0], id);
    }

    /// <summary>No Accept means the package's default, dialog-info (RFC 6665 §4.1.2.1 and RFC 4235 §3.4).</summary>
    private static bool AcceptsDialogInfo(SipRequest request)
    {
        var accepted = request.Headers.GetValues(HeaderNames.Accept);
        if (accepted.Count == 0) return true;
        return accepted.Select(a => a.Split(';')[0].Trim()).Any(a => string.Equals(a, DialogInfoDocument.ContentType, StringComparison.OrdinalIgnoreCase)
                                                                     || a is "*/*" || string.Equals(a, "application/*", StringComparison.OrdinalIgnoreCase));
    }

    private Task ReplyAsync(ServerTransaction transaction, int status, string? warning, Action<SipResponse>? decorate = null)
    {
        var request = transaction.Request;
        var response = SipResponse.CreateFor(request, status, toTag: request.To.Tag is null ? _agent.Stack.Ids.NewTag() : null);
        if (warning is not null) response.Headers.Add(HeaderNames.Warning, $"399 {_addresses.Pool} \"{warning.Replace('"', '\'')}\"");
        decorate?.Invoke(response);
        return transaction.SendResponseAsync(response);
    }

    public async ValueTask DisposeAsync()
    {
        _lamps.Changed -= OnLampChanged;
        await _stopping.CancelAsync().ConfigureAwait(false);
        // The subscriptions stay in the journal: the next start takes them up again.
        foreach (var subscription in _subscriptions.Values) subscription.Abandon();
        _stopping.Dispose();
    }
}
