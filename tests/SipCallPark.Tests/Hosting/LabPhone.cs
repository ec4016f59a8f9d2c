using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Tests.Hosting;

/// <summary>
/// A phone of the lab (config/users.json) on its own loopback UDP stack, talking to a pool process through its
/// SIP port as outbound proxy. The process tests' twin of the Pool tests' LabPhone: incoming calls and MESSAGEs are
/// queued for the test; every wait is bounded by <see cref="Bound"/>.
/// </summary>
internal sealed class LabPhone : IAsyncDisposable
{
    public const string Domain = "callpark.lab";
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
    }

    public string User { get; }

    public SipStack Stack { get; }

    public SipUserAgent Agent { get; }

    public SipEndPoint Pool { get; }

    /// <summary>A small PCMU offer naming this phone (nothing listens on its media port: these tests look at signalling).</summary>
    public string Sdp => $"v=0\r\no={User} 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {20000 + Agent.Contact.Port % 20000} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

    public static SipUri Aor(string user) => SipUri.Parse($"sip:{user}@{Domain}");

    /// <summary>A phone of <paramref name="user"/> with its published lab password (<c>user-lab-pw</c>).</summary>
    /// <param name="udpDecorator">Wraps the phone's UDP channel (e.g. to send through a lossy relay).</param>
    public static async Task<LabPhone> StartAsync(string user, IPEndPoint pool, Func<ISipChannel, ISipChannel>? udpDecorator = null)
    {
        var (udp, tcp) = SipChannels.BindUdpAndTcp(new IPEndPoint(IPAddress.Loopback, 0), loggerFactory: NullLoggerFactory.Instance);
        var stack = await SipStack.StartAsync([udpDecorator is null ? udp : udpDecorator(udp), tcp], loggers: NullLoggerFactory.Instance);
        var proxy = new SipEndPoint(SipProtocol.Udp, pool);
        var agent = new SipUserAgent(stack, new UserAgentOptions
        {
            Identity = NameAddress.Parse($"<sip:{user}@{Domain}>"),
            Password = $"{user}-lab-pw",
            OutboundProxy = proxy,
            UserAgentName = $"LabPhone {user}",
        });
        return new LabPhone(user, stack, agent, proxy);
    }

    public Task<ClientTransactionResult> RegisterAsync(int expires = 3600) => Agent.RegisterAsync(Pool, expires).WaitAsync(Bound);

    public Task<CallAttempt> CallAsync(string user) => Agent.CallAsync(Aor(user), new CallOptions { Sdp = Sdp }).WaitAsync(Bound);

    /// <summary>The next INVITE that reached this phone, not yet answered.</summary>
    public Task<IncomingCall> NextIncomingAsync() => _incoming.Reader.ReadAsync().AsTask().WaitAsync(Bound);

    /// <summary>The next out-of-dialog MESSAGE this phone received (the park app's notices).</summary>
    public Task<SipRequest> NextMessageAsync() => _messages.Reader.ReadAsync().AsTask().WaitAsync(Bound);

    /// <summary>A confirmed call from this phone to <paramref name="callee"/> through the pool.</summary>
    public async Task<(SipCall Caller, SipCall Callee)> ConnectAsync(LabPhone callee)
    {
        var dialling = CallAsync(callee.User);
        var incoming = await callee.NextIncomingAsync();
        var calleeCall = await incoming.AnswerAsync(callee.Sdp);
        var attempt = await dialling;
        Assert.That(attempt.IsSuccess, Is.True, attempt.ToString());
        await calleeCall.Confirmed.WaitAsync(Bound);
        return (attempt.Call!, calleeCall);
    }

    /// <summary>
    /// Way 2 of the park: this phone calls <paramref name="party"/> and blind-transfers it to the park service; the party
    /// follows the REFER. Returns the party's call with the park and the orbit the "parked" MESSAGE named.
    /// </summary>
    public async Task<(SipCall PartyParkLeg, string Orbit)> ParkByBlindTransferAsync(LabPhone party)
    {
        var (call, partyCall) = await ConnectAsync(party);
        var followed = new TaskCompletionSource<CallAttempt>(TaskCreationOptions.RunContinuationsAsynchronously);
        partyCall.OnRefer = async refer => followed.TrySetResult(await refer.FollowAsync(party.Sdp));
        var transfer = await call.ReferAsync(new NameAddress(SipUri.Parse($"sip:park@{Domain}")), Agent.Identity).WaitAsync(Bound);
        Assert.That(transfer.Succeeded, Is.True, transfer.ToString());
        var attempt = await followed.Task.WaitAsync(Bound);
        Assert.That(attempt.IsSuccess, Is.True, attempt.ToString());
        var notice = await NextMessageAsync();
        Assert.That(notice.BodyText, Does.Contain("parked on orbit"));
        await call.HangUpAsync().WaitAsync(Bound);
        return (attempt.Call!, notice.Headers.Get("X-Park-Orbit")!);
    }

    public ValueTask DisposeAsync() => Stack.DisposeAsync();
}
