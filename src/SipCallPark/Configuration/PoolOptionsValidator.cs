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

        ValidateHep(options.Trace?.Hep, failures);

        foreach (var algorithm in options.Auth?.Algorithms ?? [])
        {
            if (!SipCallPark.Pool.Auth.DigestAlgorithm.IsKnown(algorithm) || string.IsNullOrEmpty(algorithm))
            {
                failures.Add($"{Prefix}Auth:Algorithms may hold only MD5 and SHA-256 (was {Show(algorithm)})");
            }
        }

        if (options.Registrar is { } natRegistrar && natRegistrar.ParseNatTraversal() is null)
        {
            failures.Add($"{Prefix}Registrar:NatTraversal must be Auto, Always or Never (was {Show(natRegistrar.NatTraversal)})");
        }

        foreach (var (validate, section) in new (Action<string>?, string)[]
                 {
                     (options.Park is { } park ? park.Validate : null, "Park"),
                     (options.Registrar is { } registrar ? registrar.Validate : null, "Registrar"),
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

        if (sip.ServerHeader is { } server && server.Any(char.IsControl))
        {
            failures.Add($"{key}ServerHeader must be one line of text without control characters (was {Show(server)})");
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

        ValidateTls(sip, failures);
    }

    private static void ValidateTls(SipListenerOptions sip, List<string> failures)
    {
        const string key = Prefix + "Sip:";
        if (sip.TlsPort is { } port && port is < 1 or > 65535)
        {
            failures.Add($"{key}TlsPort must be between 1 and 65535 (was {port})");
        }

        var tls = sip.Tls;
        if (tls is null)
        {
            failures.Add($"{key}Tls must be a section with Certificate, KeyLogFile, HandshakeTimeout and MaxConcurrentHandshakes");
            return;
        }

        if (tls.HandshakeTimeout <= TimeSpan.Zero || tls.HandshakeTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add($"{key}Tls:HandshakeTimeout must be between 00:00:00.001 and 00:05:00 (was {tls.HandshakeTimeout})");
        }

        if (tls.MaxConcurrentHandshakes is < 1 or > 100_000)
        {
            failures.Add($"{key}Tls:MaxConcurrentHandshakes must be between 1 and 100000 (was {tls.MaxConcurrentHandshakes})");
        }

        var certificate = tls.Certificate ?? new CertificateFileOptions();
        if (string.IsNullOrWhiteSpace(certificate.Path) != string.IsNullOrWhiteSpace(certificate.KeyPath))
        {
            failures.Add($"{key}Tls:Certificate needs both Path (the PEM certificate) and KeyPath (its PEM key), or neither for a lab certificate (was Path {Show(certificate.Path)}, KeyPath {Show(certificate.KeyPath)})");
        }

        if (tls.KeyLogFile is not null && (string.IsNullOrWhiteSpace(tls.KeyLogFile) || tls.KeyLogFile.Contains('\0')))
        {
            failures.Add($"{key}Tls:KeyLogFile must be a file path; leave it out to write no key log (was {Show(tls.KeyLogFile)})");
        }

        if (tls.RequirePartnerCertificate)
        {
            if (!sip.Serves("tls"))
                failures.Add($"{key}Tls:RequirePartnerCertificate needs tls in {key}Transports (the partner's certificate is asked for on the TLS port)");
            if (string.IsNullOrWhiteSpace(tls.PartnerCertificate) && string.IsNullOrWhiteSpace(tls.PartnerAuthority))
                failures.Add($"{key}Tls:RequirePartnerCertificate needs {key}Tls:PartnerCertificate (the partner's PEM certificate) or {key}Tls:PartnerAuthority (the PEM certificate of the authority that issues it)");
        }

        // Every stream listener takes a TCP port of its own on the listen address.
        var taken = new List<(string Key, int Port)>();
        if (sip.Serves("tcp")) taken.Add(("Port", sip.Port));
        foreach (var (transport, name, configured, effective, rule) in new (string, string, int?, int, string)[]
                 {
                     ("tls", "TlsPort", sip.TlsPort, sip.EffectiveTlsPort(), "Port + 1"),
                     ("ws", "WebSocketPort", sip.WebSocketPort, sip.EffectiveWebSocketPort(), "Port + 3028"),
                     ("wss", "SecureWebSocketPort", sip.SecureWebSocketPort, sip.EffectiveSecureWebSocketPort(), "Port + 3029"),
                 })
        {
            if (configured is { } value && value is < 1 or > 65535)
            {
                if (transport != "tls") failures.Add($"{key}{name} must be between 1 and 65535 (was {value})");
                continue;
            }
            if (!sip.Serves(transport)) continue;
            if (configured is null && effective > 65535)
            {
                failures.Add($"{key}{name} must be set when {key}Port is {sip.Port}: the default, {rule}, is no port (was nothing)");
                continue;
            }
            if (taken.FirstOrDefault(t => t.Port == effective) is { Key: not null } clash)
            {
                failures.Add(clash.Key == "Port"
                    ? $"{key}{name} must differ from {key}Port, which SIP over TCP already takes (was {effective})"
                    : $"{key}{name} must differ from {key}{clash.Key} (was {effective})");
                continue;
            }
            taken.Add((name, effective));
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

        if (admin.MaxStreams is < 1 or > Pool.Admin.AdminOptions.MaxMaxStreams)
            failures.Add($"{Prefix}Admin:MaxStreams must be between 1 and {Pool.Admin.AdminOptions.MaxMaxStreams} (was {admin.MaxStreams})");

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

        // An HTTP listener and a SIP/TCP or SIP/TLS listener cannot share a port on the same address.
        if (sip is not null
            && StreamPortTaker(sip, url.Port) is not null
            && IPAddress.TryParse(url.IdnHost, out var adminAddress)
            && IPAddress.TryParse(sip.ListenAddress, out var sipAddress)
            && (adminAddress.Equals(sipAddress) || sipAddress.Equals(IPAddress.Any) || sipAddress.Equals(IPAddress.IPv6Any)))
        {
            var taker = StreamPortTaker(sip, url.Port);
            failures.Add($"{key} must not use port {url.Port}, which {Prefix}{taker} (was {Show(admin.Url)})");
        }
    }

    private static void ValidateHep(HepTraceOptions? hep, List<string> failures)
    {
        const string key = Prefix + "Trace:Hep:";
        if (hep is null) return;
        if (!string.IsNullOrEmpty(hep.Endpoint) && !SipCallPark.Sip.Tracing.HepEndpoint.TryParse(hep.Endpoint, out _, out var reason))
        {
            failures.Add($"{key}Endpoint must be udp:HOST:PORT or tcp:HOST:PORT, such as udp:127.0.0.1:9060 ({reason}; was {Show(hep.Endpoint)})");
        }

        if (hep.AgentId is < 0 or > uint.MaxValue)
        {
            failures.Add($"{key}AgentId must be between 0 and {uint.MaxValue} (was {hep.AgentId})");
        }

        if (hep.Password is not null && (hep.Password.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(hep.Password) > 1024))
        {
            failures.Add($"{key}Password must be 1 to 1024 bytes; leave it out to send no auth key");
        }

        if (string.IsNullOrEmpty(hep.Endpoint) && (hep.Password is not null || hep.AgentId != 0))
        {
            failures.Add($"{key}AgentId and {key}Password need {key}Endpoint (or --hep ENDPOINT): there is no capture server to send them to");
        }

        if (string.IsNullOrEmpty(hep.Endpoint) && hep.RtpCounters)
        {
            failures.Add($"{key}RtpCounters needs {key}Endpoint (or --hep ENDPOINT): there is no capture server to send the counters to (was true)");
        }
    }

    /// <summary>Which SIP stream listener (TCP, TLS, WS, WSS) takes <paramref name="port"/>, as "Sip:Key already takes for …".</summary>
    private static string? StreamPortTaker(SipListenerOptions sip, int port) =>
        sip.Serves("tcp") && port == sip.Port ? "Sip:Port already takes for SIP over TCP"
        : sip.Serves("tls") && port == sip.EffectiveTlsPort() ? "Sip:TlsPort already takes for SIP over TLS"
        : sip.Serves("ws") && port == sip.EffectiveWebSocketPort() ? "Sip:WebSocketPort already takes for SIP over WebSocket"
        : sip.Serves("wss") && port == sip.EffectiveSecureWebSocketPort() ? "Sip:SecureWebSocketPort already takes for SIP over secure WebSocket"
        : null;

    private static string Show(string? value) => value is null ? "nothing" : $"'{value}'";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    private static partial Regex PoolNamePattern();
}
