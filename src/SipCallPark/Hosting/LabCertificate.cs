using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using SipCallPark.Configuration;

namespace SipCallPark.Hosting;

/// <summary>
/// The pool's TLS certificate (docs/design.md §11): the PEM pair named by <c>Pool:Sip:Tls:Certificate</c>, or else a
/// self-signed lab certificate for the pool's SIP address and domain, made on first start and kept in the data
/// directory (<c>&lt;pool&gt;-tls.crt</c>, <c>&lt;pool&gt;-tls.key</c>) so phones that trusted it keep trusting it.
/// </summary>
internal sealed class LabCertificate
{
    private static readonly TimeSpan Validity = TimeSpan.FromDays(365);
    private static readonly TimeSpan RenewBefore = TimeSpan.FromDays(1);

    private LabCertificate(X509Certificate2 certificate, string certificateFile, bool created)
    {
        Certificate = certificate;
        CertificateFile = certificateFile;
        Created = created;
        Sha256Fingerprint = Fingerprint(certificate);
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>The PEM file phones are told to trust.</summary>
    public string CertificateFile { get; }

    /// <summary>True when this start made the certificate (first start, or the old one was about to expire).</summary>
    public bool Created { get; }

    /// <summary><c>AB:CD:…</c>, the SHA-256 of the certificate as browsers and <c>openssl x509 -fingerprint -sha256</c> show it.</summary>
    public string Sha256Fingerprint { get; }

    public static string Fingerprint(X509Certificate2 certificate) =>
        string.Join(':', certificate.GetCertHash(HashAlgorithmName.SHA256).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));

    /// <exception cref="PoolConfigurationException">The configured files cannot be read as a certificate and key.</exception>
    public static LabCertificate LoadOrCreate(PoolOptions pool, TimeProvider time)
    {
        var files = pool.Sip.Tls.Certificate;
        if (!string.IsNullOrWhiteSpace(files.Path) && !string.IsNullOrWhiteSpace(files.KeyPath))
        {
            var path = Path.GetFullPath(files.Path);
            try
            {
                return new LabCertificate(X509Certificate2.CreateFromPemFile(path, Path.GetFullPath(files.KeyPath)), path, created: false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                throw new PoolConfigurationException(
                    $"Pool:Sip:Tls:Certificate cannot be read as a PEM certificate (Path) and its PEM private key (KeyPath): {e.Message} (was Path '{files.Path}', KeyPath '{files.KeyPath}')");
            }
        }

        var directory = Path.GetFullPath(pool.DataDirectory);
        var certificateFile = Path.Combine(directory, $"{pool.Name}-tls.crt");
        var keyFile = Path.Combine(directory, $"{pool.Name}-tls.key");
        var now = time.GetUtcNow();
        if (File.Exists(certificateFile) && File.Exists(keyFile))
        {
            try
            {
                var stored = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
                if (stored.NotAfter.ToUniversalTime() > now.UtcDateTime + RenewBefore) return new LabCertificate(stored, certificateFile, created: false);
            }
            catch (CryptographicException)
            {
                // A damaged pair is replaced by a new one, like a missing one.
            }
        }

        Directory.CreateDirectory(directory);
        var created = Create(IPAddress.Parse(pool.Sip.ListenAddress), pool.Domain, pool.Name, now);
        File.WriteAllText(certificateFile, created.ExportCertificatePem());
        WritePrivate(keyFile, created.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return new LabCertificate(created, certificateFile, created: true);
    }

    /// <summary>
    /// A self-signed ECDSA P-256 certificate for the pool's address (and loopback when it listens on every address) and
    /// the SIP domain, good for server and client authentication, valid from an hour ago for a year.
    /// </summary>
    internal static X509Certificate2 Create(IPAddress address, string domain, string pool, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={pool}.{domain}, O=SipCallPark lab", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(domain);
        names.AddDnsName($"{pool}.{domain}");
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) names.AddIpAddress(IPAddress.Loopback);
        else names.AddIpAddress(address);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now.AddHours(-1), now + Validity);
    }

    private static void WritePrivate(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(text);
    }
}
