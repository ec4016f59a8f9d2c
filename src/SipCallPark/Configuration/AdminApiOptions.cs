namespace SipCallPark.Configuration;

/// <summary>Where the admin HTTP API listens: <c>Pool:Admin</c>.</summary>
internal sealed class AdminApiOptions
{
    /// <summary>
    /// An <c>http://</c> URL on a loopback address; the API has no authentication yet, so it may not listen
    /// anywhere else (DESIGN.md §8).
    /// </summary>
    public string Url { get; set; } = "http://127.0.0.1:8060";
}
