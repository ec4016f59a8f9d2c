using System.Text;

namespace SipCallPark.Sip.Message;

/// <summary>
/// <c>message/sipfrag</c> bodies (RFC 3420) as REFER's NOTIFYs carry them (RFC 3515 §2.4.5): a status line,
/// optionally followed by headers.
/// </summary>
public static class SipFrag
{
    public const string ContentType = "message/sipfrag;version=2.0";

    /// <summary>The body a NOTIFY sends for a status: <c>SIP/2.0 200 OK</c>;
    /// <paramref name="warning"/>, when given, follows the status line as a Warning header (RFC 3515 §2.4.5).</summary>
    public static string ForStatus(int statusCode, string? reasonPhrase = null, string? warning = null) =>
        $"SIP/2.0 {statusCode} {reasonPhrase ?? SipStatus.ReasonPhrase(statusCode)}\r\n"
        + (warning is null ? "" : $"{HeaderNames.Warning}: {warning}\r\n");

    /// <summary>Reads the status code out of a sipfrag body; false when it does not start with a status line.</summary>
    public static bool TryGetStatus(ReadOnlySpan<byte> body, out int statusCode, out string reasonPhrase)
    {
        statusCode = 0;
        reasonPhrase = "";
        var text = Encoding.UTF8.GetString(body).TrimStart();
        var end = text.IndexOf('\n');
        var line = (end < 0 ? text : text[..end]).TrimEnd('\r');
        var parts = line.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("SIP/", StringComparison.OrdinalIgnoreCase)) return false;
        if (parts[1].Length != 3 || !int.TryParse(parts[1], out statusCode) || statusCode is < 100 or > 699) return false;
        reasonPhrase = parts.Length > 2 ? parts[2] : "";
        return true;
    }
}
