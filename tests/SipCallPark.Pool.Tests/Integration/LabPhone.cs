using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>
/// A phone of the lab on its own loopback stack (UDP and TCP, ephemeral port), built on <see cref="SipUserAgent"/>
/// with the pool as outbound proxy. Incoming calls are queued undecided for the test to ring, answer or leave;
/// every wait is bounded by <see cref="Bound"/>.
/// </summary>
internal sealed class LabPhone : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly Channel<IncomingCall> _incoming = Channel.CreateUnbounded<IncomingCall>();
    private readonly Channel<SipRequest> _messages = Channel.CreateUnbounded<SipRequest>();

    private LabPhone(string user, SipStack stack, SipUserAgent agent, SipEndPoint pool)
    {
        User = user;
        Stack = stack;
        Agent = agent;
        Pool = pool;
        agent.OnIncomingCall = call => _incoming.Writer.WriteAsync(call).AsTask();
        agent.MessageReceived += message => _messages.Writer.TryWrite(message);
        stack.Transport.MessageTraced += e =>
        {
            if (e.Direction == SipDirection.In && e.Message is SipResponse r) Responses.Enqueue(r);
            if (e.Direction == SipDirection.In && e.Message is SipRequest q) Requests.Enqueue(q);
        };
    }

    public string User { get; }

    public SipStack Stack { get; }

    public SipUserAgent Agent { get; }

    /// <summary>The pool this phone sends to, over the transport it uses.</summary>
    public SipEndPoint Pool { get; }

    /// <summary>Every response that reached this phone, in arrival order.</summary>
    public ConcurrentQueue<SipResponse> Responses { get; } = new();

    /// <summary>Every request that reached this phone, in arrival order.</summary>
    public ConcurrentQueue<SipRequest> Requests { get; } = new();

    public SipUri Contact => Agent.Contact;

    /// <summary>A small offer naming this phone, so a test can tell whose SDP arrived where.</summary>
    public string Sdp => $"v=0\r\no={User} {Contact.Port} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {20000 + Contact.Port % 20000} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

    public static SipUri Aor(string user) => SipUri.Parse($"sip:{user}@{LabPools.Domain}");

    /// <param name="password">The digest password; null makes a phone that cannot answer a challenge.</param>
    /// <param name="udpDecorator">Wraps the phone's UDP channel (e.g. in a <see cref="LossyChannel"/>).</param>
    public static async Task<LabPhone> StartAsync(string user, string? password, SipEndPoint pool, ILoggerFactory loggers, bool supportsReplaces = true,
        Func<ISipChannel, ISipChannel>? udpDecorator = null)
    {
        var (udp, tcp) = SipChannels.BindUdpAndTcp(new IPEndPoint(IPAddress.Loopback, 0), loggerFactory: loggers);
        ISipChannel[] channels = pool.Protocol == SipProtocol.Tls
            ? [udp, tcp, new TlsChannel(new IPEndPoint(IPAddress.Loopback, 0), new TlsOptions { Certificate = LabTls.Certificate })]
            : [udpDecorator is null ? udp : udpDecorator(udp), tcp];
        var stack = await SipStack.StartAsync(channels, loggers: loggers);
        var agent = new SipUserAgent(stack, new UserAgentOptions
        {
            Identity = NameAddress.Parse($"<sip:{user}@{LabPools.Domain}>"),
            Password = password,
            OutboundProxy = pool,
            Transport = pool.Protocol,
            UserAgentName = $"LabPhone {user}",
            SupportsReplaces = supportsReplaces,
        });
        return new LabPhone(user, stack, agent, pool);
    }

    public Task<ClientTransactionResult> RegisterAsync(int expires = 3600) => Agent.RegisterAsync(Pool, expires).WaitAsync(Bound);

    /// <summary>Sends <paramref name="request"/> to the pool (answering one challenge when the phone has a password).</summary>
    public Task<ClientTransactionResult> SendAsync(SipRequest request) => Agent.SendOutOfDialogAsync(request, Pool).WaitAsync(Bound);

    /// <summary>A REGISTER built by hand for this phone's address of record, with a fresh Call-ID.</summary>
    public SipRequest NewRegister(string contact, int expires)
    {
        var request = new SipRequest(SipMethods.Register, SipUri.Parse($"sip:{LabPools.Domain}"));
        request.Headers.Add(HeaderNames.From, $"<{Aor(User)}>;tag={Stack.Ids.NewTag()}");
        request.Headers.Add(HeaderNames.To, $"<{Aor(User)}>");
        request.Headers.Add(HeaderNames.CallId, Stack.Ids.NewCallId("127.0.0.1"));
        request.Headers.Add(HeaderNames.CSeq, $"1 {SipMethods.Register}");
        request.Headers.Add(HeaderNames.Contact, contact);
        request.Headers.Add(HeaderNames.Expires, expires.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return request;
    }

    /// <summary>Calls <paramref name="user"/> of the lab domain with this phone's SDP and waits for the outcome.</summary>
    public Task<CallAttempt> CallAsync(string user) => Dial(user).Completion.WaitAsync(Bound);

    public Task<CallAttempt> CallAsync(SipUri target) => Agent.CallAsync(target, new CallOptions { Sdp = Sdp }).WaitAsync(Bound);

    public OutgoingCall Dial(string user) => Agent.Dial(Aor(user), new CallOptions { Sdp = Sdp });

    /// <summary>The next INVITE that reached this phone, not yet answered.</summary>
    public Task<IncomingCall> NextIncomingAsync() => _incoming.Reader.ReadAsync().AsTask().WaitAsync(Bound);

    public int PendingIncoming => _incoming.Reader.Count;

    /// <summary>The next out-of-dialog MESSAGE this phone received (the park app's notices).</summary>
    public Task<SipRequest> NextMessageAsync() => _messages.Reader.ReadAsync().AsTask().WaitAsync(Bound);

    public int PendingMessages => _messages.Reader.Count;

    public ValueTask DisposeAsync() => Stack.DisposeAsync();
}
