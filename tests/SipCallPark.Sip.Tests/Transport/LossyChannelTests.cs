using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transport;

public class LossyChannelTests
{
    private static readonly IPEndPoint Park = new(IPAddress.Parse("10.0.0.1"), 5060);
    private static readonly IPEndPoint Phone = new(IPAddress.Parse("10.0.0.2"), 5060);

    private static byte[] Bytes(string text) => Encoding.ASCII.GetBytes(text);

    private static string Request(string method, string branch, int cseq = 1) =>
        $"{method} sip:park@callpark.lab SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch={branch};rport\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n";

    private static async Task<(LossyChannel Phone, FrameCollector ParkFrames, FrameCollector PhoneFrames, InMemoryChannel Park)> LinkAsync(
        InMemoryNetwork network, double loss, TimeSpan jitter, int seed, SipProtocol protocol = SipProtocol.Udp, FakeTimeProvider? time = null)
    {
        var phone = new LossyChannel(network.Attach(Phone, protocol), loss, jitter, seed, time);
        var phoneFrames = new FrameCollector();
        await phone.StartAsync(phoneFrames.OnFrame, CancellationToken.None);
        var park = network.Attach(Park, protocol);
        var parkFrames = new FrameCollector();
        await park.StartAsync(parkFrames.OnFrame, CancellationToken.None);
        return (phone, parkFrames, phoneFrames, park);
    }

    [Test]
    public async Task Each_direction_loses_the_datagrams_its_seeded_sequence_names_and_another_seed_loses_others()
    {
        var (sent, received) = await SurvivorsAsync(7);
        var (otherSent, _) = await SurvivorsAsync(8);

        Assert.That(sent, Is.EqualTo(Predicted(7, LinkDirection.Outbound)), "the seed names the lost datagrams");
        Assert.That(received, Is.EqualTo(Predicted(7, LinkDirection.Inbound)));
        Assert.That(sent, Has.Count.InRange(140, 190), "about 20% of 200 are lost");
        Assert.That(received, Is.Not.EqualTo(sent), "each direction draws its own sequence");
        Assert.That(otherSent, Is.Not.EqualTo(sent));
    }

    private static List<int> Predicted(int seed, LinkDirection direction)
    {
        var impairment = LinkImpairment.ForDirection(0.2, TimeSpan.Zero, seed, direction);
        return [.. Enumerable.Range(0, 200).Where(_ => !impairment.Next().Dropped)];
    }

    private static async Task<(List<int> Sent, List<int> Received)> SurvivorsAsync(int seed)
    {
        var network = new InMemoryNetwork();
        var (phone, parkFrames, phoneFrames, park) = await LinkAsync(network, 0.2, TimeSpan.Zero, seed);
        var parkShouldGet = Predicted(seed, LinkDirection.Outbound).Count;
        var phoneShouldGet = Predicted(seed, LinkDirection.Inbound).Count;
        for (int i = 0; i < 200; i++)
        {
            await phone.SendAsync(Bytes($"{i}"), Park, 0, CancellationToken.None);
        }

        await parkFrames.WaitForAsync(parkShouldGet);
        for (int i = 0; i < 200; i++)
        {
            // One at a time: inbound fates are drawn in arrival order, and in-memory delivery does not keep send order.
            await park.SendAsync(Bytes($"{i}"), Phone, 0, CancellationToken.None);
            var deadline = DateTime.UtcNow + FrameCollector.Patience;
            while (phone.Ledger.Datagrams < 201 + i && DateTime.UtcNow < deadline) await Task.Delay(1);
        }

        await phoneFrames.WaitForAsync(phoneShouldGet);
        Assert.That(await parkFrames.TryWaitForAsync(parkShouldGet + 1, TimeSpan.FromMilliseconds(100)), Is.False, "no more than predicted");
        return ([.. parkFrames.Texts.Select(int.Parse).Order()], [.. phoneFrames.Texts.Select(int.Parse).Order()]);
    }

    [Test]
    public async Task A_datagram_is_delayed_by_its_drawn_fate_on_the_injected_clock()
    {
        var time = new FakeTimeProvider();
        var network = new InMemoryNetwork(time);
        var jitter = TimeSpan.FromMilliseconds(50);
        var (phone, parkFrames, _, _) = await LinkAsync(network, 0, jitter, 42, time: time);
        var expected = LinkImpairment.ForDirection(0, jitter, 42, LinkDirection.Outbound).Next();
        Assert.That(expected.Delay, Is.GreaterThan(TimeSpan.FromMilliseconds(1)).And.LessThanOrEqualTo(2 * jitter));

        await phone.SendAsync(Bytes("late"), Park, 0, CancellationToken.None);
        time.Advance(expected.Delay - TimeSpan.FromMilliseconds(1));
        Assert.That(await parkFrames.TryWaitForAsync(1, TimeSpan.FromMilliseconds(200)), Is.False, "not before its delay");
        time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.That(Encoding.ASCII.GetString((await parkFrames.WaitForAsync(1))[0].Data.Span), Is.EqualTo("late"));
    }

    [Test]
    public async Task Delays_up_to_twice_the_jitter_let_a_later_datagram_overtake_an_earlier_one()
    {
        var time = new FakeTimeProvider();
        var network = new InMemoryNetwork(time);
        var (phone, parkFrames, _, _) = await LinkAsync(network, 0, TimeSpan.FromMilliseconds(50), 3, time: time);

        for (int i = 0; i < 20; i++) await phone.SendAsync(Bytes($"{i:00}"), Park, 0, CancellationToken.None);
        time.Advance(TimeSpan.FromMilliseconds(100));
        await parkFrames.WaitForAsync(20);

        Assert.That(parkFrames.Texts, Is.EquivalentTo(Enumerable.Range(0, 20).Select(i => $"{i:00}")));
        Assert.That(parkFrames.Texts, Is.Not.Ordered, "reordered");
    }

    [Test]
    public async Task A_stream_channel_is_passed_through_without_loss()
    {
        var network = new InMemoryNetwork();
        var (phone, parkFrames, _, _) = await LinkAsync(network, 1.0, TimeSpan.Zero, 1, SipProtocol.Tcp);

        for (int i = 0; i < 10; i++) await phone.SendAsync(Bytes($"{i}"), Park, 0, CancellationToken.None);

        Assert.That((await parkFrames.WaitForAsync(10)).Count, Is.EqualTo(10));
        Assert.That(phone.Ledger.Datagrams, Is.Zero);
    }

    [Test]
    public void The_ledger_counts_a_lost_request_resent_with_its_branch_as_recovered_and_a_new_branch_as_new()
    {
        var ledger = new LossLedger();

        ledger.Record("out", Bytes(Request("INVITE", "z9hG4bKa")), dropped: true);
        ledger.Record("out", Bytes(Request("INVITE", "z9hG4bKa")), dropped: false);
        ledger.Record("out", Bytes(Request("BYE", "z9hG4bKb", 2)), dropped: true);
        ledger.Record("out", Bytes(Request("BYE", "z9hG4bKc", 2)), dropped: false);
        ledger.Record("in", Bytes("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa\r\nCSeq: 1 INVITE\r\n\r\n"), dropped: true);

        Assert.Multiple(() =>
        {
            Assert.That(ledger.Datagrams, Is.EqualTo(5));
            Assert.That(ledger.DroppedRequests, Is.EqualTo(2));
            Assert.That(ledger.DroppedResponses, Is.EqualTo(1));
            Assert.That(ledger.Retransmissions, Is.EqualTo(1), "only the INVITE was seen twice");
            Assert.That(ledger.Recovered, Is.EqualTo(1));
            Assert.That(ledger.NeverDelivered, Is.EqualTo(2), "the BYE of branch b and the 200");
        });
    }
}
