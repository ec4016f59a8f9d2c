using System.Net;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Registrar;

/// <summary>Where requests for one binding go, and why: the Contact (RFC 3261 §16.5) or the REGISTER's source.</summary>
/// <param name="Destination">The transport address; null when neither the Contact nor the source can be reached.</param>
/// <param name="ToSource">True when the destination is the REGISTER's source rather than the Contact.</param>
/// <param name="Reason">Why, for people (<c>/registrations</c>).</param>
public sealed record BindingTarget(SipEndPoint? Destination, bool ToSource, string Reason)
{
    public string Kind => Destination is null ? "none" : ToSource ? "source" : "contact";
}

/// <summary>
/// Chooses each binding's destination under <c>Pool:Registrar:NatTraversal</c> (docs/design.md §11). The proxy, the
/// park application and the admin API ask the same instance, so what <c>/registrations</c> shows is what is used.
/// </summary>
public sealed class BindingTargets(NatTraversal policy)
{
    public NatTraversal Policy { get; } = policy;

    public BindingTarget Choose(Binding binding)
    {
        var source = SourceOf(binding);
        var contact = SipUri.TryParse(binding.Contact, out var uri) ? SipTargetResolver.Resolve(uri) : null;
        switch (Policy)
        {
            case NatTraversal.Always:
                return source is not null ? new(source, true, "NatTraversal is Always") : new(contact, false, "no source recorded");
            case NatTraversal.Never:
                return contact is not null ? new(contact, false, "NatTraversal is Never") : new(source, true, "the Contact is not an IP address");
        }
        if (binding.Nat is not { } signs)
            return source is not null ? new(source, true, "registered before the NAT test: its source, as then") : new(contact, false, "no source recorded");
        if (signs != NatSigns.None && source is not null) return new(source, true, NatTest.Describe(signs));
        return contact is not null ? new(contact, false, NatTest.Describe(signs)) : new(source, true, "the Contact is not an IP address");
    }

    /// <summary>The address a binding's REGISTER came from, or null when unknown.</summary>
    public static SipEndPoint? SourceOf(Binding binding)
    {
        if (binding.Source is not { } source) return null;
        var colon = source.IndexOf(':');
        if (colon < 0 || !Enum.TryParse<SipProtocol>(source[..colon], true, out var protocol)) return null;
        return IPEndPoint.TryParse(source[(colon + 1)..], out var ep) ? new SipEndPoint(protocol, ep) : null;
    }
}
