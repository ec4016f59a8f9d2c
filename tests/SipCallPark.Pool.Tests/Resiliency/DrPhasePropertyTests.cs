using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Resiliency;
using SipCallPark.Pool.State;

namespace SipCallPark.Pool.Tests.Resiliency;

/// <summary>
/// Random sequences of {partner up, partner down, restart of this pool, failover, failback, time passing} against
/// the real <see cref="PartnerTracking"/> (monitor + DR machine, restored from a phase store across restarts) on a
/// fake clock, checked after every step against <see cref="DrOracle"/>, a small model of docs/design.md §7's rules.
/// </summary>
public class DrPhasePropertyTests
{
    [Test]
    public void Every_sequence_of_partner_states_restarts_and_operator_commands_follows_the_DR_phase_rules()
    {
        // Codes 0-19, each step as likely as any other; shrinking (FsCheck's, for int arrays) drops steps and lowers codes.
        var codes = Arb.From(Gen.Choose(0, 19).ArrayOf(), ArbMap.Default.ArbFor<int[]>().Shrinker);
        var property = Prop.ForAll(codes, codes =>
        {
            DrScenario.Run(codes.Select(DrStep.FromCode));
            return true;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(1000).WithEndSize(150).WithQuietOnSuccess(true), property);
    }

    [Test]
    public void A_restored_Outage_ends_as_soon_as_the_partner_answers_three_probes()
    {
        // Issue 13 part 1: pool-b was found down and the phase stored; this pool restarts and pool-b answers.
        DrScenario.Run([DrStep.Down, DrStep.Wait(2000), DrStep.Restart, DrStep.Up, DrStep.Wait(1000)]);
    }

    [Test]
    public void A_partner_that_dies_during_the_failback_is_in_Outage_when_the_failback_ends()
    {
        // Shrunk by FsCheck from a failing sequence: the machine ended in Normal with the partner found down, and
        // since the monitor reports a verdict once, no Outage (and no orphan teardown) would ever have followed.
        DrScenario.Run([DrStep.Failover, DrStep.Wait(5000), DrStep.Wait(5000), DrStep.Failback, DrStep.Down, DrStep.Wait(5000), DrStep.Wait(5000)]);
    }

    [Test]
    public void A_restored_FailedOver_stays_until_failback_and_fails_back_once_the_partner_answers()
    {
        DrScenario.Run([DrStep.Down, DrStep.Wait(2000), DrStep.Failover, DrStep.Wait(12_000), DrStep.Restart, DrStep.Failback,
            DrStep.Up, DrStep.Wait(50), DrStep.Failback, DrStep.Wait(1000), DrStep.Failback, DrStep.Wait(12_000)]);
    }
}

/// <summary>One step of a scenario: the partner's state, a restart, an operator command, or time passing.</summary>
internal sealed record DrStep(string Kind, int Milliseconds = 0)
{
    private static readonly int[] Durations = [50, 200, 500, 1500, 5000, 12_000];

    public static readonly DrStep Up = new("up");
    public static readonly DrStep Down = new("down");
    public static readonly DrStep Restart = new("restart");
    public static readonly DrStep Failover = new("failover");
    public static readonly DrStep Failback = new("failback");

    public static DrStep Wait(int milliseconds) => new("wait", milliseconds);

    /// <summary>Half the codes are waits; FsCheck shrinks integers toward 0, so shrunk sequences read as short waits.</summary>
    public static DrStep FromCode(int code)
    {
        var magnitude = Math.Abs((long)code);
        var c = (int)(magnitude % 10);
        if (c < 5) return Wait(Durations[(int)((c + magnitude / 10) % Durations.Length)]);
        return c switch
        {
            5 => Up,
            6 => Down,
            7 => Restart,
            8 => Failover,
            _ => Failback,
        };
    }

    public override string ToString() => Kind == "wait" ? $"wait {Milliseconds} ms" : Kind;
}

/// <summary>Runs steps against the real pieces and the oracle, failing with the steps so far on the first difference.</summary>
internal static class DrScenario
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50);

    public static void Run(IEnumerable<DrStep> steps)
    {
        var health = new HealthMonitorOptions();
        var dr = new DrOptions();
        var time = new FakeTimeProvider();
        var store = new DrPhaseStore(null);
        var partnerUp = true;
        var oracle = new DrOracle(health, dr, time.GetUtcNow());
        var done = new List<DrStep>();
        PartnerTracking Boot()
        {
            var tracking = new PartnerTracking("pool-b", dr, health, _ => Task.FromResult(partnerUp), new UnmeasuredLoad(), store.Load("pool-b"), time, NullLogger.Instance);
            tracking.Machine.Changed += t => store.Save(new StoredDrPhase(t.Pool, t.To, t.At));
            tracking.Start();
            return tracking;
        }

        var pool = Boot();
        try
        {
            foreach (var step in steps)
            {
                done.Add(step);
                switch (step.Kind)
                {
                    case "up":
                        partnerUp = true;
                        oracle.PartnerUp(time.GetUtcNow());
                        break;
                    case "down":
                        partnerUp = false;
                        oracle.PartnerDown(time.GetUtcNow());
                        break;
                    case "restart":
                        pool.Dispose();
                        pool = Boot();
                        oracle.Restarted(time.GetUtcNow());
                        break;
                    case "failover":
                        Expect(pool.Machine.Failover().Accepted, oracle.Failover(time.GetUtcNow()), "failover accepted", done);
                        break;
                    case "failback":
                        Expect(pool.Machine.Failback().Accepted, oracle.Failback(time.GetUtcNow()), "failback accepted", done);
                        break;
                    default:
                        for (var waited = TimeSpan.Zero; waited < TimeSpan.FromMilliseconds(step.Milliseconds); waited += Step)
                        {
                            time.Advance(Step);
                            var problem = oracle.Observe(time.GetUtcNow(), pool.Monitor.IsHealthy);
                            if (problem is not null) Fail(problem, done, waited + Step);
                            Compare(pool, oracle, done);
                        }
                        break;
                }
                Compare(pool, oracle, done);
            }
        }
        finally
        {
            pool.Dispose();
        }
    }

    private static void Compare(PartnerTracking pool, DrOracle oracle, List<DrStep> done)
    {
        var machine = pool.Machine;
        Expect(machine.Phase, oracle.Phase, "phase", done);
        Expect(machine.UsersInResiliencyMode, DrOracle.InResiliency(oracle.Phase), "the partner's users in resiliency mode", done);
        Expect(machine.ServedByBackup, DrOracle.ServedByBackup(oracle.Phase), "this pool serves the partner's users", done);
    }

    private static void Expect<T>(T actual, T expected, string what, List<DrStep> done)
    {
        if (!EqualityComparer<T>.Default.Equals(actual, expected)) Fail($"{what}: {actual}, the rules say {expected}", done, null);
    }

    private static void Fail(string problem, List<DrStep> done, TimeSpan? into) =>
        throw new AssertionException($"{problem} after [{string.Join(", ", done)}]{(into is { } t ? $" ({t.TotalMilliseconds:0} ms into the last wait)" : "")}");
}
