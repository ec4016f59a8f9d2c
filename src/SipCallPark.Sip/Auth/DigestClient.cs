using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Auth;

/// <summary>
/// The client side of digest authentication (RFC 3261 §22.2, RFC 8760): answers a 401/407 challenge by adding
/// Authorization or Proxy-Authorization to the retried request. Keeps the nonce count per nonce.
/// </summary>
public sealed class DigestClient(string username, string password)
{
    private readonly Dictionary<string, int> _nonceCounts = new();

    public string Username { get; } = username;

    /// <summary>
    /// Adds credentials answering the strongest supported challenge of <paramref name="challengeResponse"/> to
    /// <paramref name="request"/>. Returns false when the response carries no challenge we can answer.
    /// </summary>
    public bool Authorize(SipRequest request, SipResponse challengeResponse)
    {
        var (challengeHeader, credentialsHeader) = challengeResponse.StatusCode == 407
            ? (HeaderNames.ProxyAuthenticate, HeaderNames.ProxyAuthorization)
            : (HeaderNames.WwwAuthenticate, HeaderNames.Authorization);
        AuthHeaderValue? chosen = null;
        foreach (var value in challengeResponse.Headers.GetAll(challengeHeader))
        {
            if (!AuthHeaderValue.TryParse(value, out var c) || !c.Scheme.Equals("Digest", StringComparison.OrdinalIgnoreCase)) continue;
            var algorithm = c.Get("algorithm") ?? "MD5";
            if (algorithm.Equals("SHA-256", StringComparison.OrdinalIgnoreCase)) { chosen = c; break; }
            if (algorithm.Equals("MD5", StringComparison.OrdinalIgnoreCase)) chosen ??= c;
        }
        if (chosen is null) return false;
        request.Headers.Remove(credentialsHeader);
        request.Headers.Add(credentialsHeader, Answer(chosen, request.Method, request.RequestUri.ToString()));
        return true;
    }

    /// <summary>The credentials line for one challenge.</summary>
    public string Answer(AuthHeaderValue challenge, string method, string uri)
    {
        var realm = challenge.Get("realm") ?? "";
        var nonce = challenge.Get("nonce") ?? "";
        var algorithm = (challenge.Get("algorithm") ?? "MD5").Equals("SHA-256", StringComparison.OrdinalIgnoreCase) ? "SHA-256" : "MD5";
        var qopOffered = challenge.Get("qop");
        var useQop = qopOffered is not null && qopOffered.Split(',').Any(q => q.Trim().Equals("auth", StringComparison.OrdinalIgnoreCase));
        var ha1 = Hash(algorithm, $"{Username}:{realm}:{password}");
        var ha2 = Hash(algorithm, $"{method}:{uri}");
        var sb = new StringBuilder("Digest ");
        sb.Append(CultureInfo.InvariantCulture, $"username=\"{Username}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", algorithm={algorithm}");
        if (useQop)
        {
            var nc = _nonceCounts[nonce] = _nonceCounts.GetValueOrDefault(nonce) + 1;
            var ncText = nc.ToString("x8", CultureInfo.InvariantCulture);
            var cnonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            var response = Hash(algorithm, $"{ha1}:{nonce}:{ncText}:{cnonce}:auth:{ha2}");
            sb.Append(CultureInfo.InvariantCulture, $", response=\"{response}\", qop=auth, nc={ncText}, cnonce=\"{cnonce}\"");
        }
        else
        {
            sb.Append(CultureInfo.InvariantCulture, $", response=\"{Hash(algorithm, $"{ha1}:{nonce}:{ha2}")}\"");
        }
        if (challenge.Get("opaque") is { } opaque) sb.Append(CultureInfo.InvariantCulture, $", opaque=\"{opaque}\"");
        return sb.ToString();
    }

    private static string Hash(string algorithm, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return Convert.ToHexStringLower(algorithm == "SHA-256" ? SHA256.HashData(bytes) : MD5.HashData(bytes));
    }
}
