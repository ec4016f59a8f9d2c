using SipCallPark.Pool.Registrar;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Proxy;

/// <summary>Where one forwarded copy of a request goes: its new Request-URI and the address to send it to.</summary>
public sealed record ProxyTarget(SipUri RequestUri, SipEndPoint Destination, RegistrationMode Mode = RegistrationMode.Normal)
{
    /// <summary>The paired pool, chosen by the router for its users or orbits: the copy is signed for it
    /// (<see cref="IPartnerSigner"/>).</summary>
    public bool ToPartner { get; init; }
}

/// <summary>What the proxy does with a request (RFC 3261 §16.3–16.5), decided before anything is sent.</summary>
public abstract record ProxyDecision
{
    /// <summary>Answer it ourselves with this status (and a Warning naming why).</summary>
    public sealed record Respond(int StatusCode, string? Warning = null) : ProxyDecision;

    /// <summary>
    /// An in-dialog REFER parking a call that may not be parked now: accepted with 202 and its subscription ended at once
    /// (<see cref="InDialogReferRefusal"/>), so the call stays up; the Warning says why.
    /// </summary>
    public sealed record EndParkTransfer(string Warning) : ProxyDecision;

    /// <summary>Ask for credentials: 407 with Proxy-Authenticate (or 403 when <paramref name="Stale"/> is false and they were wrong).</summary>
    public sealed record Challenge(bool Stale) : ProxyDecision;

    /// <summary>The request is for this pool itself (OPTIONS ping, REGISTER, the park application).</summary>
    public sealed record Local(LocalService Service) : ProxyDecision;

    /// <summary>Forward to these targets in parallel; add Record-Route when the request may create a dialog.</summary>
    public sealed record Forward(IReadOnlyList<ProxyTarget> Targets, bool RecordRoute, bool FollowsRoute) : ProxyDecision;
}

public enum LocalService { Options, Register, Park }
