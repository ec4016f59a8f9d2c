namespace SipCallPark.Pool.Admin;

/// <summary>What a replication request proved about its sender (see <see cref="IAdminBackend.AuthenticatePartner"/>).</summary>
public enum PartnerCredentials
{
    /// <summary>Signed by the pool it names, in time, not a replay.</summary>
    Valid,

    /// <summary>No signature at all (answered 401).</summary>
    Missing,

    /// <summary>A signature that does not hold: wrong secret, another pool, too old, replayed (answered 403).</summary>
    Invalid,
}
