using System.Globalization;

namespace SipCallPark.Pool.Pairing;

/// <summary>
/// The <c>X-Pool-Auth</c> header a pool puts on what it sends its partner:
/// <c>pool=pool-a;ts=1765000000;nonce=3f…;sig=&lt;base64url HMAC-SHA256&gt;</c> (docs/design.md §11 "Trust").
/// </summary>
public readonly record struct PoolAuthHeader(string Pool, long Timestamp, string Nonce, string Signature)
{
    public const string Name = "X-Pool-Auth";

    /// <summary>Longest header value parsed; anything longer is malformed.</summary>
    private const int MaxLength = 512;

    public override string ToString() =>
        $"pool={Pool};ts={Timestamp.ToString(CultureInfo.InvariantCulture)};nonce={Nonce};sig={Signature}";

    public static bool TryParse(string? text, out PoolAuthHeader header)
    {
        header = default;
        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxLength) return false;
        string? pool = null, nonce = null, sig = null;
        long? ts = null;
        foreach (var part in text.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=');
            if (equals <= 0) return false;
            var value = part[(equals + 1)..];
            switch (part[..equals].ToLowerInvariant())
            {
                case "pool": pool = value; break;
                case "nonce": nonce = value; break;
                case "sig": sig = value; break;
                case "ts" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds): ts = seconds; break;
                default: return false;
            }
        }
        if (pool is not { Length: > 0 } || nonce is not { Length: >= 16 and <= 64 } || sig is not { Length: > 0 } || ts is not { } timestamp) return false;
        header = new PoolAuthHeader(pool, timestamp, nonce, sig);
        return true;
    }
}
