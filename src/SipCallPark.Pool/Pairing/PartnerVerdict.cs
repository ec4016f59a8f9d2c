namespace SipCallPark.Pool.Pairing;

/// <summary>What the <see cref="PartnerAuthenticator"/> made of a message's <c>X-Pool-Auth</c>.</summary>
public enum PartnerVerdict
{
    /// <summary>Signed by the partner pool, in time, first seen now.</summary>
    Valid,

    /// <summary>No header (an ordinary user's message).</summary>
    Missing,

    /// <summary>This pool has no secret, so it takes nothing for the partner's.</summary>
    NoSecret,

    Malformed,

    /// <summary>The header names this pool itself or a pool not in the topology.</summary>
    UnknownPool,

    /// <summary>The timestamp is further from this pool's clock than <see cref="PartnerOptions.MaxClockSkew"/>.</summary>
    Skewed,

    BadSignature,

    /// <summary>A signature already taken (or the replay window is full).</summary>
    Replayed,
}
