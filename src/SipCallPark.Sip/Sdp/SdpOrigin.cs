using System.Globalization;

namespace SipCallPark.Sip.Sdp;

/// <summary>The <c>o=</c> line (RFC 4566 §5.2).</summary>
/// <param name="SessionId">Numeric session id; stays the same for the life of the session.</param>
/// <param name="SessionVersion">Numeric version; a re-offer with changed SDP must increase it (RFC 3264 §8).</param>
public sealed record SdpOrigin(
    string Username,
    ulong SessionId,
    ulong SessionVersion,
    string NetworkType,
    string AddressType,
    string Address)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Username} {SessionId} {SessionVersion} {NetworkType} {AddressType} {Address}");

    internal static bool TryParse(string value, out SdpOrigin? origin)
    {
        origin = null;
        var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 6
            || !ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            || !ulong.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            return false;
        }

        origin = new SdpOrigin(parts[0], id, version, parts[3], parts[4], parts[5]);
        return true;
    }
}
