namespace SipCallPark.Sip.Transactions;

/// <summary>
/// Timer values of RFC 3261 §17 for one stack instance. Every other timer is derived from these
/// (Timer A/E/G start at <see cref="T1"/>; B, F, H, J, L, M last 64·T1; K and I last <see cref="T4"/>).
/// Immutable: make a copy with <c>with { ... }</c> and call <see cref="Validate"/> before use.
/// </summary>
public sealed record TransactionOptions
{
    /// <summary>RTT estimate (RFC 3261 §17.1.1.1): first retransmission interval. Default 500 ms.</summary>
    public TimeSpan T1 { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Maximum retransmission interval for non-INVITE requests and INVITE responses. Default 4 s.</summary>
    public TimeSpan T2 { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>Maximum time a message remains in the network. Default 5 s.</summary>
    public TimeSpan T4 { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Timer D: how long an INVITE client transaction absorbs retransmitted finals over UDP (≥ 32 s per §17.1.1.2).</summary>
    public TimeSpan TimerD { get; init; } = TimeSpan.FromSeconds(32);

    /// <summary>How long an INVITE server transaction waits for the TU before it sends 100 Trying itself (§17.2.1).</summary>
    public TimeSpan TryingDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>64·T1: Timers B, F, H, J and RFC 6026's L and M.</summary>
    internal TimeSpan TransactionTimeout => T1 * 64;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad option; returns this for chaining.</summary>
    public TransactionOptions Validate()
    {
        if (T1 <= TimeSpan.Zero) throw Bad(nameof(T1), T1, "must be positive");
        if (T2 < T1) throw Bad(nameof(T2), T2, $"must be at least T1 ({T1})");
        if (T4 <= TimeSpan.Zero) throw Bad(nameof(T4), T4, "must be positive");
        if (TimerD < TimeSpan.Zero) throw Bad(nameof(TimerD), TimerD, "may not be negative");
        if (TryingDelay < TimeSpan.Zero) throw Bad(nameof(TryingDelay), TryingDelay, "may not be negative");
        return this;
    }

    private static ArgumentException Bad(string name, TimeSpan value, string why) =>
        new($"Transaction option {name} = {value} {why}", name);
}
