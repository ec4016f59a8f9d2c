using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace SipCallPark.Configuration;

/// <summary>
/// Checks <see cref="PoolOptions"/> before the pool starts. Each failure is one sentence that starts with the full
/// configuration key and ends with the value read, so an operator can fix the file without reading code.
/// </summary>
internal sealed partial class PoolOptionsValidator : IValidateOptions<PoolOptions>
{
    private const string Prefix = PoolOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, PoolOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();

        ValidateName(options.Name, failures);
        ValidateDomain(options.Domain, failures);
        ValidateSip(options.Sip, failures);
        ValidateAdmin(options.Admin, options.Sip, failures);
        if (string.IsNullOrWhiteSpace(options.DataDirectory) || options.DataDirectory.Contains('\0'))
        {
            failures.Add($"{Prefix}DataDirectory must be a directory path (was {Show(options.DataDirectory)})");
        }

        if (options.PcapIncludeRtp && string.IsNullOrWhiteSpace(options.PcapFile))
        {
            failures.Add($"{Prefix}PcapIncludeRtp needs {Prefix}PcapFile (or --pcap FILE): there is no trace to add RTP to (was true)");
        }

        foreach (var algorithm in options.Auth?.Algorithms ?? [])
        {
            if (!SipCallPark.Pool.Auth.DigestAlgorithm.IsKnown(algorithm) || string.IsNullOrEmpty(algorithm))
            {
                failures.Add($"{Prefix}Auth:Algorithms may hold only MD5 and SHA-256 (was {Show(algorithm)})");
            }
        }

        foreach (var (validate, section) in new (Action<string>?, string)[]
                 {
                     (options.Park is { } park ? park.Validate : null, "Park"),
                     (options.Dr is { } dr ? dr.Validate : null, "Dr"),
                     (options.Health is { } health ? health.Validate : null, "Health"),
                     (options.RateLimit is { } rateLimit ? rateLimit.Validate : null, "RateLimit"),
                     (options.Overload is { } overload ? overload.Validate : null, "Overload"),
                     (options.Partner is { } partner ? partner.Validate : null, "Partner"),
                 })
        {
            try
            {
                validate?.Invoke($"{Prefix}{section}");
            }
            catch (SipCallPark.Pool.OptionsValidationError e)
            {
                failures.Add(e.Message);
            }
        }

        try
        {
            options.Replication?.Validate($"{Prefix}Replication");
        }
        catch (SipCallPark.Pool.OptionsValidationError e)
        {
            failures.Add(e.Message);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateName(string? value, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            failures.Add($"{Prefix}Name must not be empty");
        }
        else if (!PoolNamePattern().IsMatch(value))
        {
            failures.Add($"{Prefix}Name must be letters, digits, '.', '_' or '-', starting with a letter or digit (was {Show(value)})");
        }
    }

    private static void ValidateDomain(string? value, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            failures.Add($"{Prefix}Domain must not be empty");
        }
        else if (Uri.CheckHostName(value) == UriHostNameType.Unknown)
        {
            failures.Add($"{Prefix}Domain must be a host name such as callpark.lab (was {Show(value)})");
        }
    }

    private static void ValidateSip(SipListenerOptions? sip, List<string> failures)
    {
        const string key = Prefix + "Sip:";
        if (sip is null)
        {
            failures.Add($"{Prefix}Sip must be a section with ListenAddress, Port and Transports");
            return;
        }

        if (!IPAddress.TryParse(sip.ListenAddress, out _))
        {
            failures.Add($"{key}ListenAddress must be an IP address such as 127.0.0.1 (was {Show(sip.ListenAddress)})");
        }

        if (sip.Port is < 1 or > 65535)
        {
            failures.Add($"{key}Port must be between 1 and 65535 (was {sip.Port})");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < sip.Transports.Count; i++)
        {
            var transport = sip.Transports[i];
            if (!SipListenerOptions.SupportedTransports.Contains(transport))
            {
                failures.Add($"{key}Transports:{i} must be one of {string.Join(", ", SipListenerOptions.SupportedTransports)} (was {Show(transport)})");
            }
            else if (!seen.Add(transport))
            {
                failures.Add($"{key}Transports:{i} lists {Show(transport)} a second time");
            }
        }
    }

    private static void ValidateAdmin(AdminApiOptions? admin, SipListenerOptions? sip, List<string> failures)
    {
        const string key = Prefix + "Admin:Url";
        if (admin is null)
        {
            failures.Add($"{Prefix}Admin must be a section with Url");
            return;
        }

        if (!Uri.TryCreate(admin.Url, UriKind.Absolute, out var url)
            || url.Scheme != Uri.UriSchemeHttp
            || url.AbsolutePath != "/"
            || url.Query.Length != 0
            || url.UserInfo.Length != 0)
        {
            failures.Add($"{key} must be an http URL with a host and port only, such as http://127.0.0.1:8060 (was {Show(admin.Url)})");
            return;
        }

        if (admin.Token is not null && string.IsNullOrWhiteSpace(admin.Token))
        {
            failures.Add($"{Prefix}Admin:Token must not be blank; leave it out to serve loopback without a token");
            return;
        }

        if (!url.IsLoopback && admin.Token is null)
        {
            failures.Add($"{Prefix}Admin:Token must be set when {key} is not on a loopback host (127.0.0.1, [::1] or localhost): beyond loopback every request needs the bearer token (was {Show(admin.Url)})");
            return;
        }

        // An HTTP listener and a SIP/TCP listener cannot share a port on the same address.
        if (sip is not null
            && sip.Transports.Contains("tcp")
            && url.Port == sip.Port
            && IPAddress.TryParse(url.IdnHost, out var adminAddress)
            && IPAddress.TryParse(sip.ListenAddress, out var sipAddress)
            && (adminAddress.Equals(sipAddress) || sipAddress.Equals(IPAddress.Any) || sipAddress.Equals(IPAddress.IPv6Any)))
        {
            failures.Add($"{key} must not use port {url.Port}, which {Prefix}Sip:Port already takes for SIP over TCP (was {Show(admin.Url)})");
        }
    }

    private static string Show(string? value) => value is null ? "nothing" : $"'{value}'";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    private static partial Regex PoolNamePattern();
}
