using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.UserAgents;

/// <summary>How an outgoing INVITE ended: the call when it was answered, else the final status (408 on timeout).</summary>
public sealed record CallAttempt(int StatusCode, SipCall? Call, SipResponse? Response)
{
    public bool IsSuccess => Call is not null;

    public override string ToString() => Response?.FirstLine ?? StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Why a call ended.</summary>
public enum CallEndReason
{
    /// <summary>We sent BYE.</summary>
    LocalHangUp,
    /// <summary>The other side sent BYE.</summary>
    RemoteHangUp,
    /// <summary>An INVITE with Replaces took its place (RFC 3891) and we sent BYE.</summary>
    Replaced,
    /// <summary>Our 2xx was never acknowledged (RFC 3261 §13.3.1.4); we sent BYE.</summary>
    NoAck,
}
