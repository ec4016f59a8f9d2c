using Microsoft.Extensions.Time.Testing;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transport;

public class LogBudgetTests
{
    [Test]
    public void The_burst_is_written_then_lines_are_counted_and_reported_with_the_next_line_that_fits()
    {
        var time = new FakeTimeProvider();
        var budget = new LogBudget(perSecond: 10, burst: 3, time);

        Assert.That(Enumerable.Range(0, 3).All(_ => budget.TryTake(out var none) && none == 0), Is.True, "the burst");
        Assert.That(budget.TryTake(out _), Is.False);
        Assert.That(budget.TryTake(out _), Is.False);

        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.That(budget.TryTake(out var suppressed), Is.True, "one line back after 1/10 s");
        Assert.That(suppressed, Is.EqualTo(2));
        Assert.That(budget.TryTake(out _), Is.False);
    }

    [Test]
    public void A_quiet_budget_refills_to_its_burst_and_no_further()
    {
        var time = new FakeTimeProvider();
        var budget = new LogBudget(perSecond: 10, burst: 3, time);
        for (int i = 0; i < 3; i++) budget.TryTake(out _);

        time.Advance(TimeSpan.FromHours(1));

        Assert.That(Enumerable.Range(0, 5).Count(_ => budget.TryTake(out long _)), Is.EqualTo(3));
    }
}
