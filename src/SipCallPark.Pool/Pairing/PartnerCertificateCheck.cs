using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Pairing;

/// <summary>
/// Mutual TLS for the paired pool (<c>Pool:Sip:Tls:RequirePartnerCertificate</c>, docs/design.md §11 "Trust"): over TLS
/// a request is the partner's when, and only when, its connection presented the partner's certificate — the pinned one
/// (<c>Pool:Sip:Tls:PartnerCertificate</c>) or one issued by the configured authority (<c>Pool:Sip:Tls:PartnerAuthority</c>),
/// valid now and for client authentication — and comes from a partner pool's address in the topology. On TLS this
/// replaces the signature test; a signature alone proves nothing there.
/// </summary>
public sealed class PartnerCertificateCheck
{
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    private readonly X509Certificate2? _pinned;
    private readonly X509Certificate2? _authority;
    private readonly IPeerCertificates _connections;
    private readonly IPAddress[] _partnerAddresses;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly LogInterval _refusals;

    /// <param name="self">This pool: its own address is no partner's.</param>
    /// <param name="pinned">The partner's own certificate; or null with <paramref name="authority"/>.</param>
    /// <param name="authority">The certificate authority that issues the partner's certificate; or null with <paramref name="pinned"/>.</param>
    /// <param name="connections">The TLS channel: who presented what.</param>
    public PartnerCertificateCheck(string self, PoolTopology topology, X509Certificate2? pinned, X509Certificate2? authority,
        IPeerCertificates connections, TimeProvider time, ILogger<PartnerCertificateCheck> logger)
    {
        if (pinned is null && authority is null) throw new ArgumentException("Name the partner's certificate or its authority.", nameof(pinned));
        _pinned = pinned;
        _authority = authority;
        _connections = connections;
        _time = time;
        _logger = logger;
        _refusals = new LogInterval(time, TimeSpan.FromSeconds(10));
        _partnerAddresses = topology.Pools
            .Where(p => !string.Equals(p.Name, self, StringComparison.OrdinalIgnoreCase))
            .Select(p => IPEndPoint.TryParse(p.Sip, out var at) ? at.Address : null)
            .OfType<IPAddress>()
            .ToArray();
    }

    /// <summary>True when the TLS connection <paramref name="source"/> presented the partner's certificate from a partner's address.</summary>
    public bool IsPartner(SipEndPoint source)
    {
        if (source.Protocol != SipProtocol.Tls) return false;
        var presented = _connections.PeerCertificate(source.Address);
        if (presented is null) return false;
        if (!Accepts(presented, out var why))
        {
            Refuse(source, why);
            return false;
        }
        if (!_partnerAddresses.Contains(source.Address.Address))
        {
            Refuse(source, "the partner's certificate came from an address that is no partner pool's");
            return false;
        }
        return true;
    }

    /// <summary>The pinned certificate exactly, or a chain to the authority, valid now, for client authentication.</summary>
    internal bool Accepts(X509Certificate2 presented, out string why)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        if (now < presented.NotBefore.ToUniversalTime() || now > presented.NotAfter.ToUniversalTime())
        {
            why = "the certificate is not valid now";
            return false;
        }
        if (_pinned is not null)
        {
            var same = CryptographicOperations.FixedTimeEquals(presented.GetCertHash(HashAlgorithmName.SHA256), _pinned.GetCertHash(HashAlgorithmName.SHA256));
            why = same ? "" : "not the pinned partner certificate";
            if (same || _authority is null) return same;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_authority!);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ClientAuthentication));
        // A self-signed certificate "chains" to itself: the root must be the authority, not the presented one.
        var built = chain.Build(presented) && chain.ChainElements.Count > 1
                    && chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(_authority!.RawDataMemory.Span);
        why = built ? "" : "not issued by the partner authority";
        return built;
    }

    private void Refuse(SipEndPoint source, string why)
    {
        if (_refusals.TryTake()) _logger.LogWarning("TLS peer {Source} is not taken for the partner pool: {Reason}", source, why);
    }

    /// <summary>At most one line per interval: anyone can present a wrong certificate again and again.</summary>
    private sealed class LogInterval(TimeProvider time, TimeSpan interval)
    {
        private readonly Lock _lock = new();
        private long? _last;

        public bool TryTake()
        {
            var now = time.GetTimestamp();
            lock (_lock)
            {
                if (_last is { } last && time.GetElapsedTime(last, now) < interval) return false;
                _last = now;
                return true;
            }
        }
    }
}
