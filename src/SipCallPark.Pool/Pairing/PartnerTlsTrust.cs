using System.Security.Cryptography.X509Certificates;

namespace SipCallPark.Pool.Pairing;

/// <summary>What identifies the partner pool on TLS: its own certificate (pinned), an authority that issues it, or both
/// (either suffices). See <see cref="PartnerCertificateCheck"/>.</summary>
public sealed record PartnerTlsTrust(X509Certificate2? Pinned, X509Certificate2? Authority);
