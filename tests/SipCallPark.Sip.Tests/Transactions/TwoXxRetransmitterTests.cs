using System.Net;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;
using static SipCallPark.Sip.Tests.Transactions.TransactionHarness;

namespace SipCallPark.Sip.Tests.Transactions;

public class TwoXxRetransmitterTests
{
    private static (TwoXxRetransmitter Retransmitter, RecordingSender Sender, TransactionHarness Harness) Start(SipProtocol protocol = SipProtocol.Udp)
    {
        var h = new TransactionHarness();
        var invite = Request();
        var incoming = new IncomingMessage(invite, PeerEndPoint(protocol), Local, 0, h.Time.GetUtcNow());
        var retransmitter = new TwoXxRetransmitter(h.Sender, Response(invite, 200), incoming, h.Options, h.Time);
        retransmitter.Start();
        return (retransmitter, h.Sender, h);
    }

    [Test]
    public async Task The_2xx_is_resent_at_T1_doubling_to_T2_and_given_up_after_64_T1()
    {
        var (retransmitter, sender, h) = Start();

        h.AdvanceMs(31_990);
        Assert.That(retransmitter.Completion.IsCompleted, Is.False);
        h.AdvanceMs(10);
        var outcome = await Within(retransmitter.Completion);

        Assert.Multiple(() =>
        {
            Assert.That(sender.Responses(200).Select(s => s.At.TotalMilliseconds),
                Is.EqualTo(new double[] { 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500 }));
            Assert.That(retransmitter.Retransmissions, Is.EqualTo(10));
            Assert.That(outcome, Is.EqualTo(TwoXxOutcome.TimedOut));
        });
    }

    [Test]
    public async Task The_ack_stops_the_retransmissions()
    {
        var (retransmitter, sender, h) = Start();
        h.AdvanceMs(2_000);

        retransmitter.Acknowledge();
        h.AdvanceMs(40_000);

        Assert.That(sender.Responses(200), Has.Count.EqualTo(2));
        Assert.That(await Within(retransmitter.Completion), Is.EqualTo(TwoXxOutcome.Acknowledged));
    }

    [Test]
    public async Task Over_tcp_nothing_is_resent_but_a_missing_ack_still_times_out()
    {
        var (retransmitter, sender, h) = Start(SipProtocol.Tcp);

        h.AdvanceMs(32_000);

        Assert.That(sender.Sent, Is.Empty);
        Assert.That(await Within(retransmitter.Completion), Is.EqualTo(TwoXxOutcome.TimedOut));
    }

    [Test]
    public async Task Disposing_stops_it()
    {
        var (retransmitter, sender, h) = Start();

        retransmitter.Dispose();
        h.AdvanceMs(5_000);

        Assert.That(sender.Sent, Is.Empty);
        Assert.That(await Within(retransmitter.Completion), Is.EqualTo(TwoXxOutcome.Stopped));
    }

    [Test]
    public void Only_a_2xx_can_be_retransmitted()
    {
        var time = new FakeTimeProvider();
        var invite = Request();
        var incoming = new IncomingMessage(invite, PeerEndPoint(), new IPEndPoint(IPAddress.Loopback, 5060), 0, time.GetUtcNow());

        Assert.Throws<ArgumentException>(() =>
            _ = new TwoXxRetransmitter(new RecordingSender(time), Response(invite, 486), incoming, new TransactionOptions(), time));
    }
}
