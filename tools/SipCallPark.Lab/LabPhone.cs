using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Lab;

/// <summary>
/// A test phone of the lab (config/users.json, password <c>user-lab-pw</c>) on its own loopback UDP stack, with one
/// pool as its outbound proxy. Like baresip it does not support Replaces, so a retrieve is bridged by the park app.
/// Incoming calls are answered at once; every wait is bounded by <see cref="Bound"/>.
/// </summary>
internal sealed class LabPhone : IAsyncDisposable
{
    public const string Domain = "callpark.lab";
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);
    public static readonly SipUri ParkUri = SipUri.Parse($"sip:park@{Domain}");

    private readonly Channel<SipCall> _answered = Channel.CreateUnbounded<SipCall>();
    private readonly Channel<SipRequest> _messages = Channel.CreateUnbounded<SipRequest>();

    private LabPhone(string user, LabPool pool, SipStack stack, SipUserAgent agent)
    {
        User = user;
        Pool = pool;
        Stack = stack;
        Agent = agent;
        agent.OnIncomingCall = async call => await _answered.Writer.WriteAsync(await call.AnswerAsync(Sdp));
        agent.MessageReceived += message => _messages.Writer.TryWrite(message);
    }

    public string User { get; }

    /// <summary>The pool this phone registers at and sends through.</summary>
    public LabPool Pool { get; }

    public SipStack Stack { get; }

    public SipUserAgent Agent { get; }

    public SipEndPoint Proxy => new(SipProtocol.Udp, Pool.SipEndPoint);

    /// <summary>A small PCMU offer (nothing listens on its port: the lab looks at signalling).</summary>
    public string Sdp => $"v=0\r\no={User} 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {20000 + Agent.Contact.Port % 20000} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

    public string HoldSdp => Sdp + "a=sendonly\r\n";

    public static SipUri Aor(string user) => SipUri.Parse($"sip:{user}@{Domain}");

    public static async Task<LabPhone> StartAsync(string user, LabPool pool)
    {
        var stack = await SipStack.StartUdpTcpAsync(new IPEndPoint(IPAddress.Loopback, 0), loggers: NullLoggerFactory.Instance);
        var agent = new SipUserAgent(stack, new UserAgentOptions
        {
            Identity = NameAddress.Parse($"<sip:{user}@{Domain}>"),
            Password = $"{user}-lab-pw",
            OutboundProxy = new SipEndPoint(SipProtocol.Udp, pool.SipEndPoint),
            UserAgentName = $"SipCallPark.Lab {user}",
            SupportsReplaces = false,
        });
        return new LabPhone(user, pool, stack, agent);
    }

    /// <summary>REGISTER at this phone's pool, or at <paramref name="at"/> (a phone moving to the backup).</summary>
    public Task<ClientTransactionResult> RegisterAsync(LabPool? at = null) =>
        Agent.RegisterAsync(new SipEndPoint(SipProtocol.Udp, (at ?? Pool).SipEndPoint), 3600).WaitAsync(Bound);

    public Task<CallAttempt> CallAsync(SipUri target) => Agent.CallAsync(target, new CallOptions { Sdp = Sdp }).WaitAsync(Bound);

    /// <summary>The next call this phone answered.</summary>
    public Task<SipCall> NextAnsweredAsync() => _answered.Reader.ReadAsync().AsTask().WaitAsync(Bound);

    public Task<SipRequest> NextMessageAsync() => _messages.Reader.ReadAsync().AsTask().WaitAsync(Bound);

    /// <summary>The next MESSAGE within <see cref="Bound"/>, or null.</summary>
    public async Task<SipRequest?> TryNextMessageAsync()
    {
        try
        {
            return await NextMessageAsync();
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    /// <summary>Calls <paramref name="callee"/> through this phone's pool; both legs once confirmed, or why not.</summary>
    public async Task<(SipCall Caller, SipCall Callee)> ConnectAsync(LabPhone callee)
    {
        var attempt = await CallAsync(Aor(callee.User));
        if (!attempt.IsSuccess) throw new LabException($"{User} calling {callee.User} via {Pool.Name}: {attempt}");
        var answered = await callee.NextAnsweredAsync();
        await answered.Confirmed.WaitAsync(Bound);
        return (attempt.Call!, answered);
    }

    /// <summary>
    /// Blind transfer of <paramref name="call"/> (this phone's leg with <paramref name="party"/>) to <paramref name="target"/>:
    /// REFER in the call; the party follows it. The REFER's outcome and, when accepted, the party's INVITE.
    /// </summary>
    public async Task<(ReferOutcome Refer, CallAttempt? PartyInvite)> BlindTransferAsync(SipCall call, LabPhone party, SipCall partyCall, SipUri target)
    {
        var followed = new TaskCompletionSource<CallAttempt>(TaskCreationOptions.RunContinuationsAsynchronously);
        partyCall.OnRefer = async refer => followed.TrySetResult(await refer.FollowAsync(party.Sdp));
        var transfer = await call.ReferAsync(new NameAddress(target), Agent.Identity).WaitAsync(Bound);
        // Accepted but ended without a final status: the pool refused the park and kept the call; nobody follows.
        if (!transfer.Accepted || transfer.StatusCode < 200) return (transfer, null);
        return (transfer, await followed.Task.WaitAsync(Bound));
    }

    /// <summary>
    /// Park, way 2: blind transfer to the park address. The orbit is the one the park's MESSAGE to this phone names;
    /// once told, this phone hangs up its leg, as a softphone does after a transfer.
    /// </summary>
    public async Task<ParkAttempt> ParkByBlindTransferAsync(SipCall call, LabPhone party, SipCall partyCall)
    {
        var (transfer, attempt) = await BlindTransferAsync(call, party, partyCall, ParkUri);
        if (attempt is not { IsSuccess: true }) return new ParkAttempt(transfer, attempt, null);
        var notice = await NextMessageAsync();
        await call.HangUpAsync().WaitAsync(Bound);
        return new ParkAttempt(transfer, attempt, notice.Headers.Get("X-Park-Orbit"));
    }

    /// <summary>Park, way 1: REFER to the park server naming <paramref name="call"/>'s other party with Replaces, sent via <paramref name="via"/>.</summary>
    public Task<ReferOutcome> ParkByReferAsync(SipCall call, string party, LabPool via)
    {
        var replaces = new ReplacesHeader(call.CallId, call.Dialog.Id.RemoteTag, call.Dialog.Id.LocalTag);
        var referTo = new NameAddress(Aor(party).WithHeader(HeaderNames.Replaces, replaces.ToString()));
        return Agent.ReferAsync(ParkUri, referTo, Agent.Identity, destination: new SipEndPoint(SipProtocol.Udp, via.SipEndPoint)).WaitAsync(Bound);
    }

    public ValueTask DisposeAsync() => Stack.DisposeAsync();
}

/// <summary>How a park by blind transfer went: the REFER's outcome, the party's INVITE to the park, the orbit told.</summary>
internal sealed record ParkAttempt(ReferOutcome Transfer, CallAttempt? PartyInvite, string? Orbit)
{
    public SipCall? PartyParkLeg => PartyInvite?.Call;

    public bool Parked => Orbit is not null && PartyParkLeg is not null;

    public override string ToString() =>
        Parked ? $"parked on {Orbit}"
        : PartyInvite is { } invite ? $"party's INVITE to park got {invite.StatusCode}"
        : $"REFER got {Transfer.ReferStatus}{(Transfer.ReferResponse?.Headers.Get(HeaderNames.Warning) is { } w ? $" ({w})" : "")}";
}

/// <summary>When a call ended and how, seen from one phone (Stopwatch timestamps, so the lab can time a BYE).</summary>
internal sealed class CallWatch
{
    public CallWatch(string label, SipCall call)
    {
        Label = label;
        Call = call;
        _ = call.Ended.ContinueWith(t =>
        {
            EndedAt = Stopwatch.GetTimestamp();
            Reason = t.Result;
        }, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously);
    }

    public string Label { get; }

    public SipCall Call { get; }

    public long? EndedAt { get; private set; }

    public CallEndReason? Reason { get; private set; }

    public bool IsUp => !Call.IsEnded;
}
