using SipCallPark.Configuration;

namespace SipCallPark.Tests.Configuration;

public class PoolOptionsValidatorTests
{
    private static IReadOnlyList<string> Failures(Action<PoolOptions> change)
    {
        var options = new PoolOptions();
        options.ApplyDefaults();
        change(options);
        var result = new PoolOptionsValidator().Validate(null, options);
        return result.Failures?.ToList() ?? [];
    }

    [Test]
    public void The_defaults_are_valid()
    {
        Assert.That(Failures(_ => { }), Is.Empty);
    }

    [TestCase(0)]
    [TestCase(1001)]
    public void A_maximum_of_contacts_per_address_of_record_outside_1_to_1000_is_rejected_naming_the_key(int max)
    {
        Assert.That(Failures(o => o.Registrar.MaxContactsPerAor = max),
            Is.EqualTo(new[] { $"Pool:Registrar:MaxContactsPerAor must be between 1 and 1000 (was {max})" }));
    }

    [Test]
    public void A_server_header_with_a_line_break_is_rejected_naming_the_key()
    {
        Assert.That(Failures(o => o.Sip.ServerHeader = "SipCallPark\r\nX-Injected: 1"), Has.Count.EqualTo(1).And.All.StartWith("Pool:Sip:ServerHeader"));
    }

    [Test]
    public void An_empty_server_header_is_valid_and_means_none()
    {
        Assert.That(Failures(o => o.Sip.ServerHeader = ""), Is.Empty);
    }

    [TestCase(0)]
    [TestCase(-1)]
    [TestCase(70000)]
    public void A_sip_port_outside_1_to_65535_is_rejected(int port)
    {
        Assert.That(Failures(o => o.Sip.Port = port),
            Is.EqualTo(new[] { $"Pool:Sip:Port must be between 1 and 65535 (was {port})" }));
    }

    [TestCase("")]
    [TestCase("   ")]
    public void An_empty_domain_is_rejected(string domain)
    {
        Assert.That(Failures(o => o.Domain = domain), Is.EqualTo(new[] { "Pool:Domain must not be empty" }));
    }

    [Test]
    public void A_domain_that_is_not_a_host_name_is_rejected()
    {
        Assert.That(Failures(o => o.Domain = "call park.lab").Single(), Does.StartWith("Pool:Domain must be a host name"));
    }

    [TestCase("localhost")]
    [TestCase("300.1.1.1")]
    [TestCase("")]
    public void A_listen_address_that_is_not_an_ip_address_is_rejected(string address)
    {
        Assert.That(Failures(o => o.Sip.ListenAddress = address).Single(),
            Does.StartWith("Pool:Sip:ListenAddress must be an IP address").And.EndWith($"(was '{address}')"));
    }

    [Test]
    public void The_removed_health_keys_refuse_the_start_naming_the_key_and_its_replacement()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Failures(o => o.Health = new SipCallPark.Pool.Resiliency.HealthMonitorOptions { FailuresToDown = 3 }).Single(),
                Does.StartWith("Pool:Health:FailuresToDown was removed").And.Contains("Pool:Health:DownAfter"));
            Assert.That(Failures(o => o.Health = new SipCallPark.Pool.Resiliency.HealthMonitorOptions { ProbeTimeout = TimeSpan.FromMilliseconds(150) }).Single(),
                Does.StartWith("Pool:Health:ProbeTimeout was removed"));
            Assert.That(Failures(o => o.Health = new SipCallPark.Pool.Resiliency.HealthMonitorOptions { DownAfter = TimeSpan.FromMilliseconds(100) }).Single(),
                Does.StartWith("Pool:Health:DownAfter must be at least 3 intervals"));
        });
    }

    [Test]
    public void PcapIncludeRtp_without_a_pcap_file_is_rejected()
    {
        Assert.That(Failures(o => o.PcapIncludeRtp = true).Single(), Does.StartWith("Pool:PcapIncludeRtp needs Pool:PcapFile"));
        Assert.That(Failures(o =>
        {
            o.PcapIncludeRtp = true;
            o.PcapFile = "trace.pcap";
        }), Is.Empty);
    }

    [Test]
    public void An_unknown_transport_is_rejected()
    {
        Assert.That(Failures(o => o.Sip.Transports = ["udp", "sctp"]),
            Is.EqualTo(new[] { "Pool:Sip:Transports:1 must be one of udp, tcp, tls, ws, wss (was 'sctp')" }));
    }

    [Test]
    public void Tls_is_accepted_and_its_port_defaults_to_the_sip_port_plus_one()
    {
        Assert.That(Failures(o => o.Sip.Transports = ["udp", "tcp", "tls"]), Is.Empty);
        var options = new PoolOptions();
        options.Sip.Port = 5062;
        Assert.That(options.Sip.EffectiveTlsPort(), Is.EqualTo(5063), "pool-b's SIP port 5062 gives TLS 5063");
    }

    [TestCase(0)]
    [TestCase(65536)]
    public void A_tls_port_outside_1_to_65535_is_rejected(int port)
    {
        Assert.That(Failures(o => o.Sip.TlsPort = port), Is.EqualTo(new[] { $"Pool:Sip:TlsPort must be between 1 and 65535 (was {port})" }));
    }

    [Test]
    public void A_tls_port_equal_to_the_tcp_port_is_rejected()
    {
        Assert.That(Failures(o =>
        {
            o.Sip.Transports = ["udp", "tcp", "tls"];
            o.Sip.TlsPort = 5060;
        }).Single(), Does.StartWith("Pool:Sip:TlsPort must differ from Pool:Sip:Port"));
    }

    [Test]
    public void Tls_on_sip_port_65535_needs_an_explicit_tls_port()
    {
        Assert.That(Failures(o =>
        {
            o.Sip.Transports = ["tls"];
            o.Sip.Port = 65535;
        }).Single(), Does.StartWith("Pool:Sip:TlsPort must be set when Pool:Sip:Port is 65535"));
    }

    [Test]
    public void An_admin_url_on_the_tls_port_is_rejected()
    {
        Assert.That(Failures(o =>
        {
            o.Sip.Transports = ["udp", "tcp", "tls"];
            o.Admin.Url = "http://127.0.0.1:5061";
        }).Single(), Does.StartWith("Pool:Admin:Url must not use port 5061, which Pool:Sip:TlsPort already takes for SIP over TLS"));
    }

    [Test]
    public void WebSocket_ports_default_to_8088_and_8089_for_pool_a_and_8090_and_8091_for_pool_b()
    {
        Assert.That(Failures(o => o.Sip.Transports = ["udp", "tcp", "tls", "ws", "wss"]), Is.Empty);
        var a = new PoolOptions();
        var b = new PoolOptions();
        b.Sip.Port = 5062;
        Assert.That((a.Sip.EffectiveWebSocketPort(), a.Sip.EffectiveSecureWebSocketPort()), Is.EqualTo((8088, 8089)));
        Assert.That((b.Sip.EffectiveWebSocketPort(), b.Sip.EffectiveSecureWebSocketPort()), Is.EqualTo((8090, 8091)));
    }

    [Test]
    public void Two_stream_transports_on_one_port_are_rejected()
    {
        Assert.That(Failures(o =>
        {
            o.Sip.Transports = ["udp", "tcp", "tls", "ws", "wss"];
            o.Sip.WebSocketPort = 5061;
            o.Sip.SecureWebSocketPort = 70000;
        }), Is.EqualTo(new[]
        {
            "Pool:Sip:WebSocketPort must differ from Pool:Sip:TlsPort (was 5061)",
            "Pool:Sip:SecureWebSocketPort must be between 1 and 65535 (was 70000)",
        }));
    }

    [Test]
    public void An_admin_url_on_the_WebSocket_port_is_rejected()
    {
        Assert.That(Failures(o =>
        {
            o.Sip.Transports = ["udp", "tcp", "ws"];
            o.Admin.Url = "http://127.0.0.1:8088";
        }).Single(), Does.StartWith("Pool:Admin:Url must not use port 8088, which Pool:Sip:WebSocketPort already takes"));
    }

    [Test]
    public void A_certificate_without_its_key_is_rejected()
    {
        Assert.That(Failures(o => o.Sip.Tls.Certificate.Path = "pool.crt").Single(),
            Does.StartWith("Pool:Sip:Tls:Certificate needs both Path (the PEM certificate) and KeyPath"));
    }

    [Test]
    public void Requiring_the_partner_certificate_without_naming_it_or_without_tls_refuses_to_start_naming_the_keys()
    {
        var failures = Failures(o => o.Sip.Tls.RequirePartnerCertificate = true);

        Assert.That(failures, Has.Some.StartWith("Pool:Sip:Tls:RequirePartnerCertificate needs tls in Pool:Sip:Transports"));
        Assert.That(failures, Has.Some.StartWith("Pool:Sip:Tls:RequirePartnerCertificate needs Pool:Sip:Tls:PartnerCertificate"));
    }

    [Test]
    public void Requiring_the_partner_certificate_with_tls_and_a_pinned_certificate_is_valid()
    {
        Assert.That(Failures(o =>
        {
            o.Sip.Transports = ["udp", "tcp", "tls"];
            o.Sip.Tls.RequirePartnerCertificate = true;
            o.Sip.Tls.PartnerCertificate = "pool-b-tls.crt";
        }), Is.Empty);
    }

    [Test]
    public void Tls_handshake_limits_out_of_range_are_rejected()
    {
        var failures = Failures(o =>
        {
            o.Sip.Tls.HandshakeTimeout = TimeSpan.Zero;
            o.Sip.Tls.MaxConcurrentHandshakes = 0;
            o.Sip.Tls.KeyLogFile = " ";
        });
        Assert.That(failures, Has.Count.EqualTo(3));
        Assert.That(failures, Has.Some.StartWith("Pool:Sip:Tls:HandshakeTimeout"));
        Assert.That(failures, Has.Some.StartWith("Pool:Sip:Tls:MaxConcurrentHandshakes"));
        Assert.That(failures, Has.Some.StartWith("Pool:Sip:Tls:KeyLogFile"));
    }

    [Test]
    public void A_transport_listed_twice_is_rejected()
    {
        Assert.That(Failures(o => o.Sip.Transports = ["tcp", "tcp"]).Single(), Does.StartWith("Pool:Sip:Transports:1"));
    }

    [TestCase("not a url")]
    [TestCase("127.0.0.1:8060")]
    [TestCase("https://127.0.0.1:8060")]
    [TestCase("http://127.0.0.1:8060/admin")]
    public void An_admin_url_that_is_not_a_plain_http_url_is_rejected(string url)
    {
        Assert.That(Failures(o => o.Admin.Url = url).Single(),
            Does.StartWith("Pool:Admin:Url must be an http URL").And.EndWith($"(was '{url}')"));
    }

    [TestCase("http://192.0.2.10:8060")]
    [TestCase("http://0.0.0.0:8060")]
    public void An_admin_url_off_loopback_without_a_token_is_rejected_naming_the_token_key(string url)
    {
        Assert.That(Failures(o => o.Admin.Url = url).Single(),
            Does.StartWith("Pool:Admin:Token must be set when Pool:Admin:Url is not on a loopback host").And.EndWith($"(was '{url}')"));
    }

    [Test]
    public void An_admin_url_off_loopback_with_a_token_is_accepted()
    {
        Assert.That(Failures(o =>
        {
            o.Admin.Url = "http://192.0.2.10:8060";
            o.Admin.Token = "a-long-random-token";
        }), Is.Empty);
    }

    [TestCase(0)]
    [TestCase(1001)]
    public void A_MaxStreams_outside_1_to_1000_is_rejected_naming_the_key(int max)
    {
        Assert.That(Failures(o => o.Admin.MaxStreams = max).Single(), Is.EqualTo($"Pool:Admin:MaxStreams must be between 1 and 1000 (was {max})"));
    }

    [Test]
    public void A_blank_admin_token_is_rejected()
    {
        Assert.That(Failures(o => o.Admin.Token = "  ").Single(), Does.StartWith("Pool:Admin:Token must not be blank"));
    }

    [TestCase("RequestsPerSecond", "0", "Pool:RateLimit:RequestsPerSecond must be between 1 and 1000000 (was 0)")]
    [TestCase("Burst", "-1", "Pool:RateLimit:Burst must be between 1 and 10000000 (was -1)")]
    public void A_rate_limit_out_of_range_is_rejected_naming_its_key(string key, string value, string message)
    {
        Assert.That(Failures(o => o.RateLimit = key == "Burst"
            ? new SipCallPark.Pool.RateLimiting.RateLimitOptions { Burst = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) }
            : new SipCallPark.Pool.RateLimiting.RateLimitOptions { RequestsPerSecond = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) }).Single(),
            Is.EqualTo(message));
    }

    [Test]
    public void A_load_shedding_queue_delay_out_of_range_is_rejected_naming_its_key()
    {
        Assert.That(Failures(o => o.Overload = new SipCallPark.Pool.RateLimiting.OverloadOptions { MaxQueueDelay = TimeSpan.FromMinutes(5) }).Single(),
            Is.EqualTo("Pool:Overload:MaxQueueDelay must be between 10 ms and 30 s (was 00:05:00)"));
    }

    [Test]
    public void A_partner_secret_too_short_to_resist_guessing_is_rejected_naming_its_key()
    {
        Assert.That(Failures(o => o.Partner = new SipCallPark.Pool.Pairing.PartnerOptions { Secret = "lab-secret" }).Single(),
            Is.EqualTo("Pool:Partner:Secret must be at least 16 characters (was 10)"));
    }

    [TestCase("http://localhost:8060")]
    [TestCase("http://[::1]:8060")]
    [TestCase("http://127.0.0.1:8060/")]
    public void A_loopback_admin_url_is_accepted(string url)
    {
        Assert.That(Failures(o => o.Admin.Url = url), Is.Empty);
    }

    [Test]
    public void An_admin_port_equal_to_the_sip_tcp_port_is_rejected()
    {
        Assert.That(Failures(o => o.Admin.Url = "http://127.0.0.1:5060").Single(),
            Does.StartWith("Pool:Admin:Url must not use port 5060"));
    }

    [Test]
    public void An_admin_port_equal_to_a_udp_only_sip_port_is_accepted()
    {
        Assert.That(Failures(o =>
        {
            o.Sip.Transports = ["udp"];
            o.Admin.Url = "http://127.0.0.1:5060";
        }), Is.Empty);
    }

    [TestCase("")]
    [TestCase("pool a")]
    [TestCase("-pool")]
    public void A_pool_name_unfit_for_file_names_is_rejected(string name)
    {
        Assert.That(Failures(o => o.Name = name).Single(), Does.StartWith("Pool:Name must"));
    }

    [Test]
    public void An_empty_data_directory_is_rejected()
    {
        Assert.That(Failures(o => o.DataDirectory = "").Single(), Does.StartWith("Pool:DataDirectory must"));
    }

    [Test]
    public void Every_problem_is_reported_not_only_the_first()
    {
        Assert.That(Failures(o =>
        {
            o.Sip.Port = 70000;
            o.Domain = "";
        }), Has.Count.EqualTo(2));
    }

    [Test]
    public void A_call_pickup_timeout_outside_Lyncs_10_seconds_to_10_minutes_is_rejected_naming_the_key()
    {
        Assert.That(Failures(o => o.Park = new SipCallPark.Pool.Park.ParkOptions { CallPickupTimeout = TimeSpan.FromSeconds(5) }).Single(),
            Does.StartWith("Pool:Park:CallPickupTimeout must be between 10 s and 10 min"));
    }

    [TestCase(0)]
    [TestCase(11)]
    public void MaxCallPickupAttempts_outside_1_to_10_is_rejected(int attempts)
    {
        Assert.That(Failures(o => o.Park = new SipCallPark.Pool.Park.ParkOptions { MaxCallPickupAttempts = attempts }).Single(),
            Is.EqualTo($"Pool:Park:MaxCallPickupAttempts must be between 1 and 10 (was {attempts})"));
    }

    [Test]
    public void An_OnTimeoutUri_that_is_not_a_SIP_URI_is_rejected()
    {
        Assert.That(Failures(o => o.Park = new SipCallPark.Pool.Park.ParkOptions { OnTimeoutUri = "dave at the desk" }).Single(),
            Does.StartWith("Pool:Park:OnTimeoutUri is not a SIP URI"));
    }

    [Test]
    public void A_replication_max_retry_delay_below_the_first_delay_is_rejected_naming_the_key()
    {
        Assert.That(Failures(o => o.Replication = new SipCallPark.Pool.Replication.ReplicationOptions
            {
                RetryDelay = TimeSpan.FromSeconds(2), MaxRetryDelay = TimeSpan.FromSeconds(1),
            }).Single(),
            Does.StartWith("Pool:Replication:MaxRetryDelay must be between RetryDelay"));
    }

    [Test]
    public void A_blank_replication_backup_token_is_rejected_naming_the_key()
    {
        Assert.That(Failures(o => o.Replication = new SipCallPark.Pool.Replication.ReplicationOptions { BackupToken = " " }).Single(),
            Does.StartWith("Pool:Replication:BackupToken must not be blank"));
    }

    [Test]
    public void A_feature_code_that_is_not_a_star_and_digits_is_rejected_naming_the_key()
    {
        Assert.That(Failures(o => o.Park = new SipCallPark.Pool.Park.ParkOptions { Aliases = ["*70"], DirectedParkCode = "71" }).Single(),
            Does.StartWith("Pool:Park:DirectedParkCode must be '*' or '#' and 1 to 5 digits"));
    }

    [Test]
    public void The_default_park_alias_is_star_70_once()
    {
        var options = new PoolOptions();
        options.ApplyDefaults();
        Assert.That(options.Park.Aliases, Is.EqualTo(new[] { "*70" }));
    }

    [TestCase("Auto")]
    [TestCase("always")]
    [TestCase("NEVER")]
    public void Each_nat_traversal_mode_is_accepted_in_any_case(string mode)
    {
        Assert.That(Failures(o => o.Registrar.NatTraversal = mode), Is.Empty);
    }

    [TestCase("Sometimes")]
    [TestCase("1")]
    [TestCase("")]
    public void An_unknown_nat_traversal_mode_is_rejected_naming_the_key(string mode)
    {
        Assert.That(Failures(o => o.Registrar.NatTraversal = mode),
            Is.EqualTo(new[] { $"Pool:Registrar:NatTraversal must be Auto, Always or Never (was '{mode}')" }));
    }
}
