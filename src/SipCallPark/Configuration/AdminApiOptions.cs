namespace SipCallPark.Configuration;

/// <summary>Where the admin HTTP API listens, and its bearer token: <c>Pool:Admin</c>.</summary>
internal sealed class AdminApiOptions
{
    /// <summary>An <c>http://host:port</c> URL; loopback by default. Any other host needs <see cref="Token"/>.</summary>
    public string Url { get; set; } = "http://127.0.0.1:8060";

    /// <summary>
    /// When set, every request must carry <c>Authorization: Bearer &lt;Token&gt;</c> (401 otherwise); required when
    /// <see cref="Url"/> is not on a loopback host (docs/design.md §8). Best given by the environment
    /// (<c>SIPCALLPARK_Pool__Admin__Token</c>) rather than a file.
    /// </summary>
    public string? Token { get; set; }

    /// <summary>Event streams (<c>/events</c>, <c>/trace</c>) open at once; one more is answered 503.</summary>
    public int MaxStreams { get; set; } = Pool.Admin.AdminOptions.DefaultMaxStreams;
}
