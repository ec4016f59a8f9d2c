using System.Net;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.Transport;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.ParkLoad;

/// <summary>
/// One lab phone on its own loopback stack (UDP, ephemeral port) with the pool as outbound proxy. It carries many
/// calls at once; its SDP names the shared <see cref="MediaSink"/>, so music on hold lands on a socket we own.
/// </summary>
public sealed class LoadPhone : IAsyncDisposable
{
    private LoadPhone(string user, SipStack stack, SipUserAgent agent, string sdp)
    {
        User = user;
        Stack = stack;
        Agent = agent;
        Sdp = sdp;
    }

    public string User { get; }

    public SipStack Stack { get; }

    public SipUserAgent Agent { get; }

    public NameAddress Identity => Agent.Identity;

    /// <summary>The audio offer this phone sends: PCMU at the media sink.</summary>
    public string Sdp { get; }

    /// <summary>The lab password rule of config/users.json: <c>&lt;user&gt;-lab-pw</c>.</summary>
    public static string LabPassword(string user) => $"{user}-lab-pw";

    public static async Task<LoadPhone> StartAsync(string user, LoadSettings settings, int mediaPort, bool supportsReplaces, CancellationToken cancellationToken)
    {
        var stack = await SipStack.StartUdpTcpAsync(new IPEndPoint(IPAddress.Loopback, 0), cancellationToken: cancellationToken);
        var agent = new SipUserAgent(stack, new UserAgentOptions
        {
            Identity = NameAddress.Parse($"<sip:{user}@{settings.Domain}>"),
            Password = LabPassword(user),
            OutboundProxy = settings.Pool,
            Transport = SipProtocol.Udp,
            UserAgentName = $"ParkLoad {user}",
            SupportsReplaces = supportsReplaces,
            ReferOutcomeTimeout = settings.StepTimeout,
        });
        var port = agent.Contact.Port;
        var sdp = $"v=0\r\no={user} {port} 1 IN IP4 127.0.0.1\r\ns=parkload\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                  + $"m=audio {mediaPort} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n";
        return new LoadPhone(user, stack, agent, sdp);
    }

    /// <summary>REGISTER with digest; true on 2xx.</summary>
    public async Task<(bool Ok, string Outcome)> RegisterAsync(SipEndPoint pool, TimeSpan bound)
    {
        try
        {
            var result = await Agent.RegisterAsync(pool).WaitAsync(bound);
            return (result.IsSuccess, result.ToString());
        }
        catch (TimeoutException)
        {
            return (false, $"no answer within {bound.TotalSeconds:0.#} s");
        }
    }

    public ValueTask DisposeAsync() => Stack.DisposeAsync();
}
