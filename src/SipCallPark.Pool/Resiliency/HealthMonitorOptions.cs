namespace SipCallPark.Pool.Resiliency;

/// <summary>
/// How a pool probes its partner (docs/design.md §7): a SIP OPTIONS every <see cref="Interval"/>, each one a
/// non-INVITE client transaction that the transaction layer retransmits as RFC 3261 §17.1.2.2's Timer E says; the
/// partner is down once no probe has been answered for <see cref="DownAfter"/>, and back after
/// <see cref="SuccessesToUp"/> answers in a row. docs/reliability.md gives the arithmetic behind the defaults.
/// </summary>
public sealed class HealthMonitorOptions
{
    public TimeSpan Interval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long the partner may go without answering any probe before it is declared down.</summary>
    public TimeSpan DownAfter { get; init; } = TimeSpan.FromMilliseconds(1400);

    public int SuccessesToUp { get; init; } = 3;

    /// <summary>Removed: a probe is no longer cut short; its transaction retransmits it. Setting it refuses the start.</summary>
    public TimeSpan? ProbeTimeout { get; init; }

    /// <summary>Removed in favour of <see cref="DownAfter"/> (time, not a count of datagrams). Setting it refuses the start.</summary>
    public int? FailuresToDown { get; init; }

    public void Validate(string prefix)
    {
        if (ProbeTimeout is { } timeout)
            throw new OptionsValidationError($"{prefix}:ProbeTimeout",
                $"was removed: each probe is now retransmitted by its transaction and the partner is down after {prefix}:DownAfter without an answer (was {timeout})");
        if (FailuresToDown is { } failures)
            throw new OptionsValidationError($"{prefix}:FailuresToDown",
                $"was removed: set {prefix}:DownAfter, the time without any answer after which the partner is down (was {failures})");
        if (Interval < TimeSpan.FromMilliseconds(50) || Interval > TimeSpan.FromMinutes(5))
            throw new OptionsValidationError($"{prefix}:Interval", $"must be between 50 ms and 5 min (was {Interval})");
        if (DownAfter < Interval * PartnerLiveness.MinUnansweredProbes || DownAfter > TimeSpan.FromHours(1))
            throw new OptionsValidationError($"{prefix}:DownAfter",
                $"must be at least {PartnerLiveness.MinUnansweredProbes} intervals ({Interval * PartnerLiveness.MinUnansweredProbes}) and at most 1 h (was {DownAfter})");
        if (SuccessesToUp is < 1 or > 100) throw new OptionsValidationError($"{prefix}:SuccessesToUp", $"must be between 1 and 100 (was {SuccessesToUp})");
    }
}
