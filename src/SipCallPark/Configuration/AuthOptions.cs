namespace SipCallPark.Configuration;

/// <summary>Digest authentication: <c>Pool:Auth</c>.</summary>
internal sealed class AuthOptions
{
    /// <summary>
    /// Challenge algorithms, one WWW-Authenticate each, in this order (RFC 8760). The lab configs offer MD5 only:
    /// sipp 3.6 answers only the first challenge and only MD5, and baresip 1.0 fails on any non-MD5 challenge.
    /// </summary>
    public List<string> Algorithms { get; set; } = [];

    /// <summary>Lab-only switch for benchmarks: accept REGISTER without credentials.</summary>
    public bool RequireRegisterAuthentication { get; set; } = true;

    /// <summary>Accept digest responses without qop (RFC 2069, no nonce count); off by default.</summary>
    public bool AllowRfc2069 { get; set; }
}
