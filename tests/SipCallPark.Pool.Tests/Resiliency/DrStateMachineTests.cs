using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Resiliency;

namespace SipCallPark.Pool.Tests.Resiliency;

public class DrStateMachineTests
{
    private FakeTimeProvider _time = null!;
    private List<DrTransition> _transitions = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider();
        _transitions = [];
    }

    private DrStateMachine Create(DrOptions? options = null, DrPhase initial = DrPhase.Normal, DateTimeOffset? since = null)
    {
        var machine = new DrStateMachine("pool-a", options ?? new DrOptions { FailoverDuration = TimeSpan.FromSeconds(10), FailbackDuration = TimeSpan.FromSeconds(5) }, _time, initial, since);
        machine.Changed += _transitions.Add;
        return machine;
    }

    [Test]
    public void The_full_cycle_outage_failover_failback_returns_to_normal_with_resiliency_mode_where_lync_has_it()
    {
        using var dr = Create();
        var resiliency = new List<(DrPhase, bool)>();
        dr.Changed += t => resiliency.Add((t.To, dr.UsersInResiliencyMode));
        dr.ReportHealth(false);
        Assert.That(dr.Failover().Accepted, Is.True);
        _time.Advance(TimeSpan.FromSeconds(10));
        dr.ReportHealth(true);
        Assert.That(dr.Failback().Accepted, Is.True);
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(_transitions.Select(t => t.To), Is.EqualTo(new[] { DrPhase.Outage, DrPhase.FailingOver, DrPhase.FailedOver, DrPhase.FailingBack, DrPhase.Normal }));
        Assert.That(resiliency, Is.EqualTo(new[] { (DrPhase.Outage, true), (DrPhase.FailingOver, true), (DrPhase.FailedOver, false), (DrPhase.FailingBack, true), (DrPhase.Normal, false) }));
    }

    [Test]
    public void Failover_completes_only_when_its_duration_has_passed()
    {
        using var dr = Create();
        dr.Failover();
        _time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.That(dr.Phase, Is.EqualTo(DrPhase.FailingOver));
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.That(dr.Phase, Is.EqualTo(DrPhase.FailedOver));
    }

    [Test]
    public void Failback_while_the_pool_is_down_is_refused_with_a_reason()
    {
        using var dr = Create();
        dr.ReportHealth(false);
        dr.Failover();
        _time.Advance(TimeSpan.FromSeconds(10));
        var result = dr.Failback();
        Assert.That(result.Accepted, Is.False);
        Assert.That(result.Message, Does.Contain("down"));
        Assert.That(dr.Phase, Is.EqualTo(DrPhase.FailedOver));
    }

    [TestCase(DrPhase.Normal, TestName = "Failback_in_normal_is_refused")]
    [TestCase(DrPhase.Outage, TestName = "Failback_in_outage_is_refused")]
    public void Failback_outside_failed_over_is_refused(DrPhase phase)
    {
        using var dr = Create(initial: phase);
        Assert.That(dr.Failback().Accepted, Is.False);
        Assert.That(dr.Phase, Is.EqualTo(phase));
    }

    [Test]
    public void Failover_twice_is_refused_the_second_time()
    {
        using var dr = Create();
        Assert.That(dr.Failover().Accepted, Is.True);
        Assert.That(dr.Failover().Accepted, Is.False);
    }

    [Test]
    public void A_pool_that_comes_back_before_any_failover_ends_the_outage()
    {
        using var dr = Create();
        dr.ReportHealth(false);
        dr.ReportHealth(true);
        Assert.That(dr.Phase, Is.EqualTo(DrPhase.Normal));
    }

    [Test]
    public void A_returning_pool_stays_failed_over_until_failback()
    {
        using var dr = Create();
        dr.ReportHealth(false);
        dr.Failover();
        _time.Advance(TimeSpan.FromSeconds(10));
        dr.ReportHealth(true);
        Assert.That(dr.Phase, Is.EqualTo(DrPhase.FailedOver));
        Assert.That(dr.ServedByBackup, Is.True);
    }

    [Test]
    public void Auto_failover_starts_after_the_configured_outage()
    {
        using var dr = Create(new DrOptions { AutoFailoverAfter = TimeSpan.FromSeconds(30), FailoverDuration = TimeSpan.FromSeconds(1) });
        dr.ReportHealth(false);
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.That(dr.Phase, Is.EqualTo(DrPhase.Outage));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(dr.Phase, Is.EqualTo(DrPhase.FailingOver));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(dr.Phase, Is.EqualTo(DrPhase.FailedOver));
    }

    [Test]
    public void A_failover_restored_from_the_store_completes_with_what_is_left_of_it()
    {
        var started = _time.GetUtcNow() - TimeSpan.FromSeconds(7);
        using var dr = Create(initial: DrPhase.FailingOver, since: started);
        _time.Advance(TimeSpan.FromSeconds(2.9));
        Assert.That(dr.Phase, Is.EqualTo(DrPhase.FailingOver));
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.That(dr.Phase, Is.EqualTo(DrPhase.FailedOver));
    }
}
