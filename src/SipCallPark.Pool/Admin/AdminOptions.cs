using System.Net;
using Microsoft.AspNetCore.Http;

namespace SipCallPark.Pool.Admin;

/// <summary>
/// Where the admin API listens (<c>Pool:Admin</c>). Loopback by default; a non-loopback address needs a
/// <see cref="Token"/>, which every request must then carry as <c>Authorization: Bearer &lt;token&gt;</c>.
/// </summary>
public sealed class AdminOptions
{
    public const string Section = "Pool:Admin";
    public const string DefaultUrl = "http://127.0.0.1:8060";

    public string Url { get; init; } = DefaultUrl;

    public string? Token { get; init; }

    public const int DefaultMaxStreams = 16;
    public const int MaxMaxStreams = 1000;

    /// <summary>Event streams (<c>/events</c> and <c>/trace</c> together) open at once; one more is answered 503.</summary>
    public int MaxStreams { get; init; } = DefaultMaxStreams;

    public void Validate(string prefix = Section)
    {
        var address = ParseUrl(Url) ?? throw new OptionsValidationError($"{prefix}:Url", $"must be an http URL such as {DefaultUrl} (was '{Url}')");
        if (MaxStreams is < 1 or > MaxMaxStreams)
            throw new OptionsValidationError($"{prefix}:MaxStreams", $"must be between 1 and {MaxMaxStreams} (was {MaxStreams})");
        if (Token is not null && string.IsNullOrWhiteSpace(Token))
            throw new OptionsValidationError($"{prefix}:Token", "must not be blank; leave it out to allow loopback access without a token");
        if (Token is null && !IsLoopback(address.Host))
            throw new OptionsValidationError($"{prefix}:Token",
                $"must be set when the admin API listens beyond loopback ({Url}); set {prefix}:Token or bind {prefix}:Url to 127.0.0.1");
    }

    /// <summary>Kestrel's URL forms, wildcards included (<c>http://*:8060</c>, <c>http://+:8060</c>); null when invalid.</summary>
    internal static BindingAddress? ParseUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url)) return null;
        try
        {
            var address = BindingAddress.Parse(url);
            return address.Scheme == "http" && address.PathBase.Length == 0 && address.Host.Length > 0 && !address.IsUnixPipe && !address.IsNamedPipe
                ? address : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>True for <c>localhost</c> and loopback IP literals; wildcards (<c>*</c>, <c>+</c>, <c>0.0.0.0</c>) and
    /// other host names are not, since they may reach beyond this machine.</summary>
    internal static bool IsLoopback(string host)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }
}
