namespace SipCallPark.Pool.Park;

/// <summary>
/// The orbit lamps (<c>Pool:Park:Blf</c>, docs/design.md §5 "Orbit lamps"): SUBSCRIBE with <c>Event: dialog</c> to an
/// orbit (RFC 6665, RFC 4235), how a parked call shows, how long subscriptions last and how many there may be.
/// </summary>
public sealed class BlfOptions
{
    /// <summary>The dialog state a parked call shows: <c>confirmed</c> (a steady lamp on most phones) or <c>early</c>
    /// (a blinking one). A ringback always shows <c>early</c>; a free orbit <c>terminated</c>.</summary>
    public string ParkedState { get; init; } = "confirmed";

    /// <summary>The subscription duration granted when a SUBSCRIBE names none (RFC 4235 §3.2: an hour), in seconds.</summary>
    public int DefaultExpires { get; init; } = 3600;

    /// <summary>Below this a SUBSCRIBE gets <c>423 Interval Too Brief</c> with <c>Min-Expires</c>, in seconds.</summary>
    public int MinExpires { get; init; } = 60;

    /// <summary>A longer subscription is granted this long, in seconds.</summary>
    public int MaxExpires { get; init; } = 7200;

    /// <summary>Subscriptions one user (one address of record) may hold at once; one more gets 403.</summary>
    public int MaxPerUser { get; init; } = 100;

    /// <summary>Subscriptions the pool holds at once; one more gets 503 with Retry-After.</summary>
    public int MaxTotal { get; init; } = 10_000;

    /// <summary>NOTIFYs in flight at once across all subscriptions; the rest wait their turn, one per subscription.</summary>
    public int MaxNotifiesInFlight { get; init; } = 64;

    /// <summary>True when a parked call shows <c>early</c>.</summary>
    public bool ParkedShowsEarly => string.Equals(ParkedState?.Trim(), "early", StringComparison.OrdinalIgnoreCase);

    public void Validate(string prefix = "Park:Blf")
    {
        var state = ParkedState?.Trim();
        if (!string.Equals(state, "confirmed", StringComparison.OrdinalIgnoreCase) && !string.Equals(state, "early", StringComparison.OrdinalIgnoreCase))
            throw new OptionsValidationError($"{prefix}:ParkedState", $"must be confirmed or early (was '{ParkedState}')");
        if (MinExpires is < 1 or > 3600)
            throw new OptionsValidationError($"{prefix}:MinExpires", $"must be between 1 and 3600 seconds (was {MinExpires})");
        if (MaxExpires < MinExpires || MaxExpires > 86_400)
            throw new OptionsValidationError($"{prefix}:MaxExpires", $"must be between MinExpires ({MinExpires}) and 86400 seconds (was {MaxExpires})");
        if (DefaultExpires < MinExpires || DefaultExpires > MaxExpires)
            throw new OptionsValidationError($"{prefix}:DefaultExpires", $"must be between MinExpires and MaxExpires (was {DefaultExpires})");
        if (MaxPerUser is < 1 or > 10_000)
            throw new OptionsValidationError($"{prefix}:MaxPerUser", $"must be between 1 and 10000 (was {MaxPerUser})");
        if (MaxTotal < MaxPerUser || MaxTotal > 1_000_000)
            throw new OptionsValidationError($"{prefix}:MaxTotal", $"must be between MaxPerUser ({MaxPerUser}) and 1000000 (was {MaxTotal})");
        if (MaxNotifiesInFlight is < 1 or > 10_000)
            throw new OptionsValidationError($"{prefix}:MaxNotifiesInFlight", $"must be between 1 and 10000 (was {MaxNotifiesInFlight})");
    }
}
