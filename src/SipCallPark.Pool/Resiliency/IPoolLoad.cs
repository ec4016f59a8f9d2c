namespace SipCallPark.Pool.Resiliency;

/// <summary>
/// Whether this pool keeps up with its own traffic (docs/design.md §7 "Health monitor"). A probe the partner did not
/// answer while this pool was behind proves nothing about the partner — the answer may be waiting in our own queue —
/// so the health monitor does not count it.
/// </summary>
public interface IPoolLoad
{
    /// <summary>False while the pool is shedding load or was, very recently.</summary>
    bool IsKeepingUp { get; }
}

/// <summary>The load of a pool that does not measure it (load shedding off): always keeping up.</summary>
public sealed class UnmeasuredLoad : IPoolLoad
{
    public bool IsKeepingUp => true;
}
