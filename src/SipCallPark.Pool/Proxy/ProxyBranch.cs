using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;

namespace SipCallPark.Pool.Proxy;

/// <summary>
/// One forwarded copy of a request in a response context: its target, the request as sent, and the client
/// transaction once it started. The mutable fields are guarded by the owning <see cref="ResponseContext"/>'s lock.
/// </summary>
internal sealed class ProxyBranch
{
    public ProxyBranch(ProxyTarget target, SipRequest request, TimeProvider time)
    {
        Target = target;
        Request = request;
        // Stops watching the transaction once Timer C gave up on it and a grace period passed (see ResponseContext).
        Watch = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
    }

    public ProxyTarget Target { get; }

    public SipRequest Request { get; }

    public string Branch => Request.TopVia?.Branch ?? "";

    /// <summary>Null until the transaction layer accepted the request.</summary>
    public ClientTransaction? Transaction { get; set; }

    /// <summary>Any 1xx arrived: a CANCEL may now be sent for it (§9.1).</summary>
    public bool HasProvisional { get; set; }

    /// <summary>The branch has its final outcome (a response, a failure, or Timer C's 408).</summary>
    public bool IsDone { get; set; }

    /// <summary>A CANCEL is wanted; one that had not started yet is cancelled as soon as it has.</summary>
    public bool CancelRequested { get; set; }

    /// <summary>Timer C (§16.8), INVITE branches only.</summary>
    public ITimer? TimerC { get; set; }

    public CancellationTokenSource Watch { get; }

    public override string ToString() => $"{Branch} -> {Target.Destination}";
}
