using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Tracing;

/// <summary>
/// Which messages a live-trace subscriber sees: <see cref="CallId"/> matches the Call-ID exactly; <see cref="User"/>
/// matches the user part of From, To or the Request-URI, ignoring case. Both null: every message.
/// </summary>
public sealed record TraceFilter(string? CallId = null, string? User = null)
{
    public static TraceFilter All { get; } = new();

    /// <summary>True when <paramref name="message"/> passes. Never throws: a header that does not parse simply does
    /// not match (this runs on the SIP receive and send path).</summary>
    public bool Matches(SipMessage message) =>
        (CallId is null || string.Equals(message.Headers.Get(HeaderNames.CallId)?.Trim(), CallId, StringComparison.Ordinal))
        && (User is null || HasUser(message, User));

    private static bool HasUser(SipMessage message, string user) =>
        IsUser(UserOf(message.Headers.Get(HeaderNames.From)), user)
        || IsUser(UserOf(message.Headers.Get(HeaderNames.To)), user)
        || (message is SipRequest request && IsUser(request.RequestUri.UnescapedUser, user));

    private static bool IsUser(string? candidate, string user) => string.Equals(candidate, user, StringComparison.OrdinalIgnoreCase);

    /// <summary>The unescaped user part of a From or To header value; null when absent or malformed.</summary>
    internal static string? UserOf(string? nameAddress) =>
        nameAddress is not null && NameAddress.TryParse(nameAddress, out var parsed) && !parsed.IsWildcard ? parsed.Uri.UnescapedUser : null;
}
