using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.UserAgents;

/// <summary>What goes into an outgoing INVITE besides the target.</summary>
public sealed class CallOptions
{
    /// <summary>SDP offer (application/sdp); null sends an INVITE without body.</summary>
    public string? Sdp { get; init; }

    /// <summary>The dialog to replace at the target (RFC 3891), sent with <c>Require: replaces</c> when <see cref="RequireReplaces"/>.</summary>
    public ReplacesHeader? Replaces { get; init; }

    public bool RequireReplaces { get; init; } = true;

    /// <summary>Referred-By (RFC 3892) when the call follows a REFER.</summary>
    public NameAddress? ReferredBy { get; init; }

    /// <summary>Further headers, added as given.</summary>
    public IReadOnlyList<(string Name, string Value)> Headers { get; init; } = [];

    /// <summary>Send here instead of the outbound proxy or the target's address.</summary>
    public SipEndPoint? Destination { get; init; }

    /// <summary>From address to use instead of the agent's identity (the park application speaks for the orbit).</summary>
    public NameAddress? From { get; init; }

    /// <summary>To address when the Request-URI is where the callee is reached rather than who it is (a registered
    /// contact): the address of record (RFC 3261 §8.1.1.2). Null: the target.</summary>
    public NameAddress? To { get; init; }
}
