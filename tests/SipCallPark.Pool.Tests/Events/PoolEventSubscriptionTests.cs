using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Pool.Events;
using SipCallPark.Pool.Resiliency;

namespace SipCallPark.Pool.Tests.Events;

public sealed class PoolEventSubscriptionTests
{
    private static readonly PoolEvent Sample = new DrPhaseChanged(DateTimeOffset.UnixEpoch, "pool-a", DrPhase.Normal, DrPhase.Outage, "test");

    [Test]
    public void Disposing_one_of_two_subscriptions_of_the_same_handler_keeps_the_other()
    {
        var stream = new PoolEventStream(NullLogger<PoolEventStream>.Instance);
        var heard = 0;
        Action<PoolEvent> handler = _ => heard++;
        var first = stream.Subscribe(handler);
        using var second = stream.Subscribe(handler);

        first.Dispose();
        stream.Publish(Sample);

        Assert.Multiple(() =>
        {
            Assert.That(stream.SubscriberCount, Is.EqualTo(1));
            Assert.That(heard, Is.EqualTo(1), "the second subscription still hears the stream");
        });
    }
}
