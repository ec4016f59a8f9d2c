namespace SipCallPark.Pool.Resiliency;

/// <summary>The disaster-recovery phase of one pool (docs/design.md §7), as its partner and itself track it.</summary>
public enum DrPhase
{
    /// <summary>The pool serves its users.</summary>
    Normal,
    /// <summary>The backup found the pool down and holds its users in resiliency mode.</summary>
    Outage,
    /// <summary>An operator started the failover; users still in resiliency mode.</summary>
    FailingOver,
    /// <summary>The backup serves the pool's users normally, with its own park settings.</summary>
    FailedOver,
    /// <summary>An operator started the failback; users in resiliency mode until it completes.</summary>
    FailingBack,
}
