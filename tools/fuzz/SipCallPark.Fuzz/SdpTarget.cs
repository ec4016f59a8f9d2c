using System.Text;
using SipCallPark.Sip.Sdp;

namespace SipCallPark.Fuzz;

/// <summary>
/// An SDP body through <see cref="SessionDescription.TryParse(string?, out SessionDescription?, out string?)"/>.
/// The promises checked: parsing never throws; what parsed can be queried and written, and the written text parses
/// again to the same text (what we send in an answer or a re-INVITE must be readable, ours included).
/// </summary>
internal static class SdpTarget
{
    public static void Run(byte[] input)
    {
        var text = Encoding.UTF8.GetString(input);
        if (!SessionDescription.TryParse(text, out var sdp, out var error))
        {
            FuzzFinding.Check(error is not null, "a failed parse without an error");
            return;
        }

        _ = sdp.Direction;
        foreach (var media in sdp.Media)
        {
            _ = sdp.GetEffectiveDirection(media);
            _ = sdp.GetEffectiveConnection(media);
        }
        _ = sdp.IncrementVersion();
        _ = sdp.WithDirection(MediaDirection.SendOnly).ToString();

        var written = sdp.ToString();
        FuzzFinding.Check(SessionDescription.TryParse(written, out var again, out var problem), $"the written SDP does not parse: {problem}\n{written}");
        FuzzFinding.Check(again!.ToString() == written, $"the written SDP reads back differently:\n{written}\n---\n{again}");
    }
}
