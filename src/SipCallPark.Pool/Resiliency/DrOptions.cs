namespace SipCallPark.Pool.Resiliency;

/// <summary>Timings of the DR phases. Lync needs 15–30 minutes to fail over; a lab wants seconds.</summary>
public sealed class DrOptions
{
    public TimeSpan FailoverDuration { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan FailbackDuration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Fail over by itself after this long in Outage (labs); null means only an operator fails over.</summary>
    public TimeSpan? AutoFailoverAfter { get; init; }

    public void Validate(string prefix)
    {
        if (FailoverDuration < TimeSpan.Zero || FailoverDuration > TimeSpan.FromHours(2))
            throw new OptionsValidationError($"{prefix}:FailoverDuration", $"must be between 0 and 2 h (was {FailoverDuration})");
        if (FailbackDuration < TimeSpan.Zero || FailbackDuration > TimeSpan.FromHours(2))
            throw new OptionsValidationError($"{prefix}:FailbackDuration", $"must be between 0 and 2 h (was {FailbackDuration})");
        if (AutoFailoverAfter is { } a && (a < TimeSpan.Zero || a > TimeSpan.FromHours(24)))
            throw new OptionsValidationError($"{prefix}:AutoFailoverAfter", $"must be between 0 and 24 h (was {a})");
    }
}
