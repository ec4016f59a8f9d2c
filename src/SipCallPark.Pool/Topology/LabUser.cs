namespace SipCallPark.Pool.Topology;

/// <summary>
/// A user of the domain and its digest secret: a plaintext password (lab tools like sipp need one) or precomputed
/// HA1 values (<c>H(user:realm:password)</c>) for deployments that keep no passwords.
/// </summary>
public sealed record LabUser(string User, string HomePool, string? Password = null, string? Ha1Md5 = null, string? Ha1Sha256 = null);
