using System.Globalization;

namespace SipCallPark.Sip.Sdp;

/// <summary>The value of an <c>a=rtpmap</c> attribute (RFC 4566 §6): <c>96 opus/48000/2</c>.</summary>
/// <param name="EncodingParameters">For audio, the channel count when given.</param>
public sealed record SdpRtpMap(int PayloadType, string EncodingName, int ClockRate, string? EncodingParameters = null)
{
    public const string AttributeName = "rtpmap";

    public SdpAttribute ToAttribute() => new(AttributeName, ToString());

    public override string ToString()
    {
        var value = string.Create(CultureInfo.InvariantCulture, $"{PayloadType} {EncodingName}/{ClockRate}");
        return EncodingParameters is null ? value : $"{value}/{EncodingParameters}";
    }

    public static bool TryParse(string? value, out SdpRtpMap? rtpMap)
    {
        rtpMap = null;
        if (value is null)
        {
            return false;
        }

        var space = value.IndexOf(' ');
        if (space <= 0
            || !int.TryParse(value.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var payloadType)
            || payloadType > 127)
        {
            return false;
        }

        var encoding = value[(space + 1)..].Trim().Split('/');
        if (encoding.Length is < 2 or > 3
            || encoding[0].Length == 0
            || !int.TryParse(encoding[1], NumberStyles.None, CultureInfo.InvariantCulture, out var clockRate))
        {
            return false;
        }

        rtpMap = new SdpRtpMap(payloadType, encoding[0], clockRate, encoding.Length == 3 ? encoding[2] : null);
        return true;
    }
}
