using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Admin.WebConsole;

namespace SipCallPark.Pool.Tests.Admin.WebConsole;

public class ConsoleEventsTests
{
    private static OrbitEventDto Free(string orbit) => new("orbitFree", orbit, DateTimeOffset.UnixEpoch, null);

    [Test]
    public void A_client_that_reads_nothing_is_dropped_when_its_queue_is_full_and_publishing_never_waits()
    {
        var metrics = new SipMetrics();
        var events = new ConsoleEvents(new FakeTimeProvider(), [], queueCapacity: 4, metrics: metrics);
        using var slow = events.Subscribe();
        using var reader = events.Subscribe();

        for (var i = 0; i < 10; i++)
        {
            events.PublishOrbit(Free($"70{i:00}"));
            Assert.That(reader.Frames.TryRead(out _), Is.True, "the client that reads keeps up");
        }

        Assert.Multiple(() =>
        {
            Assert.That(slow.WasDropped, Is.True);
            Assert.That(reader.WasDropped, Is.False);
            Assert.That(events.SubscriberCount, Is.EqualTo(1), "the dropped client no longer costs the pool anything");
            Assert.That(metrics.Count(ConsoleEvents.DroppedMetric), Is.EqualTo(1));
            Assert.That(slow.Frames.Completion.IsCompleted, Is.False, "it still reads what it had queued, then its stream ends");
        });
        var queued = 0;
        while (slow.Frames.TryRead(out _)) queued++;
        Assert.That(queued, Is.EqualTo(4));
        Assert.That(slow.Frames.Completion.IsCompleted, Is.True);
    }

    [Test]
    public void Each_event_is_one_sse_frame_named_after_its_kind()
    {
        var events = new ConsoleEvents(new FakeTimeProvider(), []);
        using var client = events.Subscribe();
        events.PublishRegistration(new RegistrationEventDto("sip:alice@callpark.lab", DateTimeOffset.UnixEpoch, []));
        Assert.That(client.Frames.TryRead(out var frame), Is.True);
        Assert.That(frame, Is.EqualTo("event: registration\ndata: {\"aor\":\"sip:alice@callpark.lab\",\"at\":\"1970-01-01T00:00:00+00:00\",\"bindings\":[]}\n\n"));
    }

    [Test]
    public void The_DR_timeline_keeps_the_last_hundred_transitions_with_the_seed_tables_names()
    {
        var events = new ConsoleEvents(new FakeTimeProvider(), []);
        for (var i = 0; i < ConsoleEvents.TimelineLength + 5; i++)
            events.PublishDr(new DrTransitionDto("pool-b", "Normal", "Outage", ConsoleEvents.SeedName("Outage"), $"#{i}", DateTimeOffset.UnixEpoch), []);
        var timeline = events.Timeline();
        Assert.Multiple(() =>
        {
            Assert.That(timeline, Has.Count.EqualTo(ConsoleEvents.TimelineLength));
            Assert.That(timeline[0].Reason, Is.EqualTo("#5"), "the oldest went first");
            Assert.That(timeline[0].Seed, Is.EqualTo("when the outage occurs"));
            Assert.That(ConsoleEvents.SeedName("FailingOver"), Is.EqualTo("during failover"));
            Assert.That(ConsoleEvents.SeedName("FailingBack"), Is.EqualTo("during failback"));
        });
    }
}
