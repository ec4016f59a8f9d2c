using System.Net;
using System.Threading.Channels;
using System.Xml.Linq;
using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Dialogs;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>
/// A desk phone's BLF key as the tests need it: subscribes to an orbit (or the park service) with <c>Event: dialog</c>
/// through the pool, answers every NOTIFY with <see cref="NotifyAnswer"/> and queues it; every wait is bounded.
/// </summary>
internal sealed class LampWatcher : ITransactionUser, IAsyncDisposable
{
    private static readonly XNamespace Di = "urn:ietf:params:xml:ns:dialog-info";
    private readonly Channel<SipRequest> _notifies = Channel.CreateUnbounded<SipRequest>();

    private LampWatcher(string user, SipStack stack, SipUserAgent agent, SipEndPoint pool)
    {
        User = user;
        Stack = stack;
        Agent = agent;
        Pool = pool;
    }

    public string User { get; }

    public SipStack Stack { get; }

    public SipUserAgent Agent { get; }

    public SipEndPoint Pool { get; }

    /// <summary>The status every NOTIFY gets (200; 481 plays a phone that forgot the subscription).</summary>
    public int NotifyAnswer { get; set; } = 200;

    public int PendingNotifies => _notifies.Reader.Count;

    /// <param name="password">null makes a watcher that cannot answer a challenge.</param>
    public static async Task<LampWatcher> StartAsync(string user, string? password, SipEndPoint pool, ILoggerFactory loggers)
    {
        var (udp, tcp) = SipChannels.BindUdpAndTcp(new IPEndPoint(IPAddress.Loopback, 0), loggerFactory: loggers);
        var stack = await SipStack.StartAsync([udp, tcp], loggers: loggers);
        var agent = new SipUserAgent(stack, new UserAgentOptions
        {
            Identity = NameAddress.Parse($"<sip:{user}@{LabPools.Domain}>"),
            Password = password,
            OutboundProxy = pool,
            UserAgentName = $"LampWatcher {user}",
        }, attach: false);
        var watcher = new LampWatcher(user, stack, agent, pool);
        stack.User = watcher;
        return watcher;
    }

    /// <summary>A SUBSCRIBE out of any dialog to <paramref name="target"/> (<c>7000</c>, <c>park</c>) of the lab domain.</summary>
    public SipRequest NewSubscribe(string target, int? expires, string @event = "dialog")
    {
        var uri = SipUri.Parse($"sip:{target}@{LabPools.Domain}");
        var request = new SipRequest(SipMethods.Subscribe, uri);
        request.Headers.Add(HeaderNames.From, $"<sip:{User}@{LabPools.Domain}>;tag={Stack.Ids.NewTag()}");
        request.Headers.Add(HeaderNames.To, $"<{uri}>");
        request.Headers.Add(HeaderNames.CallId, Stack.Ids.NewCallId("127.0.0.1"));
        request.Headers.Add(HeaderNames.CSeq, $"1 {SipMethods.Subscribe}");
        request.Headers.Add(HeaderNames.Event, @event);
        request.Headers.Add(HeaderNames.Accept, "application/dialog-info+xml");
        if (expires is { } e) request.Headers.Add(HeaderNames.Expires, e.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return request;
    }

    /// <summary>Subscribes (answering one challenge); on 2xx also the subscriber's side of the dialog.</summary>
    /// <remarks>
    /// A 503 of the pool's load shedding (a loaded test machine, the first request after start) is tried again after
    /// its Retry-After, twice at most, as a phone does.
    /// </remarks>
    public async Task<(ClientTransactionResult Result, Dialog? Dialog)> SubscribeAsync(string target, int? expires = 600, string @event = "dialog")
    {
        SipRequest request;
        ClientTransactionResult result;
        for (var attempt = 1; ; attempt++)
        {
            request = NewSubscribe(target, expires, @event);
            result = await Agent.SendOutOfDialogAsync(request, Pool).WaitAsync(LabPhone.Bound);
            if (attempt == 3 || result.StatusCode != 503 || result.Response?.Headers.Get(HeaderNames.Warning)?.Contains("overloaded") != true) break;
            await Task.Delay(TimeSpan.FromSeconds(long.Parse(result.Response.Headers.Get(HeaderNames.RetryAfter) ?? "1")));
        }
        if (!result.IsSuccess) return (result, null);
        var dialog = Dialog.FromUac(request, result.Response!);
        // The challenged first try used CSeq 1, the one answered 2xx a higher number.
        dialog.AdvanceLocalCSeq(result.Response!.CSeq.Number);
        return (result, dialog);
    }

    /// <summary>A SUBSCRIBE inside the subscription's dialog: a refresh, or with 0 an unsubscribe.</summary>
    public Task<ClientTransactionResult> RefreshAsync(Dialog dialog, int expires, string @event = "dialog")
    {
        SipRequest request;
        lock (dialog) request = dialog.CreateRequest(SipMethods.Subscribe);
        request.Headers.Add(HeaderNames.Event, @event);
        request.Headers.Add(HeaderNames.Expires, expires.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return Agent.SendInDialogAsync(dialog, request).WaitAsync(LabPhone.Bound);
    }

    public Task<SipRequest> NextNotifyAsync() => _notifies.Reader.ReadAsync().AsTask().WaitAsync(LabPhone.Bound);

    /// <summary>The <c>state</c> of each dialog of a NOTIFY's dialog-info document.</summary>
    public static IReadOnlyList<string> DialogStates(SipRequest notify) =>
        XDocument.Parse(notify.BodyText).Root!.Elements(Di + "dialog").Select(d => d.Element(Di + "state")!.Value).ToArray();

    public static long Version(SipRequest notify) => long.Parse(XDocument.Parse(notify.BodyText).Root!.Attribute("version")!.Value);

    public async Task OnRequestAsync(ServerTransaction transaction)
    {
        var request = transaction.Request;
        if (request.Method == SipMethods.Notify)
        {
            await transaction.SendResponseAsync(SipResponse.CreateFor(request, NotifyAnswer));
            _notifies.Writer.TryWrite(request);
            return;
        }
        await transaction.SendResponseAsync(SipResponse.CreateFor(request, 405));
    }

    public Task OnAckAsync(IncomingMessage ack) => Task.CompletedTask;

    public Task OnCancelAsync(InviteServerTransaction invite, IncomingMessage cancel) => Task.CompletedTask;

    public Task OnStrayResponseAsync(IncomingMessage response) => Task.CompletedTask;

    public Task OnAdditionalSuccessAsync(InviteClientTransaction transaction, IncomingMessage response) => Task.CompletedTask;

    public Task OnServerTransactionFailedAsync(ServerTransaction transaction, TransactionFailure failure) => Task.CompletedTask;

    public ValueTask DisposeAsync() => Stack.DisposeAsync();
}
