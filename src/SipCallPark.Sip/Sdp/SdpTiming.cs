using System.Globalization;

namespace SipCallPark.Sip.Sdp;

/// <summary>The <c>t=</c> line (RFC 4566 §5.9); SIP sessions use <c>t=0 0</c>, "unbounded".</summary>
public readonly record struct SdpTiming(ulong Start, ulong Stop)
{
    public static SdpTiming Unbounded => default;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Start} {Stop}");

    internal static bool TryParse(string value, out SdpTiming timing)
    {
        timing = default;
        var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2
            || !ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            || !ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var stop))
        {
            return false;
        }

        timing = new SdpTiming(start, stop);
        return true;
    }
}
