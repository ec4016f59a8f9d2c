using System.Net;
using SipCallPark.Sip.Rtp;
using SipCallPark.Sip.Sdp;

namespace SipCallPark.Pool.Park;

/// <summary>
/// The park application's side of the media: SDP offers and answers for parked calls and, when music on hold is on,
/// one <see cref="MohStream"/> per parked party from the shared <see cref="MusicOnHoldStreamer"/>. With music off the
/// park speaks <c>a=inactive</c> and opens no port. Media never flows between two phones through here.
/// </summary>
internal sealed class HoldMedia : IAsyncDisposable
{
    private readonly MusicOnHoldStreamer? _streamer;
    private readonly IPAddress _address;
    private readonly Random _random;

    public HoldMedia(MusicOnHoldStreamer? streamer, IPAddress address, Random random)
    {
        _streamer = streamer;
        _address = address;
        _random = random;
    }

    public bool MusicEnabled => _streamer is not null;

    /// <summary>The words the attended park speaks its orbit with; null (no files, or music off) plays music only.</summary>
    public OrbitPrompts? Prompts { get; init; }

    public int ActiveStreams => _streamer?.ActiveStreams ?? 0;

    public long PacketsSent => _streamer?.PacketsSent ?? 0;

    /// <summary>Our offer to a party we are about to park: sendonly music from a fresh port, or inactive.</summary>
    /// <summary>True for an offer whose media is DTLS-SRTP (<c>UDP/TLS/RTP/SAVPF</c>, RFC 5764), as browsers send.</summary>
    public static bool IsWebRtcOffer(string? offer) =>
        offer is not null && SessionDescription.TryParse(offer, out var sdp)
        && sdp.Media.Any(m => m.Protocol.Contains("TLS/RTP", StringComparison.OrdinalIgnoreCase));

    public (string Sdp, MohStream? Stream) Offer()
    {
        var stream = _streamer?.OpenStream();
        var sdp = SessionDescription.CreateAudioOffer(_address, stream?.LocalPort ?? 9,
            stream is null ? MediaDirection.Inactive : MediaDirection.SendOnly, NewSessionId(), 1, telephoneEvent: false, username: "callpark");
        return (sdp.ToString(), stream);
    }

    /// <summary>Starts the music of an offer of ours once the party's answer says where it listens.</summary>
    public static void Apply(MohStream? stream, string? answer)
    {
        if (stream is null) return;
        if (ReceivingEndPoint(answer) is { } remote) stream.Retarget(remote);
    }

    /// <summary>
    /// Our answer to a party's offer (it called the park address, or re-offered while parked): the audio stream in
    /// PCMU, sendonly from a music port when the party receives, else inactive; every other stream refused (port 0).
    /// With <paramref name="speakOrbit"/> a new stream first speaks that orbit (<see cref="Prompts"/>), then plays music.
    /// </summary>
    public (string Sdp, MohStream? Stream) Answer(string? offer, MohStream? existing = null, string? speakOrbit = null)
    {
        if (offer is null || !SessionDescription.TryParse(offer, out var theirs)) return Offer();
        var remote = ReceivingEndPoint(offer);
        var stream = existing;
        if (remote is not null && _streamer is not null)
        {
            if (stream is null)
            {
                stream = _streamer.OpenStream();
                // Queued before the stream knows where to send, so its very first packet is the lead-in.
                if (speakOrbit is not null && Prompts is { } prompts) stream.PlayFirst(prompts.For(speakOrbit));
            }
            stream.Retarget(remote);
        }
        var ours = SessionDescription.CreateAudioOffer(_address, stream?.LocalPort ?? 9,
            stream is not null && remote is not null ? MediaDirection.SendOnly : MediaDirection.Inactive, NewSessionId(), 1,
            telephoneEvent: false, username: "callpark");
        var template = ours.Media[0];
        var audioTaken = false;
        var media = new List<MediaDescription>();
        foreach (var m in theirs.Media)
        {
            if (!audioTaken && m.Media == "audio" && m.Port != 0 && m.Formats.Contains("0"))
            {
                audioTaken = true;
                media.Add(template);
            }
            else
            {
                media.Add(new MediaDescription(m.Media, 0, m.Protocol, m.Formats.Take(1)));
            }
        }
        if (!audioTaken) stream = Release(stream, existing);
        return (ours.WithMedia(media).ToString(), stream);
    }

    /// <summary>An answer that holds the line without media: the retriever's leg while the parked party is transferred to it.</summary>
    public string Inactive(string? offer)
    {
        var inactive = SessionDescription.CreateAudioOffer(_address, 9, MediaDirection.Inactive, NewSessionId(), 1, telephoneEvent: false, username: "callpark");
        if (offer is null || !SessionDescription.TryParse(offer, out var theirs) || theirs.Media.Count == 0) return inactive.ToString();
        var template = inactive.Media[0];
        var first = true;
        var media = theirs.Media.Select(m =>
        {
            var keep = first && m.Media == "audio" && m.Port != 0 && m.Formats.Contains("0");
            first &= !keep;
            return keep ? template : new MediaDescription(m.Media, 0, m.Protocol, m.Formats.Take(1));
        });
        return inactive.WithMedia(media).ToString();
    }

    /// <summary>Where the party of <paramref name="sdp"/> receives audio, or null when it does not (port 0, sendonly, inactive).</summary>
    internal static IPEndPoint? ReceivingEndPoint(string? sdp)
    {
        if (sdp is null || !SessionDescription.TryParse(sdp, out var session)) return null;
        foreach (var m in session.Media)
        {
            if (m.Media != "audio" || m.Port == 0) continue;
            var direction = session.GetEffectiveDirection(m);
            if (direction is MediaDirection.SendOnly or MediaDirection.Inactive) return null;
            if (session.GetEffectiveConnection(m) is not { } connection || !connection.TryGetIPAddress(out var ip) || ip is null) return null;
            if (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)) return null;
            return new IPEndPoint(ip, m.Port);
        }
        return null;
    }

    private static MohStream? Release(MohStream? stream, MohStream? existing)
    {
        if (stream is not null && !ReferenceEquals(stream, existing)) stream.Stop();
        return existing;
    }

    private ulong NewSessionId() => (ulong)_random.NextInt64(1, long.MaxValue);

    public async ValueTask DisposeAsync()
    {
        if (_streamer is not null) await _streamer.DisposeAsync().ConfigureAwait(false);
    }
}
