using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Registrar;

/// <summary>What this pool does with a user's REGISTER: serve it (in which mode) or send it elsewhere.</summary>
public abstract record RegistrationDecision
{
    public sealed record Serve(RegistrationMode Mode) : RegistrationDecision;

    /// <summary>301 with these contacts and q-values (Lync's backup-registrar answer: home 0.7, backup 0.3).</summary>
    public sealed record Redirect(IReadOnlyList<(SipUri Contact, double Q)> Targets) : RegistrationDecision;
}

/// <summary>Decides per user from the topology and the disaster-recovery phase of its home pool (docs/design.md §7).</summary>
public interface IHomePoolPolicy
{
    RegistrationDecision Decide(LabUser user);
}

/// <summary>A single pool with no partner: everyone is served normally.</summary>
public sealed class StandalonePolicy : IHomePoolPolicy
{
    public RegistrationDecision Decide(LabUser user) => new RegistrationDecision.Serve(RegistrationMode.Normal);
}
