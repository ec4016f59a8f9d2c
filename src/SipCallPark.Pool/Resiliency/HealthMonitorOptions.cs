namespace SipCallPark.Pool.Resiliency;

/// <summary>How a pool probes its partner (DESIGN §7): SIP OPTIONS every second, down after 3 misses, up after 3 answers.</summary>
public sealed class HealthMonitorOptions
{
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    public int FailuresToDown { get; init; } = 3;

    public int SuccessesToUp { get; init; } = 3;

    public void Validate(string prefix)
    {
        if (Interval < TimeSpan.FromMilliseconds(50) || Interval > TimeSpan.FromMinutes(5))
            throw new OptionsValidationError($"{prefix}:Interval", $"must be between 50 ms and 5 min (was {Interval})");
        if (ProbeTimeout < TimeSpan.FromMilliseconds(10) || ProbeTimeout > Interval * 10)
            throw new OptionsValidationError($"{prefix}:ProbeTimeout", $"must be between 10 ms and ten intervals (was {ProbeTimeout})");
        if (FailuresToDown is < 1 or > 100) throw new OptionsValidationError($"{prefix}:FailuresToDown", $"must be between 1 and 100 (was {FailuresToDown})");
        if (SuccessesToUp is < 1 or > 100) throw new OptionsValidationError($"{prefix}:SuccessesToUp", $"must be between 1 and 100 (was {SuccessesToUp})");
    }
}
