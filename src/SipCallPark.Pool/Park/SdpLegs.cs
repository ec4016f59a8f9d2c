using System.Runtime.CompilerServices;
using SipCallPark.Sip.Sdp;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Park;

/// <summary>
/// The park's own SDP session on each call leg it holds (RFC 3264 §8). A phone sees one session per dialog: every SDP
/// the park sends on a leg carries the origin it first sent there (same user, session id and address) with the version
/// one higher each time, and a re-offer keeps the media lines of the leg's session in their order, whatever the phone
/// on the other side of a bridge offered. Nothing is sent through here unchanged except the first SDP on a leg.
/// </summary>
internal sealed class SdpLegs
{
    /// <summary>The highest origin version sent on each leg (keyed by its call), offers that were refused included.</summary>
    private readonly ConditionalWeakTable<object, StrongBox<ulong>> _versions = new();

    /// <summary>
    /// <paramref name="sdp"/> (the other side's offer) as the park's next offer on <paramref name="leg"/>, and how its
    /// media lines were placed: give that to <see cref="AnswerBack"/> to put the leg's answer back in the other side's order.
    /// </summary>
    public (string Sdp, MediaPlacement Placement) Offer(SipCall leg, string sdp) => Offer(leg, leg.LocalSdp, sdp);

    /// <summary><see cref="Offer(SipCall, string)"/> for a leg known by <paramref name="leg"/> whose last SDP sent was <paramref name="sent"/>.</summary>
    internal (string Sdp, MediaPlacement Placement) Offer(object leg, string? sent, string sdp)
    {
        if (!SessionDescription.TryParse(sdp, out var offer)) return (sdp, MediaPlacement.Identity);
        if (!SessionDescription.TryParse(sent, out var previous)) return (Remember(leg, offer, sdp), MediaPlacement.Identity);
        var placement = MediaPlacement.Fit(previous.Media, offer.Media);
        return (Next(leg, previous, offer.WithMedia(placement.Place(offer.Media, previous.Media))).ToString(), placement);
    }

    /// <summary><paramref name="sdp"/> as the park's answer on <paramref name="leg"/>: its origin, the next version.</summary>
    public string? Answer(SipCall leg, string? sdp) => Answer(leg, leg.LocalSdp, sdp);

    /// <summary><see cref="Answer(SipCall, string?)"/> for a leg known by <paramref name="leg"/> whose last SDP sent was <paramref name="sent"/>.</summary>
    internal string? Answer(object leg, string? sent, string? sdp)
    {
        if (sdp is null || !SessionDescription.TryParse(sdp, out var answer)) return sdp;
        if (!SessionDescription.TryParse(sent, out var previous)) return Remember(leg, answer, sdp);
        return Next(leg, previous, answer).ToString();
    }

    /// <summary>The answer <paramref name="sdp"/> to an offer placed by <paramref name="placement"/>, in the order of the offer it answers.</summary>
    public static string? AnswerBack(string? sdp, MediaPlacement placement)
    {
        if (placement.IsIdentity || !SessionDescription.TryParse(sdp, out var answer)) return sdp;
        return placement.Unplace(answer.Media) is { } media ? answer.WithMedia(media).ToString() : sdp;
    }

    /// <summary>The first SDP on a leg goes as it is: its origin becomes the leg's.</summary>
    private string Remember(object leg, SessionDescription first, string text)
    {
        var box = _versions.GetOrCreateValue(leg);
        lock (box) box.Value = Math.Max(box.Value, first.Origin.SessionVersion);
        return text;
    }

    private SessionDescription Next(object leg, SessionDescription previous, SessionDescription sdp)
    {
        var box = _versions.GetOrCreateValue(leg);
        ulong version;
        lock (box)
        {
            version = unchecked(Math.Max(box.Value, previous.Origin.SessionVersion) + 1);
            box.Value = version;
        }
        return sdp.WithOrigin(previous.Origin with { SessionVersion = version });
    }
}

/// <summary>
/// Where the media lines of an offer went when it was fitted to a leg's session: each of the leg's lines, in order,
/// takes the next unused offered line of the same media type or, when none is left, stays as a refused line (port 0);
/// offered lines left over come after them (RFC 3264 §8.1: lines are never removed or reordered, only added).
/// </summary>
internal sealed class MediaPlacement
{
    public static readonly MediaPlacement Identity = new([]);

    /// <summary>For each line sent, the index of the offered line it carries, or -1 for a refused line kept for order.</summary>
    private readonly int[] _sources;

    private MediaPlacement(int[] sources) => _sources = sources;

    public bool IsIdentity => _sources.Select((source, i) => source == i).All(same => same);

    public static MediaPlacement Fit(IReadOnlyList<MediaDescription> leg, IReadOnlyList<MediaDescription> offered)
    {
        var used = new bool[offered.Count];
        var sources = new List<int>();
        foreach (var slot in leg)
        {
            var match = -1;
            for (var j = 0; j < offered.Count && match < 0; j++)
                if (!used[j] && string.Equals(offered[j].Media, slot.Media, StringComparison.OrdinalIgnoreCase)) match = j;
            if (match >= 0) used[match] = true;
            sources.Add(match);
        }
        for (var j = 0; j < offered.Count; j++)
            if (!used[j]) sources.Add(j);
        return new MediaPlacement([.. sources]);
    }

    public IEnumerable<MediaDescription> Place(IReadOnlyList<MediaDescription> offered, IReadOnlyList<MediaDescription> leg) =>
        _sources.Select((source, i) => source >= 0 ? offered[source] : new MediaDescription(leg[i].Media, 0, leg[i].Protocol, leg[i].Formats.Take(1)));

    /// <summary>The answer's lines back in the order of the offer; null when the answer does not have a line for each one sent.</summary>
    public IReadOnlyList<MediaDescription>? Unplace(IReadOnlyList<MediaDescription> answered)
    {
        if (answered.Count != _sources.Length) return null;
        var back = new MediaDescription[_sources.Count(s => s >= 0)];
        for (var i = 0; i < _sources.Length; i++)
            if (_sources[i] >= 0) back[_sources[i]] = answered[i];
        return back;
    }
}
