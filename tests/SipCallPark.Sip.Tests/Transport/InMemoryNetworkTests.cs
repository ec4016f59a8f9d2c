using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transport;

public class InMemoryNetworkTests
{
    private static readonly IPEndPoint Park = new(IPAddress.Parse("10.0.0.1"), 5060);
    private static readonly IPEndPoint Phone = new(IPAddress.Parse("10.0.0.2"), 5060);

    private static byte[] Bytes(string text) => Encoding.ASCII.GetBytes(text);

    private static async Task<(InMemoryChannel Channel, FrameCollector Frames)> AttachAsync(InMemoryNetwork network,
        IPEndPoint at, SipProtocol protocol = SipProtocol.Udp)
    {
        InMemoryChannel channel = network.Attach(at, protocol);
        var frames = new FrameCollector();
        await channel.StartAsync(frames.OnFrame, CancellationToken.None);
        return (channel, frames);
    }

    [Test]
    public async Task A_frame_reaches_the_channel_attached_at_the_target_address()
    {
        var network = new InMemoryNetwork();
        var (phone, _) = await AttachAsync(network, Phone);
        var (_, parkFrames) = await AttachAsync(network, Park);

        Assert.That(await phone.SendAsync(Bytes("OPTIONS"), Park, 0, CancellationToken.None), Is.True);

        ReceivedFrame frame = (await parkFrames.WaitForAsync(1))[0];
        Assert.That(Encoding.ASCII.GetString(frame.Data.Span), Is.EqualTo("OPTIONS"));
        Assert.That(frame.Remote, Is.EqualTo(new SipEndPoint(SipProtocol.Udp, Phone)));
        Assert.That(frame.Local, Is.EqualTo(Park));
        Assert.That(frame.ConnectionId, Is.Zero);
        Assert.That(phone.IsReliable, Is.False);
    }

    [Test]
    public async Task Sending_to_an_address_where_nothing_is_attached_returns_false()
    {
        var network = new InMemoryNetwork();
        var (phone, _) = await AttachAsync(network, Phone);

        Assert.That(await phone.SendAsync(Bytes("OPTIONS"), Park, 0, CancellationToken.None), Is.False);
    }

    [Test]
    public async Task A_TCP_channel_does_not_reach_a_UDP_channel_at_the_same_address()
    {
        var network = new InMemoryNetwork();
        var (phone, _) = await AttachAsync(network, Phone, SipProtocol.Tcp);
        await AttachAsync(network, Park, SipProtocol.Udp);

        Assert.That(await phone.SendAsync(Bytes("OPTIONS"), Park, 0, CancellationToken.None), Is.False);
    }

    [Test]
    public async Task Sending_returns_before_the_receiver_handles_the_frame()
    {
        var network = new InMemoryNetwork();
        var (phone, _) = await AttachAsync(network, Phone);
        InMemoryChannel park = network.Attach(Park);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handled = new FrameCollector();
        await park.StartAsync(async frame =>
        {
            await release.Task;
            await handled.OnFrame(frame);
        }, CancellationToken.None);

        // Delivered inline, the send could not complete while the handler waits for the release.
        ValueTask<bool> send = phone.SendAsync(Bytes("OPTIONS"), Park, 0, CancellationToken.None);

        Assert.That(send.IsCompletedSuccessfully, Is.True);
        release.SetResult();
        await handled.WaitForAsync(1);
    }

    [Test]
    public async Task The_sender_may_reuse_its_buffer_once_the_send_returned()
    {
        var network = new InMemoryNetwork();
        var (phone, _) = await AttachAsync(network, Phone);
        var (_, parkFrames) = await AttachAsync(network, Park);
        byte[] buffer = Bytes("first");

        await phone.SendAsync(buffer, Park, 0, CancellationToken.None);
        Bytes("XXXXX").CopyTo(buffer, 0);

        Assert.That(Encoding.ASCII.GetString((await parkFrames.WaitForAsync(1))[0].Data.Span), Is.EqualTo("first"));
    }

    [Test]
    public async Task Stream_channels_deliver_in_order_on_one_connection_and_a_reply_by_connection_id_comes_back()
    {
        var network = new InMemoryNetwork();
        var (phone, phoneFrames) = await AttachAsync(network, Phone, SipProtocol.Tcp);
        var (park, parkFrames) = await AttachAsync(network, Park, SipProtocol.Tcp);
        string[] sent = Enumerable.Range(1, 200).Select(i => $"MESSAGE {i}").ToArray();

        foreach (string text in sent)
        {
            await phone.SendAsync(Bytes(text), Park, 0, CancellationToken.None);
        }

        IReadOnlyList<ReceivedFrame> frames = await parkFrames.WaitForAsync(sent.Length);
        long connectionId = frames[0].ConnectionId;
        Assert.That(parkFrames.Texts, Is.EqualTo(sent));
        Assert.That(frames.Select(f => f.ConnectionId), Is.All.EqualTo(connectionId).And.All.Not.Zero);

        // The remote address given is wrong on purpose: the connection id decides.
        await park.SendAsync(Bytes("SIP/2.0 200 OK"), new IPEndPoint(IPAddress.Parse("10.9.9.9"), 1), connectionId,
            CancellationToken.None);
        ReceivedFrame reply = (await phoneFrames.WaitForAsync(1))[0];
        Assert.That(reply.ConnectionId, Is.EqualTo(connectionId));
        Assert.That(reply.Remote, Is.EqualTo(new SipEndPoint(SipProtocol.Tcp, Park)));
        Assert.That(park.IsReliable, Is.True);
    }

    [Test]
    public async Task A_seeded_loss_policy_drops_the_same_frames_every_time()
    {
        IReadOnlyList<string> first = await ReceivedThroughLossyLinkAsync(seed: 42);
        IReadOnlyList<string> second = await ReceivedThroughLossyLinkAsync(seed: 42);
        IReadOnlyList<string> otherSeed = await ReceivedThroughLossyLinkAsync(seed: 7);

        Assert.That(second, Is.EquivalentTo(first));
        Assert.That(first, Has.Count.InRange(100, 180), "about 30% of 200 should be lost");
        Assert.That(otherSeed, Is.Not.EquivalentTo(first));
    }

    private static async Task<IReadOnlyList<string>> ReceivedThroughLossyLinkAsync(int seed)
    {
        var network = new InMemoryNetwork();
        network.SetLinkPolicy(Phone, Park, new InMemoryLinkPolicy(dropProbability: 0.3, seed: seed));
        var (phone, _) = await AttachAsync(network, Phone);
        var (_, parkFrames) = await AttachAsync(network, Park);

        for (int i = 0; i < 200; i++)
        {
            Assert.That(await phone.SendAsync(Bytes($"frame {i}"), Park, 0, CancellationToken.None), Is.True);
        }

        // Drops are decided while sending, so the number to wait for is known now.
        await parkFrames.WaitForAsync(200 - (int)network.DroppedFrames);
        return parkFrames.Texts;
    }

    [Test]
    public async Task A_link_policy_applies_in_its_own_direction_only()
    {
        var network = new InMemoryNetwork();
        network.SetLinkPolicy(Phone, Park, new InMemoryLinkPolicy(dropProbability: 1));
        var (phone, phoneFrames) = await AttachAsync(network, Phone);
        var (park, _) = await AttachAsync(network, Park);

        await phone.SendAsync(Bytes("lost"), Park, 0, CancellationToken.None);
        await park.SendAsync(Bytes("arrives"), Phone, 0, CancellationToken.None);

        Assert.That((await phoneFrames.WaitForAsync(1)).Single().Data.ToArray(), Is.EqualTo(Bytes("arrives")));
        Assert.That(network.DroppedFrames, Is.EqualTo(1));
    }

    [Test]
    public async Task A_delayed_frame_arrives_only_once_the_injected_clock_has_moved_by_the_delay()
    {
        var time = new FakeTimeProvider();
        DateTimeOffset sentAt = time.GetUtcNow();
        var network = new InMemoryNetwork(time, new InMemoryLinkPolicy(delay: TimeSpan.FromSeconds(2)));
        var (phone, _) = await AttachAsync(network, Phone);
        var (_, parkFrames) = await AttachAsync(network, Park);

        await phone.SendAsync(Bytes("late"), Park, 0, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(1.9));

        Assert.That(await parkFrames.TryWaitForAsync(1, TimeSpan.FromMilliseconds(200)), Is.False);
        time.Advance(TimeSpan.FromSeconds(0.1));
        ReceivedFrame frame = (await parkFrames.WaitForAsync(1))[0];
        Assert.That(frame.ReceivedAt, Is.EqualTo(sentAt + TimeSpan.FromSeconds(2)));
    }

    [Test]
    public async Task Delayed_stream_frames_still_arrive_in_order()
    {
        var time = new FakeTimeProvider();
        var network = new InMemoryNetwork(time, new InMemoryLinkPolicy(delay: TimeSpan.FromMilliseconds(500)));
        var (phone, _) = await AttachAsync(network, Phone, SipProtocol.Tcp);
        var (_, parkFrames) = await AttachAsync(network, Park, SipProtocol.Tcp);

        for (int i = 0; i < 20; i++)
        {
            await phone.SendAsync(Bytes($"frame {i}"), Park, 0, CancellationToken.None);
        }

        time.Advance(TimeSpan.FromSeconds(1));
        await parkFrames.WaitForAsync(20);
        Assert.That(parkFrames.Texts, Is.EqualTo(Enumerable.Range(0, 20).Select(i => $"frame {i}")));
    }

    [Test]
    public async Task A_disposed_channel_is_no_longer_reachable()
    {
        var network = new InMemoryNetwork();
        var (phone, _) = await AttachAsync(network, Phone);
        var (park, _) = await AttachAsync(network, Park);

        await park.DisposeAsync();

        Assert.That(await phone.SendAsync(Bytes("OPTIONS"), Park, 0, CancellationToken.None), Is.False);
    }

    [Test]
    public void Attaching_twice_at_one_address_throws_and_port_zero_picks_a_free_port()
    {
        var network = new InMemoryNetwork();
        network.Attach(Park);

        Assert.That(() => network.Attach(Park), Throws.InvalidOperationException);
        Assert.That(network.Attach(Park, SipProtocol.Tcp).LocalEndPoint, Is.EqualTo(Park));
        InMemoryChannel first = network.Attach(new IPEndPoint(Park.Address, 0));
        InMemoryChannel second = network.Attach(new IPEndPoint(Park.Address, 0));
        Assert.That(first.LocalEndPoint.Port, Is.Not.Zero.And.Not.EqualTo(second.LocalEndPoint.Port));
    }

    [Test]
    public void A_drop_probability_outside_zero_to_one_is_refused()
    {
        Assert.That(() => new InMemoryLinkPolicy(dropProbability: 1.5),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("dropProbability"));
    }
}
