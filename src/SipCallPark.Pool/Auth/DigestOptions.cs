namespace SipCallPark.Pool.Auth;

/// <summary>Digest authentication settings (RFC 3261 §22, RFC 8760).</summary>
public sealed class DigestOptions
{
    public string Realm { get; init; } = "callpark.lab";

    /// <summary>How long a nonce is good for; an older one gets a fresh challenge with <c>stale=true</c>.</summary>
    public TimeSpan NonceLifetime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Algorithms offered, strongest first (RFC 8760 §2.4: one challenge per algorithm).</summary>
    public IReadOnlyList<string> Algorithms { get; init; } = [DigestAlgorithm.Sha256, DigestAlgorithm.Md5];

    /// <summary>
    /// Accept responses without <c>qop</c> (RFC 2069): they carry no nonce count, so a captured one can be replayed
    /// while its nonce lives. Off unless a phone needs it; such a nonce then serves one request only.
    /// </summary>
    public bool AllowRfc2069 { get; init; }

    public void Validate(string prefix)
    {
        if (string.IsNullOrWhiteSpace(Realm)) throw new OptionsValidationError($"{prefix}:Realm", "must not be empty");
        if (NonceLifetime < TimeSpan.FromSeconds(5) || NonceLifetime > TimeSpan.FromHours(24))
            throw new OptionsValidationError($"{prefix}:NonceLifetime", $"must be between 5 s and 24 h (was {NonceLifetime})");
        if (Algorithms.Count == 0) throw new OptionsValidationError($"{prefix}:Algorithms", "must name at least one algorithm");
        foreach (var a in Algorithms)
        {
            if (!DigestAlgorithm.IsKnown(a)) throw new OptionsValidationError($"{prefix}:Algorithms", $"'{a}' is not MD5 or SHA-256");
        }
    }
}
