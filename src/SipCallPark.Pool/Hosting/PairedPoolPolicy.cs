using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.Resiliency;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Hosting;

/// <summary>
/// Registration rules of a pool in a pair (docs/design.md §7): its own users are served normally; a partner's user is
/// redirected home (301, home q=0.7, backup q=0.3) while the partner is Normal, held in resiliency mode while the
/// partner is in Outage, FailingOver or FailingBack, and served normally once the partner is FailedOver.
/// </summary>
public sealed class PairedPoolPolicy(string self, PoolTopology topology, Func<string, DrPhase> phaseOf) : IHomePoolPolicy
{
    public RegistrationDecision Decide(LabUser user)
    {
        if (string.Equals(user.HomePool, self, StringComparison.OrdinalIgnoreCase))
        {
            // Our own users: while we are failed over to our backup they belong there (answer 301 to it).
            return phaseOf(self) switch
            {
                DrPhase.FailedOver when Backup(self) is { } backup => Redirect(backup),
                DrPhase.FailingBack => new RegistrationDecision.Serve(RegistrationMode.Resiliency),
                _ => new RegistrationDecision.Serve(RegistrationMode.Normal),
            };
        }
        var home = topology.FindPool(user.HomePool);
        if (home is null) return new RegistrationDecision.Serve(RegistrationMode.Normal);
        return phaseOf(home.Name) switch
        {
            DrPhase.Normal => Redirect(home, topology.FindPool(self)),
            DrPhase.FailedOver => new RegistrationDecision.Serve(RegistrationMode.Normal),
            _ => new RegistrationDecision.Serve(RegistrationMode.Resiliency),
        };
    }

    private PoolDefinition? Backup(string pool) => topology.FindPool(pool)?.Backup is { } b ? topology.FindPool(b) : null;

    private static RegistrationDecision Redirect(PoolDefinition home, PoolDefinition? backup = null)
    {
        var targets = new List<(SipUri, double)> { (SipUri.Parse($"sip:{home.Sip}"), backup is null ? 1.0 : 0.7) };
        if (backup is not null) targets.Add((SipUri.Parse($"sip:{backup.Sip}"), 0.3));
        return new RegistrationDecision.Redirect(targets);
    }
}
