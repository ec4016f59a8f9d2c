using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Proxy;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Tests.Proxy;

/// <summary>
/// A proxy stack at 127.0.0.1:5060 (UDP and TCP) on an in-memory network, run by <see cref="TestDispatcher"/>,
/// with a caller (alice, 127.0.0.2) and two callees (bob1 at 127.0.0.3, bob2 at 127.0.0.4).
/// </summary>
internal sealed class ProxyHarness : IAsyncDisposable
{
    public static readonly IPEndPoint ProxyAddress = new(IPAddress.Loopback, 5060);
    public static readonly SipUri BobAor = SipUri.Parse("sip:bob@callpark.lab");

    /// <summary>The proxy's Record-Route key: fixed, so a test can compute the token a dialog's Record-Route carries.</summary>
    public static readonly RecordRouteToken Tokens = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private readonly Channel<(ServerTransaction Transaction, int Status)> _completed = Channel.CreateUnbounded<(ServerTransaction, int)>();
    private int _calls;

    private ProxyHarness(InMemoryNetwork network, SipStack stack, StatefulProxy proxy, ListLogger log, FakeTimeProvider? clock,
        TestPhone alice, TestPhone bob1, TestPhone bob2)
    {
        Network = network;
        ProxyStack = stack;
        Proxy = proxy;
        Log = log;
        Clock = clock;
        Alice = alice;
        Bob1 = bob1;
        Bob2 = bob2;
        proxy.ContextCompleted += (t, status) => _completed.Writer.TryWrite((t, status));
    }

    public InMemoryNetwork Network { get; }
    public SipStack ProxyStack { get; }
    public StatefulProxy Proxy { get; }
    public ListLogger Log { get; }
    public FakeTimeProvider? Clock { get; }
    public TestPhone Alice { get; }
    public TestPhone Bob1 { get; }
    public TestPhone Bob2 { get; }
    public TestDispatcher Dispatcher { get; private set; } = null!;

    /// <summary>Where the dispatcher forks a new request (no To tag, no Route) to.</summary>
    public List<ProxyTarget> Targets { get; } = [];

    public static SipEndPoint ProxyEndPoint => new(SipProtocol.Udp, ProxyAddress);

    /// <param name="fakeTime">Every stack on one <see cref="FakeTimeProvider"/>: timers fire only when the test advances it.</param>
    /// <param name="bobProtocol">The transport the callees listen on.</param>
    public static async Task<ProxyHarness> StartAsync(bool fakeTime = false, SipProtocol bobProtocol = SipProtocol.Udp)
    {
        var clock = fakeTime ? new FakeTimeProvider() : null;
        var network = new InMemoryNetwork();
        var stack = await SipStack.StartAsync([network.Attach(ProxyAddress), network.Attach(ProxyAddress, SipProtocol.Tcp)], time: clock);
        var log = new ListLogger();
        var self = new PoolIdentity("pool-a", [ProxyAddress]);
        var proxy = new StatefulProxy(stack, self, Tokens, log);
        var alice = await TestPhone.StartAsync(network, "alice", new IPEndPoint(IPAddress.Parse("127.0.0.2"), 5060), clock);
        var bob1 = await TestPhone.StartAsync(network, "bob1", new IPEndPoint(IPAddress.Parse("127.0.0.3"), 5060), clock, bobProtocol);
        var bob2 = await TestPhone.StartAsync(network, "bob2", new IPEndPoint(IPAddress.Parse("127.0.0.4"), 5060), clock, bobProtocol);
        var harness = new ProxyHarness(network, stack, proxy, log, clock, alice, bob1, bob2);
        harness.Dispatcher = new TestDispatcher(proxy, self, harness.Targets, stack.Ids);
        stack.User = harness.Dispatcher;
        return harness;
    }

    public static ProxyTarget TargetOf(TestPhone phone) => new(phone.Contact, phone.EndPoint);

    /// <summary>A new INVITE from alice to bob's address of record.</summary>
    public SipRequest NewInvite() => Alice.NewRequest(SipMethods.Invite, BobAor, $"call-{Interlocked.Increment(ref _calls)}@127.0.0.2");

    public Task<InviteClientTransaction> SendFromAliceAsync(SipRequest invite) => Alice.Stack.Transactions.SendInviteAsync(invite, ProxyEndPoint);

    /// <summary>The next response context to end, with the status it sent upstream.</summary>
    public Task<(ServerTransaction Transaction, int Status)> NextCompletedAsync() =>
        _completed.Reader.ReadAsync().AsTask().WaitAsync(TestPhone.Bound);

    public async ValueTask DisposeAsync()
    {
        foreach (var phone in new[] { Alice, Bob1, Bob2 }) await phone.DisposeAsync();
        await ProxyStack.DisposeAsync();
    }
}

/// <summary>
/// The pool's transaction user cut down to what the proxy needs, with the router stubbed: 482 for a loop; our
/// Route consumed; a remaining Route or a To tag (in dialog) is followed; anything else forks to the harness's
/// targets, Record-Routed when it is an INVITE.
/// </summary>
internal sealed class TestDispatcher(StatefulProxy proxy, PoolIdentity self, List<ProxyTarget> targets, ISipIdGenerator ids) : ITransactionUser
{
    private readonly Channel<ServerTransaction> _handled = Channel.CreateUnbounded<ServerTransaction>();

    /// <summary>Awaited before each new request is routed: a test holds routing back with it.</summary>
    public Task Gate { get; set; } = Task.CompletedTask;

    /// <summary>The next request the dispatcher finished with (answered or handed to the proxy).</summary>
    public Task<ServerTransaction> NextHandledAsync() => _handled.Reader.ReadAsync().AsTask().WaitAsync(TestPhone.Bound);

    public async Task OnRequestAsync(ServerTransaction transaction)
    {
        await Gate;
        await RouteAsync(transaction);
        _handled.Writer.TryWrite(transaction);
    }

    private async Task RouteAsync(ServerTransaction transaction)
    {
        var request = transaction.Request;
        if (proxy.IsLoop(request))
        {
            await transaction.SendResponseAsync(SipResponse.CreateFor(request, 482, toTag: ids.NewTag()));
            return;
        }
        ConsumeOurRoutes(request);
        ProxyDecision.Forward decision = request.Routes.Count > 0 || request.To.Tag is not null
            ? new([new ProxyTarget(request.RequestUri, TestPhone.NextHop(request))], RecordRoute: false, FollowsRoute: true)
            : new([.. targets], RecordRoute: request.IsInvite, FollowsRoute: false);
        await proxy.ForwardAsync(transaction, decision);
    }

    public Task OnAckAsync(IncomingMessage ack)
    {
        var request = (SipRequest)ack.Message;
        ConsumeOurRoutes(request);
        return proxy.ForwardAckAsync(ack, TestPhone.NextHop(request));
    }

    public Task OnCancelAsync(InviteServerTransaction invite, IncomingMessage cancel) => proxy.CancelAsync(invite);

    public Task OnStrayResponseAsync(IncomingMessage response) => proxy.ForwardStrayResponseAsync(response);

    public Task OnAdditionalSuccessAsync(InviteClientTransaction transaction, IncomingMessage response) =>
        proxy.ForwardAdditionalSuccessAsync(transaction, response);

    public Task OnServerTransactionFailedAsync(ServerTransaction transaction, TransactionFailure failure) => Task.CompletedTask;

    private void ConsumeOurRoutes(SipRequest request)
    {
        for (var i = 0; i < 4 && request.Routes.Count > 0 && self.IsMe(request.Routes[0].Uri); i++)
            request.Headers.RemoveFirstValue(HeaderNames.Route);
    }
}

/// <summary>Keeps every log line's template and structured values.</summary>
internal sealed class ListLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Template, IReadOnlyDictionary<string, object?> Values)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var values = (state as IReadOnlyList<KeyValuePair<string, object?>> ?? []).ToDictionary(p => p.Key, p => p.Value);
        Entries.Enqueue((logLevel, values.GetValueOrDefault("{OriginalFormat}") as string ?? "", values));
    }

    public IEnumerable<IReadOnlyDictionary<string, object?>> With(string templateStart) =>
        Entries.Where(e => e.Template.StartsWith(templateStart, StringComparison.Ordinal)).Select(e => e.Values);
}
