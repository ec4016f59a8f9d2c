using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Admin.WebConsole;

namespace SipCallPark.Pool.Tests.Admin.WebConsole;

public class ConsoleSamplerTests
{
    private sealed class Readings : IConsoleReadings
    {
        public string OwnPhase = "Normal";
        public long Requests;

        public IReadOnlyList<DrPhaseDto> Phases() =>
            [new("pool-a", OwnPhase, "pool-b", null, null), new("pool-b", "Normal", "pool-a", true, null)];

        public long RequestsReceived() => Requests;

        public int ParkedCalls() => 3;

        public int RtpStreams() => 2;

        public long RssBytes() => 1234;
    }

    [Test]
    public void A_sample_every_interval_carries_the_request_rate_since_the_last_one()
    {
        var time = new FakeTimeProvider();
        var readings = new Readings();
        var events = new ConsoleEvents(time, []);
        using var sampler = new ConsoleSampler(events, readings, time);

        readings.Requests = 50;
        time.Advance(ConsoleSampler.DefaultMetricsInterval);

        var sample = events.Samples().Single();
        Assert.Multiple(() =>
        {
            Assert.That(sample.RequestsPerSecond, Is.EqualTo(10));
            Assert.That(sample.Parked, Is.EqualTo(3));
            Assert.That(sample.RtpStreams, Is.EqualTo(2));
            Assert.That(sample.RssBytes, Is.EqualTo(1234));
        });
    }

    [Test]
    public void Fifteen_minutes_of_samples_are_kept()
    {
        var time = new FakeTimeProvider();
        var events = new ConsoleEvents(time, []);
        using var sampler = new ConsoleSampler(events, new Readings(), time);
        for (var i = 0; i < 200; i++) time.Advance(ConsoleSampler.DefaultMetricsInterval);
        Assert.That(events.Samples(), Has.Count.EqualTo(180));
    }

    [Test]
    public void This_pools_own_phase_reported_by_the_partner_goes_onto_the_timeline_once()
    {
        var time = new FakeTimeProvider();
        var readings = new Readings();
        var events = new ConsoleEvents(time, []);
        using var client = events.Subscribe();
        using var sampler = new ConsoleSampler(events, readings, time);

        readings.OwnPhase = "FailedOver";
        time.Advance(ConsoleSampler.CheckInterval);
        time.Advance(ConsoleSampler.CheckInterval);

        var transition = events.Timeline().Single();
        Assert.Multiple(() =>
        {
            Assert.That(transition.Pool, Is.EqualTo("pool-a"));
            Assert.That((transition.From, transition.To), Is.EqualTo(("Normal", "FailedOver")));
            Assert.That(client.Frames.TryRead(out var frame) && frame.StartsWith("event: dr\n", StringComparison.Ordinal), Is.True);
        });
    }

    [Test]
    public void A_partner_transition_reported_with_its_reason_is_not_counted_again_by_the_comparison()
    {
        var time = new FakeTimeProvider();
        var readings = new Readings();
        var events = new ConsoleEvents(time, []);
        using var sampler = new ConsoleSampler(events, readings, time);

        readings.OwnPhase = "Outage";
        sampler.OnTransition("pool-a", "Normal", "Outage", "pool stopped answering", time.GetUtcNow());
        time.Advance(ConsoleSampler.CheckInterval);

        Assert.That(events.Timeline().Select(t => t.Reason), Is.EqualTo(new[] { "pool stopped answering" }));
    }
}
