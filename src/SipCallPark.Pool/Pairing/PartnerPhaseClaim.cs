using SipCallPark.Pool.Resiliency;

namespace SipCallPark.Pool.Pairing;

/// <summary>
/// What a probe answer's <c>X-DR-Phase</c> (<c>pool-a=FailedOver, pool-b=Normal</c>) says of one pool, and whether
/// it may be believed (docs/design.md §7, §11 "Trust"): only an answer signed by the partner pool that was probed
/// speaks for it. An unsigned or badly signed claim changes nothing and is not stored.
/// </summary>
public static class PartnerPhaseClaim
{
    /// <summary>The phase the header gives <paramref name="pool"/>, or null when it names none or cannot be read.</summary>
    public static DrPhase? Read(string? header, string pool)
    {
        if (string.IsNullOrEmpty(header)) return null;
        foreach (var item in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = item.IndexOf('=');
            if (equals <= 0 || !string.Equals(item[..equals], pool, StringComparison.OrdinalIgnoreCase)) continue;
            return Enum.TryParse<DrPhase>(item[(equals + 1)..], ignoreCase: false, out var phase) && Enum.IsDefined(phase) ? phase : null;
        }
        return null;
    }

    /// <summary>The claimed phase of <paramref name="pool"/> when the answer carrying it was signed by the partner
    /// (<paramref name="verdict"/> Valid); null otherwise, whatever the header says.</summary>
    public static DrPhase? Believe(string? header, string pool, PartnerVerdict verdict) =>
        verdict == PartnerVerdict.Valid ? Read(header, pool) : null;
}
