using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Admin.WebConsole;

namespace SipCallPark.Pool.Tests.Admin.WebConsole;

public class ConsoleTicketsTests
{
    [Test]
    public void A_ticket_is_good_once_within_its_lifetime()
    {
        var time = new FakeTimeProvider();
        var tickets = new ConsoleTickets(time);
        var once = tickets.Issue();
        var late = tickets.Issue();
        Assert.That(tickets.Redeem(once), Is.True);
        Assert.That(tickets.Redeem(once), Is.False, "spent");
        time.Advance(ConsoleTickets.Lifetime + TimeSpan.FromMilliseconds(1));
        Assert.That(tickets.Redeem(late), Is.False, "expired");
    }

    [Test]
    public void Tickets_are_unguessable_and_an_empty_or_oversized_one_is_refused()
    {
        var tickets = new ConsoleTickets(new FakeTimeProvider());
        var issued = Enumerable.Range(0, 50).Select(_ => tickets.Issue()).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(issued.Distinct().Count(), Is.EqualTo(50));
            Assert.That(issued.All(t => t.Length >= 43), Is.True, "256 random bits");
            Assert.That(tickets.Redeem(""), Is.False);
            Assert.That(tickets.Redeem(null), Is.False);
            Assert.That(tickets.Redeem(new string('A', 100_000)), Is.False);
        });
    }

    [Test]
    public void Open_tickets_are_bounded_the_oldest_giving_way()
    {
        var tickets = new ConsoleTickets(new FakeTimeProvider());
        var first = tickets.Issue();
        for (var i = 0; i < ConsoleTickets.MaxOutstanding; i++) tickets.Issue();
        var last = tickets.Issue();
        Assert.That(tickets.Redeem(first), Is.False);
        Assert.That(tickets.Redeem(last), Is.True);
    }
}
