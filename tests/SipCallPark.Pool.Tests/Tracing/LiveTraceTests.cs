using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Tracing;
using SipCallPark.Sip.Transport;
using static SipCallPark.Pool.Tests.Tracing.TraceSamples;

namespace SipCallPark.Pool.Tests.Tracing;

public class LiveTraceTests
{
    private static readonly DateTimeOffset Now = new(2025, 3, 1, 9, 30, 15, 250, TimeSpan.Zero);

    private static List<TraceMessageDto> Drain(TraceSubscription subscription)
    {
        var messages = new List<TraceMessageDto>();
        while (subscription.Messages.TryRead(out var m)) messages.Add(m);
        return messages;
    }

    [Test]
    public void A_subscriber_gets_each_message_summarised_with_the_time_it_passed()
    {
        var trace = new LiveTrace(new FakeTimeProvider(Now));
        using var subscription = trace.Subscribe(TraceFilter.All, withText: false);

        trace.Observe(Event(SipDirection.Out, Request("INVITE")));

        var message = Drain(subscription).Single();
        Assert.Multiple(() =>
        {
            Assert.That(message.Time, Is.EqualTo(Now));
            Assert.That(message.Direction, Is.EqualTo(SipDirection.Out));
            Assert.That(message.Transport, Is.EqualTo("udp"));
            Assert.That(message.Local, Is.EqualTo("127.0.0.1:5060"));
            Assert.That(message.Remote, Is.EqualTo("127.0.0.1:5070"));
            Assert.That(message.FirstLine, Is.EqualTo("INVITE sip:bob@callpark.lab SIP/2.0"));
            Assert.That(message.CallId, Is.EqualTo("trace-1@127.0.0.1"));
            Assert.That(message.CSeq, Is.EqualTo("1 INVITE"));
            Assert.That(message.FromUser, Is.EqualTo("alice"));
            Assert.That(message.ToUser, Is.EqualTo("bob"));
            Assert.That(message.Text, Is.Null);
        });
    }

    [Test]
    public void Only_a_subscriber_that_asked_for_text_gets_the_whole_message()
    {
        var trace = new LiveTrace(TimeProvider.System);
        using var plain = trace.Subscribe(TraceFilter.All, withText: false);
        using var full = trace.Subscribe(TraceFilter.All, withText: true);

        trace.Observe(Event(SipDirection.In, Request("OPTIONS")));

        Assert.That(Drain(plain).Single().Text, Is.Null);
        Assert.That(Drain(full).Single().Text, Is.EqualTo(Request("OPTIONS")));
    }

    [Test]
    public void Each_subscriber_sees_only_what_its_filter_passes()
    {
        var trace = new LiveTrace(TimeProvider.System);
        using var alice = trace.Subscribe(new TraceFilter(User: "alice"), withText: false);
        using var carol = trace.Subscribe(new TraceFilter(User: "carol"), withText: false);

        trace.Observe(Event(SipDirection.In, Request("INVITE", from: "alice", to: "bob")));
        trace.Observe(Event(SipDirection.In, Request("INVITE", from: "carol", to: "dave", callId: "trace-2")));

        Assert.That(Drain(alice).Select(m => m.FromUser), Is.EqualTo(new[] { "alice" }));
        Assert.That(Drain(carol).Select(m => m.FromUser), Is.EqualTo(new[] { "carol" }));
    }

    [Test]
    public void A_full_queue_drops_its_oldest_messages_and_counts_them_without_blocking()
    {
        var metrics = new SipMetrics();
        var trace = new LiveTrace(TimeProvider.System, capacity: 3, metrics);
        using var subscription = trace.Subscribe(TraceFilter.All, withText: false);

        for (var i = 1; i <= 5; i++) trace.Observe(Event(SipDirection.In, Request("OPTIONS", callId: $"call-{i}")));

        Assert.That(subscription.TakeDropped(), Is.EqualTo(2));
        Assert.That(subscription.TakeDropped(), Is.EqualTo(0), "taking the count resets it");
        Assert.That(Drain(subscription).Select(m => m.CallId), Is.EqualTo(new[] { "call-3", "call-4", "call-5" }));
        Assert.That(metrics.Render(), Does.Contain("sipcallpark_trace_dropped_total 2\n"));
    }

    [Test]
    public void A_disposed_subscription_is_removed_and_its_queue_completed()
    {
        var trace = new LiveTrace(TimeProvider.System);
        var subscription = trace.Subscribe(TraceFilter.All, withText: false);
        Assert.That(trace.SubscriberCount, Is.EqualTo(1));

        subscription.Dispose();
        trace.Observe(Event(SipDirection.In, Request("OPTIONS")));

        Assert.That(trace.SubscriberCount, Is.EqualTo(0));
        Assert.That(subscription.Messages.Completion.IsCompleted, Is.True);
        Assert.That(subscription.Messages.TryRead(out _), Is.False);
    }
}
