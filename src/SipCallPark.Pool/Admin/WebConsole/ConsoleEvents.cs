using System.Text;
using System.Text.Json;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Metrics;

namespace SipCallPark.Pool.Admin.WebConsole;

/// <summary>
/// The pool's events for the web console (<c>GET /events</c>, docs/design.md §8 "Web console"): park, retrieve, timeout,
/// orbit free, registration and DR phase changes, and a metrics sample every few seconds. Each event is serialized once
/// and offered to every subscriber's bounded queue; publishing never waits. It also keeps what a page needs on
/// arrival that the admin API does not hold: the DR timeline and the last 15 minutes of samples.
/// </summary>
public sealed class ConsoleEvents
{
    /// <summary>Frames a client may fall behind before it is dropped.</summary>
    public const int DefaultQueueCapacity = 256;

    /// <summary>DR transitions the timeline keeps.</summary>
    public const int TimelineLength = 100;

    public const string DroppedMetric = "console_clients_dropped_total";
    private const string DroppedHelp = "Web console clients dropped because they read events too slowly";

    private readonly Lock _gate = new();
    private readonly SipMetrics? _metrics;
    private readonly Queue<DrTransitionDto> _timeline = new();
    private readonly Queue<MetricsSampleDto> _samples = new();
    private ConsoleSubscription[] _subscribers = [];

    public ConsoleEvents(TimeProvider time, IReadOnlyList<string> orbitRanges, int queueCapacity = DefaultQueueCapacity, SipMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(orbitRanges);
        ArgumentOutOfRangeException.ThrowIfLessThan(queueCapacity, 2);
        Time = time;
        OrbitRanges = orbitRanges;
        QueueCapacity = queueCapacity;
        _metrics = metrics;
        metrics?.Add(DroppedMetric, DroppedHelp, 0);
    }

    public TimeProvider Time { get; }

    /// <summary>This pool's orbit ranges as the topology names them (<c>7000-7099</c>): the lamps the page draws.</summary>
    public IReadOnlyList<string> OrbitRanges { get; }

    public int QueueCapacity { get; }

    /// <summary>How often <see cref="ConsoleSampler"/> samples, for the page's time axis.</summary>
    public TimeSpan SampleInterval { get; init; } = ConsoleSampler.DefaultMetricsInterval;

    /// <summary>Samples kept: 15 minutes at <see cref="SampleInterval"/>.</summary>
    public int SampleCapacity => Math.Max(1, (int)(TimeSpan.FromMinutes(15) / SampleInterval));

    public int SubscriberCount => Volatile.Read(ref _subscribers).Length;

    public ConsoleSubscription Subscribe()
    {
        var subscription = new ConsoleSubscription(this, QueueCapacity);
        lock (_gate) _subscribers = [.. _subscribers, subscription];
        return subscription;
    }

    public void PublishOrbit(OrbitEventDto e) => Publish("orbit", e);

    public void PublishRegistration(RegistrationEventDto e) => Publish("registration", e);

    /// <summary>Adds the transition to the timeline and tells every client.</summary>
    public void PublishDr(DrTransitionDto transition, IReadOnlyList<DrPhaseDto> pools)
    {
        lock (_gate)
        {
            _timeline.Enqueue(transition);
            while (_timeline.Count > TimelineLength) _timeline.Dequeue();
        }
        Publish("dr", new DrEventDto(transition, pools));
    }

    public void PublishSample(MetricsSampleDto sample)
    {
        lock (_gate)
        {
            _samples.Enqueue(sample);
            while (_samples.Count > SampleCapacity) _samples.Dequeue();
        }
        Publish("metrics", sample);
    }

    public IReadOnlyList<DrTransitionDto> Timeline()
    {
        lock (_gate) return [.. _timeline];
    }

    public IReadOnlyList<MetricsSampleDto> Samples()
    {
        lock (_gate) return [.. _samples];
    }

    /// <summary>One SSE frame: the event name, then the JSON on a single <c>data:</c> line (JSON escapes every line
    /// break inside strings, so a SIP header value cannot start a field of its own).</summary>
    public static string Frame<T>(string name, T value) =>
        new StringBuilder().Append("event: ").Append(name).Append("\ndata: ").Append(JsonSerializer.Serialize(value, AdminJson.Options)).Append("\n\n").ToString();

    private void Publish<T>(string name, T value)
    {
        var subscribers = Volatile.Read(ref _subscribers);
        if (subscribers.Length == 0) return;
        var frame = Frame(name, value);
        foreach (var subscriber in subscribers) subscriber.Offer(frame);
    }

    internal void OnDropped(ConsoleSubscription subscription)
    {
        Remove(subscription);
        _metrics?.Increment(DroppedMetric, DroppedHelp);
    }

    internal void Remove(ConsoleSubscription subscription)
    {
        lock (_gate) _subscribers = Array.FindAll(_subscribers, s => !ReferenceEquals(s, subscription));
    }

    /// <summary>The phase names of the seed table (docs/design.md §6) beside the DrPhase names.</summary>
    public static string SeedName(string phase) => phase switch
    {
        "Normal" => "normal",
        "Outage" => "when the outage occurs",
        "FailingOver" => "during failover",
        "FailedOver" => "failover complete",
        "FailingBack" => "during failback",
        _ => phase,
    };
}
