using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.State;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Replication;

/// <summary>
/// What a backup takes from the pool it backs up, record by record (docs/design.md §7 "Replication", §11 "Trust"):
/// bindings only of users homed on the sending pool, with a SIP contact; park dialogs only on the sending pool's own
/// orbits, with SIP URIs where the dialog needs them. A signed request is still checked: a bug or a compromised
/// partner must not make this pool call anywhere.
/// </summary>
internal sealed class ReplicaContentRules(PoolTopology topology)
{
    /// <summary>Longest URI or name-addr taken (a contact, a remote target, a route entry).</summary>
    private const int MaxUriLength = 1024;

    /// <summary>Why a binding of <paramref name="sender"/> is not taken, or null.</summary>
    public string? RefuseBinding(PoolDefinition sender, Binding binding)
    {
        if (!SipUri.TryParse(binding.Aor, out var aor) || !aor.IsSip || !string.Equals(aor.Host, topology.Domain, StringComparison.OrdinalIgnoreCase))
            return $"a binding's address of record {Show(binding.Aor)} is not a user of {topology.Domain}";
        var user = topology.Users.FirstOrDefault(u => string.Equals(u.User, aor.UnescapedUser, StringComparison.OrdinalIgnoreCase));
        if (user is null || !string.Equals(user.HomePool, sender.Name, StringComparison.OrdinalIgnoreCase))
            return $"{Show(binding.Aor)} is not homed on {sender.Name}";
        if (!IsSipNameAddress(binding.Contact)) return $"the contact {Show(binding.Contact)} of {binding.Aor} is not a SIP URI";
        return null;
    }

    /// <summary>Why a park dialog of <paramref name="sender"/> is not taken, or null.</summary>
    public string? RefusePark(PoolDefinition sender, ParkedDialogRecord park)
    {
        var ranges = sender.Orbits.Select(text => OrbitRange.TryParse(text, out var range, out _) ? range : null).OfType<OrbitRange>();
        if (!OrbitRange.IsOrbitNumber(park.Orbit) || !ranges.Any(r => r.Contains(park.Orbit)))
            return $"orbit {Show(park.Orbit)} is not in {sender.Name}'s ranges ({string.Join(", ", sender.Orbits)})";
        if (!IsSipUri(park.RemoteTarget)) return $"the remote target {Show(park.RemoteTarget)} of orbit {park.Orbit} is not a SIP URI";
        if (!IsSipNameAddress(park.LocalUri) || !IsSipNameAddress(park.RemoteUri))
            return $"the dialog of orbit {park.Orbit} names a party that is not a SIP URI";
        if (park.RouteSet.Any(r => !IsSipNameAddress(r))) return $"the route set of orbit {park.Orbit} holds an entry that is not a SIP URI";
        if (string.IsNullOrWhiteSpace(park.CallId) || park.CallId.Length > 256) return $"the dialog of orbit {park.Orbit} has no usable Call-ID";
        return null;
    }

    /// <summary>
    /// Why a bridged call of <paramref name="sender"/> is not taken, or null: retrieved from one of the sender's orbits,
    /// and each leg a dialog this pool could send a BYE in (SIP URIs, a Call-ID and both tags).
    /// </summary>
    public string? RefuseBridge(PoolDefinition sender, BridgedCallRecord bridge)
    {
        var ranges = sender.Orbits.Select(text => OrbitRange.TryParse(text, out var range, out _) ? range : null).OfType<OrbitRange>();
        if (!OrbitRange.IsOrbitNumber(bridge.Orbit) || !ranges.Any(r => r.Contains(bridge.Orbit)))
            return $"bridged call {Show(bridge.Id)} names orbit {Show(bridge.Orbit)}, not in {sender.Name}'s ranges";
        if (string.IsNullOrWhiteSpace(bridge.Id) || bridge.Id.Length > 256) return "a bridged call has no usable id";
        foreach (var leg in new[] { bridge.Parked, bridge.Retriever })
        {
            if (leg is null) return $"bridged call {Show(bridge.Id)} lacks a leg";
            if (string.IsNullOrWhiteSpace(leg.CallId) || leg.CallId.Length > 256 || string.IsNullOrEmpty(leg.LocalTag) || string.IsNullOrEmpty(leg.RemoteTag)
                || leg.LocalTag.Length > 256 || leg.RemoteTag.Length > 256)
                return $"a leg of bridged call {Show(bridge.Id)} has no usable Call-ID or tags";
            if (!IsSipUri(leg.RemoteTarget)) return $"the remote target {Show(leg.RemoteTarget)} of bridged call {Show(bridge.Id)} is not a SIP URI";
            if (!IsSipNameAddress(leg.LocalUri) || !IsSipNameAddress(leg.RemoteUri))
                return $"a leg of bridged call {Show(bridge.Id)} names a party that is not a SIP URI";
            if (leg.RouteSet is null || leg.RouteSet.Any(r => !IsSipNameAddress(r)))
                return $"the route set of a leg of bridged call {Show(bridge.Id)} holds an entry that is not a SIP URI";
            if (leg.LocalCSeq is < 0 or > uint.MaxValue) return $"a leg of bridged call {Show(bridge.Id)} has a CSeq out of range";
        }
        return null;
    }

    /// <summary>A sip: or sips: URI with a host and no embedded headers (a target, not a request template).</summary>
    private static bool IsSipUri(string? text) =>
        text is { Length: > 0 and <= MaxUriLength } && SipUri.TryParse(text, out var uri) && IsTarget(uri);

    private static bool IsSipNameAddress(string? text) =>
        text is { Length: > 0 and <= MaxUriLength } && NameAddress.TryParse(text, out var address) && !address.IsWildcard && IsTarget(address.Uri);

    private static bool IsTarget(SipUri uri) => uri.IsSip && uri.Host.Length > 0 && uri.Headers.Count == 0 && uri.Opaque is null;

    private static string Show(string? text) => text is null ? "(none)" : text.Length > 80 ? $"'{text[..80]}…'" : $"'{text}'";
}
