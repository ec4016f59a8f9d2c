using System.Net;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Sip.Tests.UserAgents;

/// <summary>A user agent on its own loopback stack, answering every call with a small SDP unless told otherwise.</summary>
internal sealed class TestPhone : IAsyncDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private TestPhone(SipStack stack, SipUserAgent agent, string user)
    {
        Stack = stack;
        Agent = agent;
        User = user;
    }

    public SipStack Stack { get; }

    public SipUserAgent Agent { get; }

    public string User { get; }

    /// <summary>Where to reach this phone directly.</summary>
    public SipUri Uri => Agent.Contact;

    public NameAddress Address => new(Uri);

    public string Sdp => $"v=0\r\no={User} 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {10000 + Uri.Port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

    public List<IncomingCall> Incoming { get; } = [];

    public TaskCompletionSource<SipCall> Answered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static async Task<TestPhone> StartAsync(string user, bool supportsReplaces = true, bool autoAnswer = true)
    {
        var stack = await SipStack.StartUdpTcpAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var agent = new SipUserAgent(stack, new UserAgentOptions
        {
            Identity = NameAddress.Parse($"<sip:{user}@callpark.lab>"),
            SupportsReplaces = supportsReplaces,
        });
        var phone = new TestPhone(stack, agent, user);
        if (autoAnswer)
        {
            agent.OnIncomingCall = async incoming =>
            {
                lock (phone.Incoming) phone.Incoming.Add(incoming);
                phone.Answered.TrySetResult(await incoming.AnswerAsync(phone.Sdp));
            };
        }
        return phone;
    }

    public ValueTask DisposeAsync() => Stack.DisposeAsync();
}
