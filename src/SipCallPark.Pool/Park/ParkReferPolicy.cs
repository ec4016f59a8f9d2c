using SipCallPark.Pool.Proxy;
using SipCallPark.Pool.State;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Park;

/// <summary>
/// Whom a park REFER (way 1, docs/design.md §5) may make the pool call (docs/design.md §11 "Trust"). The park INVITEs
/// the Refer-To target from an orbit, so an unchecked Refer-To would let any user make the pool call any address.
/// Accepted: a user of the domain (the park reaches it at its binding or through its home pool), a contact registered
/// here, or the other party of a call the REFERring user holds through this pool, named by the Replaces.
/// </summary>
internal sealed class ParkReferPolicy(PoolTopology topology, IBindingStore bindings, ProxiedDialogs dialogs, TimeProvider time)
{
    /// <summary>Null when <paramref name="referrer"/> may park the party <paramref name="referTo"/> names; else why not.</summary>
    public string? Refusal(SipUri referrer, SipUri referTo, ReplacesHeader replaces)
    {
        var target = referTo.WithoutHeaders();
        if (!target.IsSip) return "the Refer-To must be a SIP URI";
        if (IsUserOfDomain(target) || IsRegisteredContact(target)) return null;
        if (dialogs.Find(replaces.CallId, replaces.ToTag, replaces.FromTag) is { } dialog)
        {
            var otherParty = SameAor(dialog.Caller, referrer) ? dialog.CalleeContact
                : SameAor(dialog.Callee, referrer) ? dialog.CallerContact
                : null;
            if (otherParty is not null && SameTarget(otherParty, target)) return null;
        }
        return $"the Refer-To must name a user or registered contact of {topology.Domain}, or the other party of your call through this pool";
    }

    private bool IsUserOfDomain(SipUri uri) =>
        string.Equals(uri.Host, topology.Domain, StringComparison.OrdinalIgnoreCase) && uri.Port is null
        && topology.Users.Any(u => string.Equals(u.User, uri.UnescapedUser, StringComparison.OrdinalIgnoreCase));

    private bool IsRegisteredContact(SipUri uri)
    {
        foreach (var binding in bindings.All(time.GetUtcNow()))
        {
            if (SipUri.TryParse(binding.Contact, out var contact) && SameTarget(contact, uri)) return true;
        }
        return false;
    }

    /// <summary>User, host and port decide: phones add or drop parameters such as transport or ob when they copy a Contact.</summary>
    private static bool SameTarget(SipUri a, SipUri b) =>
        a.UnescapedUser == b.UnescapedUser && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    private static bool SameAor(SipUri a, SipUri b) =>
        string.Equals(a.UnescapedUser, b.UnescapedUser, StringComparison.OrdinalIgnoreCase) && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase);
}
