namespace SipCallPark.Pool.Registrar;

/// <summary>
/// One contact bound to an address of record (RFC 3261 §10). <see cref="Source"/> is where the REGISTER came from
/// (<c>udp:127.0.0.1:5070</c>), used to reach a contact behind NAT; <see cref="InstanceId"/> and <see cref="RegId"/>
/// are kept as RFC 5626 asks. <see cref="Nat"/> is what the registrar's NAT test saw (<see cref="NatTest"/>); null
/// for a binding stored before the test existed, which is reached at its source as it was then.
/// </summary>
public sealed record Binding(
    string Aor,
    string Contact,
    DateTimeOffset ExpiresAt,
    double Q,
    string CallId,
    long CSeq,
    string? InstanceId,
    string? RegId,
    string? Source,
    RegistrationMode Mode,
    string Pool,
    NatSigns? Nat = null)
{
    public bool IsExpired(DateTimeOffset now) => ExpiresAt <= now;

    public int RemainingSeconds(DateTimeOffset now) => Math.Max(0, (int)Math.Ceiling((ExpiresAt - now).TotalSeconds));
}
