using System.Collections.Concurrent;
using SipCallPark.Pool.Proxy;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Park;

/// <summary>
/// The blind transfers to the park that passed this pool (docs/design.md §5 "Park keys"). A transfer follows the
/// dialog's Record-Route, so the pool sees each REFER whose Refer-To is the park, an alias, an orbit or a
/// <c>*71&lt;orbit&gt;</c>: it refuses what cannot park here (an orbit of another pool, a code without an orbit,
/// headers the transferee would copy into its INVITE, a To that is not the other party of the call), and notes the
/// rest. The transferee's INVITE that follows is then known to be a park, and whose, even when it carries no
/// <c>Referred-By</c> (baresip sends none).
/// </summary>
internal sealed class ParkTransfers(PoolTopology topology, string pool, ParkOptions options, ProxiedDialogs dialogs, TimeProvider time)
{
    /// <summary>Transfers awaiting their INVITE at once; beyond, a REFER to the park is refused (503) rather than remembered.</summary>
    internal const int MaxPending = 4096;

    private readonly ConcurrentDictionary<string, Note> _notes = new(StringComparer.OrdinalIgnoreCase);

    private sealed record Note(NameAddress Transferor, string? Orbit, DateTimeOffset Until);

    /// <summary>Checks an in-dialog REFER to the park as it passes; null lets it through (noted), else its refusal.</summary>
    public ProxyDecision.Respond? Check(SipRequest refer)
    {
        if (refer.Headers.Get(HeaderNames.ReferTo) is not { } text || !NameAddress.TryParse(text, out var target)) return null;
        var uri = target.Uri;
        if (!string.Equals(uri.Host, topology.Domain, StringComparison.OrdinalIgnoreCase)) return null;
        var dial = ParkDial.Read(uri.UnescapedUser, options);
        if (dial.Kind is ParkDialKind.None or ParkDialKind.Retrieve) return null;
        if (dial.Kind == ParkDialKind.Malformed)
            return new(404, $"{uri.UnescapedUser}: '{dial.Orbit}' is not an orbit number");
        if (uri.Headers.Count > 0)
            return new(403, $"a transfer to the park may not carry headers in its Refer-To (had {string.Join(", ", uri.Headers.Select(h => h.Name))})");
        if (dial.Orbit is { } orbit)
        {
            if (topology.OwnerOfOrbit(orbit) is not { } owner) return new(404, $"no orbit {orbit} in {topology.Domain}");
            if (!string.Equals(owner.Name, pool, StringComparison.OrdinalIgnoreCase))
                return new(403, $"orbit {orbit} is {owner.Name}'s: park on an orbit of {pool} ({string.Join(", ", topology.FindPool(pool)?.Orbits ?? [])})");
        }
        // The REFER's To names the transferee, whose INVITE is then taken for a park: it must be the other party of
        // this very call, or one user could turn another's retrieve into a refused park. A call the pool no longer
        // remembers (set up before a restart) is let through: the Record-Route token already proved the dialog.
        var transferee = refer.To.Uri;
        if (dialogs.Find(refer.CallId, refer.From.Tag, refer.To.Tag) is { } call
            && !((SameAor(call.Caller, refer.From.Uri) && SameAor(call.Callee, transferee))
                 || (SameAor(call.Callee, refer.From.Uri) && SameAor(call.Caller, transferee))))
            return new(403, "the REFER's From and To are not the two parties of this call");
        var now = time.GetUtcNow();
        foreach (var stale in _notes.Where(n => n.Value.Until < now).Select(n => n.Key).ToArray()) _notes.TryRemove(stale, out _);
        if (_notes.Count >= MaxPending) return new(503, "too many transfers to the park in progress");
        _notes[AddressOf(transferee)] = new Note(refer.From.WithoutParameter("tag"), dial.Kind == ParkDialKind.Service ? null : dial.Orbit,
            now + options.CompletionTimeout);
        return null;
    }

    /// <summary>
    /// The transferor of a recent transfer of <paramref name="party"/> to <paramref name="orbit"/> (null: to the
    /// park service), taken once; null when no such transfer passed this pool.
    /// </summary>
    public NameAddress? Take(SipUri party, string? orbit)
    {
        var key = AddressOf(party);
        if (!_notes.TryGetValue(key, out var note) || !string.Equals(note.Orbit, orbit, StringComparison.Ordinal)) return null;
        return _notes.TryRemove(new KeyValuePair<string, Note>(key, note)) && note.Until >= time.GetUtcNow() ? note.Transferor : null;
    }

    private static string AddressOf(SipUri uri) => $"{uri.UnescapedUser}@{uri.Host}";

    private static bool SameAor(SipUri a, SipUri b) =>
        string.Equals(a.UnescapedUser, b.UnescapedUser, StringComparison.OrdinalIgnoreCase) && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase);
}
