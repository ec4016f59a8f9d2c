namespace SipCallPark.Configuration;

/// <summary><c>Pool:Sip:Tls</c>: the pool's certificate, the key log and the handshake limits of SIP over TLS.</summary>
internal sealed class SipTlsOptions
{
    /// <summary>
    /// A PEM certificate and its PEM private key (<c>Path</c>, <c>KeyPath</c>, as Kestrel names them). Absent: the pool
    /// makes a self-signed lab certificate for its address on first start and keeps it in the data directory.
    /// </summary>
    public CertificateFileOptions Certificate { get; set; } = new();

    /// <summary>
    /// When set, the TLS secrets of every connection are appended to this file in the SSLKEYLOGFILE format, so
    /// <c>tshark -o tls.keylog_file:FILE -Y sip</c> decrypts a capture. Anyone with the file reads the calls: lab only.
    /// </summary>
    public string? KeyLogFile { get; set; }

    /// <summary>A connection whose TLS handshake has not finished within this time is closed.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>TLS handshakes in progress at once; connections beyond are closed at once.</summary>
    public int MaxConcurrentHandshakes { get; set; } = 200;

    /// <summary>
    /// Mutual TLS for the partner pool: the TLS port asks clients for a certificate, and a request over TLS is the
    /// partner's only when its connection presented <see cref="PartnerCertificate"/> (or one issued by
    /// <see cref="PartnerAuthority"/>) from a partner pool's address; this replaces the signature test on TLS.
    /// </summary>
    public bool RequirePartnerCertificate { get; set; }

    /// <summary>The partner pool's own certificate (PEM), pinned.</summary>
    public string? PartnerCertificate { get; set; }

    /// <summary>A certificate authority (PEM) that issues the partner pool's certificate.</summary>
    public string? PartnerAuthority { get; set; }
}

/// <summary>A PEM certificate file and its PEM private key file.</summary>
internal sealed class CertificateFileOptions
{
    public string? Path { get; set; }

    public string? KeyPath { get; set; }
}
