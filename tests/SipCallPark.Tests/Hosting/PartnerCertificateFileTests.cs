using System.Net;
using SipCallPark.Configuration;
using SipCallPark.Hosting;

namespace SipCallPark.Tests.Hosting;

/// <summary>Pool:Sip:Tls:PartnerCertificate / PartnerAuthority name a certificate without its key (it is another pool's).</summary>
public class PartnerCertificateFileTests
{
    private string _dir = null!;

    [SetUp]
    public void MakeDirectory() => _dir = Directory.CreateTempSubdirectory("sipcallpark-partner-cert-").FullName;

    [TearDown]
    public void RemoveDirectory() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void The_partners_certificate_file_without_a_key_is_read_as_that_certificate()
    {
        using var partner = LabCertificate.Create(IPAddress.Loopback, "callpark.lab", "pool-b", DateTimeOffset.UtcNow);
        var path = Path.Combine(_dir, "pool-b-tls.crt");
        File.WriteAllText(path, partner.ExportCertificatePem());

        using var read = SipServerService.ReadCertificate(path, "PartnerCertificate");

        Assert.That(read!.Thumbprint, Is.EqualTo(partner.Thumbprint));
        Assert.That(read.HasPrivateKey, Is.False);
    }

    [Test]
    public void A_file_that_is_no_certificate_refuses_the_start_naming_the_key()
    {
        var path = Path.Combine(_dir, "junk.crt");
        File.WriteAllText(path, "not a certificate");

        Assert.That(() => SipServerService.ReadCertificate(path, "PartnerAuthority"),
            Throws.TypeOf<PoolConfigurationException>().With.Message.StartsWith("Pool:Sip:Tls:PartnerAuthority cannot be read"));
    }

    [Test]
    public void An_unset_key_reads_as_no_certificate()
    {
        Assert.That(SipServerService.ReadCertificate(null, "PartnerCertificate"), Is.Null);
    }
}
