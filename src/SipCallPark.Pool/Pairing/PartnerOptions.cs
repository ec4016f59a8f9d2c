using System.Net;
using SipCallPark.Pool.Topology;

namespace SipCallPark.Pool.Pairing;

/// <summary>
/// How the paired pools prove themselves to each other (<c>Pool:Partner</c>, docs/design.md §11 "Trust"): a shared
/// <see cref="Secret"/> keys an HMAC-SHA256 on every pool-to-pool SIP request, probe answer and replication post.
/// A Via or a source address proves nothing; without the secret a request is an ordinary user's.
/// </summary>
public sealed class PartnerOptions
{
    public const string Section = "Pool:Partner";

    /// <summary>The secret both pools share (at least 16 characters). Required unless every pool of the topology is on
    /// loopback; without it no request is taken for the partner's (calls between the pools get challenged, the
    /// partner's DR phases are not believed, replication posts are refused).</summary>
    public string? Secret { get; init; }

    /// <summary>How far a signed message's timestamp may be from this pool's clock (1 s – 10 min).</summary>
    public TimeSpan MaxClockSkew { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Signatures remembered to refuse a replay (within twice <see cref="MaxClockSkew"/>); when full, new
    /// signed messages are refused until old ones age out (1 000 – 10 000 000).</summary>
    public int MaxRemembered { get; init; } = 200_000;

    public const int MinSecretLength = 16;

    /// <summary>Checks the options and, with the topology known, that pools off loopback have a secret.</summary>
    public void Validate(string prefix, PoolTopology topology)
    {
        ArgumentNullException.ThrowIfNull(topology);
        Validate(prefix);
        if (Secret is null && !AllOnLoopback(topology))
            throw new OptionsValidationError($"{prefix}:Secret",
                "must be set when the pools of the topology are not all on loopback: it authenticates the partner pool's requests, "
                + "probe answers and replication (give the same value to both pools, e.g. SIPCALLPARK_Pool__Partner__Secret)");
    }

    /// <summary>Checks what can be checked without the topology (the configuration validator's part).</summary>
    public void Validate(string prefix)
    {
        if (Secret is not null && Secret.Trim().Length < MinSecretLength)
            throw new OptionsValidationError($"{prefix}:Secret", $"must be at least {MinSecretLength} characters (was {Secret.Trim().Length})");
        if (MaxClockSkew < TimeSpan.FromSeconds(1) || MaxClockSkew > TimeSpan.FromMinutes(10))
            throw new OptionsValidationError($"{prefix}:MaxClockSkew", $"must be between 1 s and 10 min (was {MaxClockSkew})");
        if (MaxRemembered is < 1_000 or > 10_000_000)
            throw new OptionsValidationError($"{prefix}:MaxRemembered", $"must be between 1000 and 10000000 (was {MaxRemembered})");
    }

    private static bool AllOnLoopback(PoolTopology topology) =>
        topology.Pools.All(p => IPEndPoint.TryParse(p.Sip, out var sip) && IPAddress.IsLoopback(sip.Address)
                                && (string.IsNullOrEmpty(p.Admin) || Uri.TryCreate(p.Admin, UriKind.Absolute, out var admin) && admin.IsLoopback));
}
