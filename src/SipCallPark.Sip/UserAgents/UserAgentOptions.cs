using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.UserAgents;

/// <summary>Who a user agent is and how it reaches the network.</summary>
public sealed class UserAgentOptions
{
    /// <summary>The address of record, e.g. <c>"Alice" &lt;sip:alice@callpark.lab&gt;</c> (no tag).</summary>
    public required NameAddress Identity { get; init; }

    /// <summary>Transport for the Contact and for requests to the outbound proxy.</summary>
    public SipProtocol Transport { get; init; } = SipProtocol.Udp;

    /// <summary>Where out-of-dialog requests go (the pool); null sends to the Request-URI's address.</summary>
    public SipEndPoint? OutboundProxy { get; init; }

    /// <summary>Digest password; the user name is the identity's user unless <see cref="AuthUser"/> says otherwise.</summary>
    public string? Password { get; init; }

    public string? AuthUser { get; init; }

    /// <summary>Whether this agent honours Replaces (RFC 3891); when false it answers an INVITE requiring it with 420.</summary>
    public bool SupportsReplaces { get; init; } = true;

    public string UserAgentName { get; init; } = "SipCallPark";

    /// <summary>How long a REFER sender waits for the final NOTIFY before giving up on the outcome.</summary>
    public TimeSpan ReferOutcomeTimeout { get; init; } = TimeSpan.FromSeconds(32);

    /// <summary>Called with every out-of-dialog request (INVITE, MESSAGE, …, and their retries with credentials) and its
    /// destination just before it is sent, once its headers and body are final: a server signs here what it sends to a
    /// peer that must recognise it. Null: nothing is added.</summary>
    public Action<SipRequest, SipEndPoint>? BeforeSend { get; init; }
}
